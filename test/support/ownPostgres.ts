/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl on a temporary data directory and a free
 * port), never the machine's shared one, so a test may stop and restart it. initdb and postgres
 * refuse to run as root, so as root they run as the `postgres` system user (runuser).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function findBinDir(): string {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(join(d, 'pg_ctl')));
  if (!found) throw new Error('initdb/pg_ctl not found under /usr/lib/postgresql/*/bin (install postgresql)');
  return found;
}

const isRoot = process.getuid?.() === 0;

function pgTool(binDir: string, tool: string, args: string[]): string {
  const cmd = join(binDir, tool);
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth). */
  url: string;
  port: number;
  start(): void;
  stop(mode: 'fast' | 'immediate'): void;
  /**
   * Freezes (SIGSTOP) or thaws (SIGCONT) the postmaster and every backend: the server keeps its
   * sockets open but answers nothing, as a hung server or a network partition would.
   */
  freeze(): void;
  thaw(): void;
  /** Stops the server if it runs and removes the data directory. */
  destroy(): void;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const binDir = findBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'warden-ownpg-'));
  const data = join(dir, 'data');
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  pgTool(binDir, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  const start = () =>
    void pgTool(binDir, 'pg_ctl', ['start', '-w', '-t', '60', '-D', data, '-l', join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`]);
  const stop = (mode: 'fast' | 'immediate') => void pgTool(binDir, 'pg_ctl', ['stop', '-w', '-t', '60', '-D', data, '-m', mode]);
  /** The postmaster (first line of postmaster.pid) and its children, by pid from /proc. */
  const serverPids = (): number[] => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  };
  const signalAll = (signal: NodeJS.Signals) => {
    for (const pid of serverPids()) process.kill(pid, signal);
  };
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    freeze: () => signalAll('SIGSTOP'),
    thaw: () => signalAll('SIGCONT'),
    destroy() {
      try {
        signalAll('SIGCONT');
      } catch {
        // not running
      }
      try {
        stop('immediate');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
