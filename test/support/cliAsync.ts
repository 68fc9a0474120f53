/**
 * The real `warden` CLI as an asynchronous child process: unlike `warden()` in cli.ts (spawnSync) it
 * leaves the test's event loop free, so replies from other processes the test drives (an MCP
 * server waiting for this decision, say) are seen when they arrive, not after this process ends.
 */
import { spawn } from 'node:child_process';
import type { Decider } from '../../src/events/types.ts';
import { readDecider } from '../../src/requests/processIdentity.ts';
import { WARDEN } from './cli.ts';
import { eventually } from './eventually.ts';

export interface AsyncCliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Date.now() when the process exited. */
  exitedAt: number;
}

/**
 * A stand-in agent client: a process of its own (not a shell) that runs the CLI and passes its exit
 * on. A hook's request is owned by its client (src/hooks/owner.ts), and no decision may come from
 * the client's descendants (src/requests/deciderCheck.ts); with this stand-in, the test process that
 * then plays the person deciding at `warden approve` is not one of them.
 */
const CLIENT_STUB = `const c = require('node:child_process').spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit' }); c.on('exit', (code, sig) => process.exit(code ?? 1));`;

/**
 * A person's process: outside this test process's tree. A test that started `warden serve` itself
 * plays its MCP client, and the client's descendants are the agent's own tools, which may not
 * decide (src/requests/deciderCheck.ts, `launcher`). The outer shell backgrounds a subshell and
 * exits, so the subshell is re-parented away from this process; it runs the command and reports
 * its exit status on stderr's last line (stdin is /dev/null).
 */
const OUTSIDE = ['sh', '-c', '( "$@"; echo "warden-outside-rc=$?" >&2 ) &', 'sh'];
const OUTSIDE_RC = /\nwarden-outside-rc=(\d+)\n$/;

export function wardenAsync(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; asClient?: boolean; outside?: boolean } = {},
): Promise<AsyncCliResult> {
  return new Promise((resolve, reject) => {
    const argv = opts.asClient ? ['-e', CLIENT_STUB, WARDEN, ...args] : [WARDEN, ...args];
    if (opts.outside) return resolve(runOutside([process.execPath, ...argv], { ...opts, env: { WARDEN_LOG: 'silent', ...opts.env } }));
    const child = spawn(process.execPath, argv, {
      cwd: opts.cwd,
      env: { ...process.env, WARDEN_LOG: 'silent', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(opts.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, exitedAt: Date.now() });
    });
  });
}

/** Runs `argv` as a person's process, outside this test process's tree (OUTSIDE); resolves when its output ends. */
export function runOutside(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<AsyncCliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(OUTSIDE[0]!, [...OUTSIDE.slice(1), ...argv], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The pipes stay open until the re-parented command ends; it is not this process's to kill.
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')} (run outside) did not end within ${opts.timeoutMs ?? 60_000} ms`)), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const rc = OUTSIDE_RC.exec(`\n${stderr}`);
      if (!rc) return reject(new Error(`the process run outside left no exit status: ${stderr}`));
      resolve({ code: Number(rc[1]), stdout, stderr: `\n${stderr}`.slice(1, rc.index + 1), exitedAt: Date.now() });
    });
  });
}

/** Parses one JSON object per non-empty line. */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/**
 * The identity of a person's process, outside this test process's tree (a `sleep` re-parented
 * away, as OUTSIDE does), for in-process `decideOutOfBand(…, { deciders })`: this process plays the
 * client of the warden processes it started, so its own identity is refused. `stop` ends the sleep.
 */
export async function outsideDecider(): Promise<{ decider: Decider; stop: () => void }> {
  const child = spawn('sh', ['-c', '( sleep 600 >/dev/null 2>&1 & echo $! ) &'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.on('close', r));
  const pid = Number(out.trim());
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`no pid for the outside process: ${out}`);
  const decider = await eventually(() => {
    const d = readDecider(pid, 'self');
    // re-parented once the subshell has exited: its chain no longer holds this process
    return d.problem === undefined && !d.chain.some((l) => l.pid === process.pid) ? d : undefined;
  }, 10_000, 'the outside process to be re-parented');
  return { decider, stop: () => process.kill(pid, 'SIGKILL') };
}
