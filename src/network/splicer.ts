/**
 * The native side of the proxy (proxy.ts): `warden-netns splice` (native/warden-netns.c), one helper
 * per proxy, holds each run's listener, where the run's in-sandbox relay passes every accepted
 * connection's socket; the helper hands it to the proxy over node's IPC channel. Once the proxy has
 * judged a connection and opened its upstream, both sockets go back to the helper, which relays the
 * pair with splice(2) in its own poll loop (no process per connection). The bytes then move between socket buffers in the kernel instead of through
 * node (a read and a write of every 64 KiB chunk in JavaScript, on the event loop every run shares),
 * through one relay, not two. Does I/O: spawns the helper on first use. Without a helper a run with
 * domains cannot start (it would have no way out); a helper that dies takes its runs' way out with it
 * (closed, not open) and the next run starts a fresh one. The helper and the connections it holds die
 * with this process (PR_SET_PDEATHSIG) and with `close()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';

/** The relay and splice helper, built by `npm run build` (scripts/build-native.mjs) from native/warden-netns.c. */
export const NETNS_HELPER = fileURLToPath(new URL('../../native/build/warden-netns', import.meta.url));

/** node's stream handle under a net.Socket (TCP or Pipe wrap): the one thing the hand-off needs from node's internals. */
interface StreamHandle {
  reading?: boolean;
  readStop(): number;
}

function handleOf(s: Socket): StreamHandle | null {
  return ((s as unknown as { _handle?: StreamHandle | null })._handle ?? null) as StreamHandle | null;
}

/** node's own Readable._read of a socket, put back by resumeReading. */
const NO_READ = (): void => {};

/**
 * Stops node reading `s` into its own buffers, and keeps it stopped, so every byte not yet taken
 * stays in the kernel for whoever reads the socket next (the helper, or a pipe after resumeReading).
 * Stopping the handle alone is not enough: a paused stream still fills its buffer up to its
 * highWaterMark, and the read-ahead node schedules after every chunk (Readable's maybeReadMore)
 * calls _read(), which starts the handle again; bytes it read after the hand-over check were lost
 * with node's copy of the socket (a CONNECT client's first request, when several connections were
 * handed over at once). So _read is a no-op on this socket until resumeReading. Clearing `reading`
 * is what node does itself when it stops a read (stream_base_commons onStreamRead).
 */
export function stopReading(s: Socket): void {
  const h = handleOf(s);
  if (h === null) return;
  (s as unknown as { _read: (n: number) => void })._read = NO_READ;
  h.reading = false;
  h.readStop();
}

/** Undoes stopReading: node's own _read again, so resume() or pipe() reads the socket. */
export function resumeReading(s: Socket): void {
  const own = s as unknown as { _read?: unknown };
  if (own._read === NO_READ) delete own._read;
}

/** A run's listener in the helper: where its relay's connections go (proxy.ts judges them). */
export type ConnectionHandler = (client: Socket) => void;

export class Splicer {
  private child: ChildProcess | null = null;
  private unavailable = false;
  private pairs = 0;
  private readonly handlers = new Map<number, ConnectionHandler>();
  private readonly listening = new Map<number, { ok: () => void; fail: (err: Error) => void }>();

  constructor(private readonly helper: string = NETNS_HELPER) {}

  private running(): ChildProcess | null {
    if (this.unavailable) return null;
    if (this.child !== null && this.child.connected) return this.child;
    let child: ChildProcess;
    try {
      child = spawn(this.helper, ['splice'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    } catch {
      this.unavailable = true;
      return null;
    }
    const gone = (err: Error) => {
      if (this.child !== child) return;
      this.child = null; // the next run starts a fresh one
      // Its listeners went with it: those runs' relays now find nothing to connect to (closed, not open).
      this.handlers.clear();
      for (const w of this.listening.values()) w.fail(err);
      this.listening.clear();
    };
    child.on('error', (err) => {
      this.unavailable = true; // not built, not executable
      gone(err);
    });
    child.on('exit', () => gone(new Error('the splice helper exited')));
    child.on('message', (m: { listening?: number; notListening?: number; connection?: number }, socket?: Socket) => {
      if (m.connection !== undefined) {
        const handler = this.handlers.get(m.connection);
        if (handler !== undefined && socket !== undefined) handler(socket);
        else socket?.destroy(); // its run is over: nothing is judged for it any more
        return;
      }
      const run = m.listening ?? m.notListening;
      const waiter = run === undefined ? undefined : this.listening.get(run);
      if (run === undefined || waiter === undefined) return;
      this.listening.delete(run);
      if (this.listening.size === 0) child.channel?.unref();
      if (m.listening !== undefined) waiter.ok();
      else waiter.fail(new Error(`the splice helper could not listen for run ${run}`));
    });
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }

  /**
   * Has the helper listen on `path` for run `run`'s relay, which passes each accepted connection's
   * socket there; the helper hands it to `onConnection`. Rejects when there is no helper: the run
   * then has no way out (fail closed).
   */
  listen(run: number, path: string, onConnection: ConnectionHandler): Promise<void> {
    // The helper reads the path without JSON unescaping; mkdtemp under tmpdir gives none of these.
    if (/["\\\n]/.test(path)) return Promise.reject(new Error(`unusable socket path ${JSON.stringify(path)}`));
    const child = this.running();
    if (child === null) return Promise.reject(new Error(`the splice helper ${this.helper} cannot start`));
    return new Promise<void>((ok, fail) => {
      this.listening.set(run, { ok, fail });
      this.handlers.set(run, onConnection);
      child.channel?.ref(); // the answer must arrive even when nothing else keeps the process alive
      child.send({ listen: run, path }, (err) => {
        if (err) {
          this.listening.delete(run);
          this.handlers.delete(run);
          fail(err);
        }
      });
    }).catch((err: Error) => {
      this.handlers.delete(run);
      if (this.listening.size === 0) child.channel?.unref();
      throw err;
    });
  }

  /**
   * Hands `a` and `b` to the helper, tagged with `run` so `closeRun` can end them; false, with nothing
   * done, when there is no helper or node still holds bytes of either socket (then the caller pipes).
   * Both sockets must have stopped reading (stopReading) and finished their writes.
   */
  hand(run: number, a: Socket, b: Socket): boolean {
    const ha = handleOf(a);
    const hb = handleOf(b);
    if (ha === null || hb === null || a.readableLength > 0 || b.readableLength > 0 || a.writableLength > 0 || b.writableLength > 0) {
      return false;
    }
    const child = this.running();
    if (child === null) return false;
    const pair = this.pairs++;
    // Each socket is closed here once its fd is on its way (the helper holds its own copy); a failed
    // send closes it too: the connection ends, it is never opened wider.
    child.send({ pair, run }, ha as unknown as Socket, () => a.destroy());
    child.send({ pair, run }, hb as unknown as Socket, () => b.destroy());
    return true;
  }

  /**
   * Run `run` is over: no connection of it reaches its handler from now on, and the helper closes its
   * listener and ends the connections it holds.
   */
  closeRun(run: number): void {
    this.handlers.delete(run);
    if (this.child !== null && this.child.connected) this.child.send({ close: run }, () => {});
  }

  /** Ends the helper, its listeners and every connection it holds. */
  close(): void {
    const child = this.child;
    this.child = null;
    this.handlers.clear();
    for (const w of this.listening.values()) w.fail(new Error('the proxy is closed'));
    this.listening.clear();
    child?.kill('SIGKILL');
  }
}
