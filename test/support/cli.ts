/**
 * Running the real `warden` CLI in tests: as a plain child process, or under a pseudo-terminal
 * (util-linux `script`) so the terminal prompt can be answered with keys.
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { quote } from 'shell-quote';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const WARDEN = resolve(REPO, 'bin', 'warden.js');

/**
 * util-linux `script` arguments that run `argv` under a pseudo-terminal. script hands its command
 * to `$SHELL -c`; dash (Debian's /bin/sh, and what script falls back to when SHELL is unset, as in
 * CI) stays as the parent instead of exec'ing, sits in the terminal's foreground group, and dies
 * of the Ctrl-C meant for warden. `exec` makes the terminal's process warden under every shell.
 */
export function onTerminalArgs(argv: readonly string[]): string[] {
  return ['-qfec', `exec ${quote([...argv])}`, '/dev/null'];
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function warden(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [WARDEN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, WARDEN_LOG: 'silent', ...opts.env },
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `warden exec --approval never -- sh -c SCRIPT` as an agent's command reaches it: the default
 * workspace-write sandbox with /tmp writable, the given HOME and store, none of the person's
 * warden settings (XDG folders, WARDEN_STORE); a denial goes back to the "agent" (nobody is here to
 * ask). `bin` is another install's bin/warden.js (default: this checkout's).
 */
export function agentExec(script: string, opts: { cwd: string; home: string; store: string; bin?: string }) {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: opts.home, WARDEN_LOG: 'silent' };
  delete env.XDG_CONFIG_HOME;
  delete env.XDG_DATA_HOME;
  delete env.XDG_STATE_HOME;
  delete env.WARDEN_STORE;
  return spawnSync(process.execPath, [opts.bin ?? WARDEN, 'exec', '--approval', 'never', '--store', opts.store, '--', 'sh', '-c', script], {
    cwd: opts.cwd,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

/**
 * Runs `warden ARGS` under a pseudo-terminal; each time the approval prompt appears the next key
 * is typed. Resolves with the exit code and everything the terminal showed.
 */
export function wardenOnTerminal(
  args: string[],
  keys: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<{ code: number | null; screen: string; prompts: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', onTerminalArgs([process.execPath, WARDEN, ...args]), {
      cwd: opts.cwd,
      env: { ...process.env, WARDEN_LOG: 'silent', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let prompts = 0;
    const pending = [...keys];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; screen so far:\n${screen}`));
    }, opts.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer) => {
      screen += chunk.toString('utf8');
      // one title per question asked (the footer below it redraws, the title does not)
      const seen = screen.split(/Run this command\?|Apply these edits\?|Let this command reach [^?\n]*\?/).length - 1;
      while (prompts < seen) {
        prompts += 1;
        const key = pending.shift();
        if (key !== undefined) setTimeout(() => child.stdin.write(key), 50);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, screen, prompts });
    });
  });
}

export function auditRows(store: string): Array<Record<string, unknown>> {
  const r = warden(['audit', '--json', '--store', store]);
  if (r.code !== 0) throw new Error(`audit failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
