/**
 * The processes at the other end of a connection to the inspector, so a decision from its page is
 * judged by who sent it, like one from `warden approve` (src/requests/deciderCheck.ts): a command
 * warden runs that holds the token (a bare run can read it) could otherwise POST a decision with
 * curl. The connection is found in /proc/net/tcp(6) by its two ports, its socket inode is matched
 * against every process's open descriptors, and each holder's identity is read. When no holder
 * can be found (another user's process, /proc unreadable, not Linux) the result is one identity
 * with a `problem`, which the check refuses: a peer warden cannot name is not a person.
 * I/O: reads /proc.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Decider } from '../events/types.ts';
import { readDecider } from '../requests/processIdentity.ts';

const LOOPBACK_V4 = '0100007F';
const V4_MAPPED_LOOPBACK = '0000000000000000FFFF00000100007F';

/** Whether a /proc/net/tcp address (`0100007F:1F90`) is 127.0.0.1:port. Pure. */
function isLoopbackPort(address: string, port: number): boolean {
  const [host, hexPort] = address.split(':');
  if (hexPort === undefined || Number.parseInt(hexPort, 16) !== port) return false;
  return host === LOOPBACK_V4 || host === V4_MAPPED_LOOPBACK;
}

/**
 * The socket inodes of the client side of a connection from 127.0.0.1:peerPort to
 * 127.0.0.1:serverPort, from the text of /proc/net/tcp and tcp6. Pure.
 */
export function clientSocketInodes(tables: string[], peerPort: number, serverPort: number): string[] {
  const inodes: string[] = [];
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (isLoopbackPort(f[1]!, peerPort) && isLoopbackPort(f[2]!, serverPort) && f[9] !== '0') inodes.push(f[9]!);
    }
  }
  return inodes;
}

/** Every pid that holds one of these sockets open. */
function holders(inodes: string[]): number[] {
  const wanted = new Set(inodes.map((i) => `socket:[${i}]`));
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${name}/fd/${fd}`))) {
          pids.push(Number(name));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return pids;
}

function unknownPeer(problem: string): Decider {
  return { pid: 0, host: hostname(), user: 'unknown', uid: null, tty: null, found: 'socket', mark: null, chain: [], problem };
}

/** The identities of the processes holding the client end of this connection; never empty. */
export function peerDeciders(peerPort: number | undefined, serverPort: number): Decider[] {
  if (peerPort === undefined) return [unknownPeer('the connection has no peer port')];
  try {
    const tables = ['/proc/net/tcp', '/proc/net/tcp6'].map((path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return '';
      }
    });
    const inodes = clientSocketInodes(tables, peerPort, serverPort);
    if (inodes.length === 0) return [unknownPeer(`no connection from 127.0.0.1:${peerPort} in /proc/net/tcp`)];
    const pids = holders(inodes);
    if (pids.length === 0) return [unknownPeer(`no process of this user holds the connection from port ${peerPort}`)];
    return pids.map((pid) => readDecider(pid, 'socket'));
  } catch (error) {
    return [unknownPeer(`cannot read /proc (${(error as Error).message})`)];
  }
}
