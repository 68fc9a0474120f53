/**
 * Where every domain proxy of this user keeps its per-run socket directories: one 0700 folder,
 * `warden-net-UID` in /dev/shm (else the temp directory), which every sandbox covers with an empty
 * tmpfs and in which it sees only its own run's directory (bwrapArgs.ts `socketRoot`). Red team: the
 * directories were made in /tmp, writable to every sandboxed command of the user; a command of
 * another run (no network at all: its filter lets it bind a Unix socket) moved a proxy run's
 * `proxy.sock` aside and bound its own at that path, and the proxy run's relay connected to it,
 * handing it the run's traffic (the plain-HTTP requests with the credentials that run keeps). Kept
 * free of the proxy's own imports: every sandboxed run names this folder. Does I/O (creates and
 * checks the folder, once per process).
 */
import { sharedPrivateDir } from '../privateFiles.ts';

/** The folder (made on first call); throws when the name is not a 0700 directory of this user's (fail closed). */
export function proxySocketRoot(): string {
  return sharedPrivateDir('net', 'no domain proxy socket can be kept there');
}
