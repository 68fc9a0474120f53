/**
 * The real `warden` CLI as an asynchronous child process: unlike `warden()` in cli.ts (spawnSync) it
 * leaves the test's event loop free, so replies from other processes the test drives (an MCP
 * server waiting for this decision, say) are seen when they arrive, not after this process ends.
 */
import { spawn } from 'node:child_process';
import { WARDEN } from './cli.ts';

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

export function wardenAsync(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; asClient?: boolean } = {},
): Promise<AsyncCliResult> {
  return new Promise((resolve, reject) => {
    const argv = opts.asClient ? ['-e', CLIENT_STUB, WARDEN, ...args] : [WARDEN, ...args];
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

/** Parses one JSON object per non-empty line. */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
