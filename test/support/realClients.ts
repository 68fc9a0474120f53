/**
 * The real agent clients, pinned, installed from the npm registry into a cache outside the
 * repository (~/.cache/warden-clients/<name>@<version>, or $WARDEN_CLIENTS_CACHE), never into the
 * project's dependencies. The first test that needs one installs it; later runs reuse it. An
 * install that fails throws with npm's output: a real-client test fails loudly, it never skips.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const PINNED = {
  'claude-code': { pkg: '@anthropic-ai/claude-code', version: '2.1.197', bin: 'claude' },
  gemini: { pkg: '@google/gemini-cli', version: '0.61.0', bin: 'gemini' },
  codex: { pkg: '@openai/codex', version: '0.171.0', bin: 'codex' },
} as const;
export type RealClient = keyof typeof PINNED;

function cacheRoot(): string {
  return process.env.WARDEN_CLIENTS_CACHE ?? join(homedir(), '.cache', 'warden-clients');
}

function works(bin: string, version: string): boolean {
  if (!existsSync(bin)) return false;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 && r.stdout.includes(version);
}

/** The client's binary, installing it first if the cache does not hold this version. Throws when that fails. */
export function installClient(name: RealClient): string {
  const { pkg, version, bin } = PINNED[name];
  const dir = join(cacheRoot(), `${name}@${version}`);
  const path = join(dir, 'node_modules', '.bin', bin);
  if (works(path, version)) return path;
  mkdirSync(dir, { recursive: true });
  // One installer at a time per client (test files run in parallel): mkdir is the lock.
  const lock = join(dir, '.installing');
  const deadline = Date.now() + 15 * 60_000;
  while (true) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${pkg}@${version}: another install holds ${lock} for 15 minutes; remove it`);
      execFileSync('sleep', ['2']);
      if (works(path, version)) return path;
    }
  }
  try {
    if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${version}`], { cwd: dir, encoding: 'utf8', timeout: 14 * 60_000 });
    if (r.status !== 0) {
      throw new Error(`installing ${pkg}@${version} from the npm registry into ${dir} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stdout}\n${r.stderr}`);
    }
    if (!works(path, version)) throw new Error(`${pkg}@${version} installed into ${dir}, but \`${path} --version\` does not print ${version}`);
    return path;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client to the end with stdin closed, collecting its output; SIGKILLed after `killAfterMs`. */
export function runClient(file: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }, killAfterMs: number): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A client run's own folders: a home (with a rules file forbidding curl, the "rejected" case, the
 * same for the hook and the MCP server), a project with one seed file, and the store's path.
 */
export function clientScratch(client: RealClient): { dir: string; home: string; proj: string; store: string } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `warden-${client}-`)));
  const home = join(dir, 'home');
  const proj = join(dir, 'proj');
  mkdirSync(join(home, '.config', 'warden'), { recursive: true });
  mkdirSync(proj);
  writeFileSync(join(home, '.config', 'warden', 'rules.toml'), '[[rule]]\npattern = ["curl"]\ndecision = "forbidden"\njustification = "no downloads in this project"\n');
  writeFileSync(join(proj, 'seed.txt'), 'seed\n');
  return { dir, home, proj, store: join(dir, 'events.db') };
}
