/** Test servers listen on 127.0.0.1 only (the machine's network is closed; nothing else may reach them). */
import type { Server } from 'node:net';

/** Starts `server` on a free port of 127.0.0.1 and returns the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  return (server.address() as { port: number }).port;
}
