/**
 * Start-up of the compiled CLI against baselines measured in the same run, interleaved (each round
 * runs every variant once, so load from the other engineers on the machine hits each alike):
 * `node -e 0` and a bare MCP SDK server answering `initialize` (bench/bareMcpServer.mjs). Prints
 * each median and its ratio to `node -e 0` (and, for `serve`, to the bare server).
 *   node --import tsx bench/startup.ts [ROUNDS]      (default 20)
 * BENCH_BEFORE=/other/checkout/bin/warden.js adds every warden variant of that (already built)
 * checkout to the same rounds, printed as `before:` rows, so a change is measured beside what it
 * replaces under the same load.
 * Goals (issue #14): --version <= 1.5x node, exec bare <= 2.5x, exec in bwrap <= 3x, serve's
 * initialize <= 2.5x node and <= 1.2x the bare server, apply_patch through serve <= 30 ms.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { builtWarden, REPO } from './built.ts';

const ROUNDS = Number(process.argv[2] ?? 20);
const BIN = builtWarden();
const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-bench-startup-')));
const ws = join(base, 'ws');
mkdirSync(ws);
writeFileSync(join(base, 'rules.toml'), '');
const env = {
  ...process.env,
  WARDEN_LOG: 'silent',
  WARDEN_STORE: join(base, 'events.db'),
  XDG_CONFIG_HOME: join(base, 'config'),
  // warden's state folder, where runBundle.ts keeps the command bundles' V8 code cache: empty at the
  // start, filled by the warm-up below as a person's first runs fill theirs
  XDG_STATE_HOME: join(base, 'state'),
  WARDEN_SESSION: 'bench-startup',
  ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
};

let binSwap: (args: string[]) => string[] = (a) => a;

/** Runs to exit, feeding `input`; resolves with the wall time in ms. Rejects on a non-zero exit. */
function timed(file: string, args: string[], input?: string): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(file, binSwap(args), { cwd: ws, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d: Buffer) => (err += d));
    c.on('error', rej);
    c.on('exit', (code) => (code === 0 ? res(performance.now() - t0) : rej(new Error(`${args.join(' ')}: exit ${code}: ${err}`))));
    if (input !== undefined) c.stdin!.end(input);
  });
}

const rpc = (id: number, method: string, params: unknown) => `${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`;
const INIT = rpc(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } });

/**
 * Starts an MCP server, sends initialize at once (as clients do) and times the answer; with
 * `patch`, then times one apply_patch call (a one-line add) from its request to its answer.
 */
function mcpStart(file: string, args: string[], patch: string | null = null): Promise<{ init: number; patch: number | null }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(file, binSwap(args), { cwd: ws, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    let init = 0;
    let tPatch = 0;
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.on('error', rej);
    c.on('exit', (code) => {
      if (init === 0) rej(new Error(`${args.join(' ')} exited ${code} before answering: ${err}`));
    });
    c.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line) as { id?: number; result?: { isError?: boolean; structuredContent?: { state?: string } }; error?: unknown };
        if (msg.id === 1) {
          init = performance.now() - t0;
          if (patch === null) {
            c.kill('SIGKILL');
            res({ init, patch: null });
            return;
          }
          c.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
          tPatch = performance.now();
          c.stdin.write(rpc(2, 'tools/call', { name: 'apply_patch', arguments: { patch } }));
        } else if (msg.id === 2) {
          const took = performance.now() - tPatch;
          c.kill('SIGKILL');
          if (msg.result?.structuredContent?.state !== 'completed') rej(new Error(`apply_patch did not complete: ${line}`));
          else res({ init, patch: took });
          return;
        }
      }
    });
    c.stdin.write(INIT);
  });
}

const HOOK_PAYLOAD = JSON.stringify({
  session_id: 'bench',
  cwd: ws,
  hook_event_name: 'PreToolUse',
  tool_name: 'Bash',
  tool_input: { command: 'ls', description: 'list' },
  tool_use_id: 'toolu_bench',
});

let patchN = 0;
const nextPatch = () => `*** Begin Patch\n*** Add File: added-${patchN++}.txt\n+one line\n*** End Patch\n`;

type Variant = { name: string; once: () => Promise<number>; goal?: string };
const node = process.execPath;
const variants: Variant[] = [
  { name: 'node -e 0', once: () => timed(node, ['-e', '0']) },
  { name: 'bare MCP SDK server: initialize', once: async () => (await mcpStart(node, [resolve(REPO, 'bench/bareMcpServer.mjs')])).init },
  { name: 'warden --version', once: () => timed(node, [BIN, '--version']), goal: '<= 1.5x node' },
  { name: 'warden exec danger-full-access -- true', once: () => timed(node, [BIN, 'exec', '--approval', 'never', '--sandbox', 'danger-full-access', '--', 'true']), goal: '<= 2.5x node' },
  { name: 'warden exec workspace-write -- true (bwrap)', once: () => timed(node, [BIN, 'exec', '--approval', 'never', '--sandbox', 'workspace-write', '--', 'true']), goal: '<= 3x node' },
  { name: 'warden hook claude-code (Bash ls)', once: () => timed(node, [BIN, 'hook', 'claude-code'], HOOK_PAYLOAD) },
  { name: 'warden serve: initialize', once: async () => (await mcpStart(node, [BIN, 'serve'])).init, goal: '<= 2.5x node, <= 1.2x bare' },
];
variants.push({
  name: 'warden serve: apply_patch after initialize',
  once: async () => (await mcpStart(node, [BIN, 'serve'], nextPatch())).patch!,
  goal: '<= 30 ms',
});
const BEFORE = process.env.BENCH_BEFORE;
if (BEFORE) {
  for (const v of variants.filter((x) => x.name.startsWith('warden'))) {
    // the same runs with the other checkout's bin/warden.js in place of this one
    const swap = (a: string[]) => a.map((x) => (x === BIN ? BEFORE : x));
    const once = v.once;
    variants.push({ name: `before: ${v.name}`, once: () => withBin(swap, once) });
  }
}
/** Runs `once` with spawn's arguments rewritten by `swap` (the only place BIN is named). */
async function withBin(swap: (a: string[]) => string[], once: () => Promise<number>): Promise<number> {
  binSwap = swap;
  try {
    return await once();
  } finally {
    binSwap = (a) => a;
  }
}

/**
 * One `serve` session that ends as a client ends it (stdin closed after initialize), so the server
 * exits and saves its code cache; the timed runs are SIGKILLed as soon as they have their answer.
 */
function serveSession(bin: string): Promise<void> {
  return new Promise((res, rej) => {
    const c = spawn(node, [bin, 'serve'], { cwd: ws, env, stdio: ['pipe', 'ignore', 'ignore'] });
    c.on('error', rej);
    c.on('exit', (code) => (code === 0 ? res() : rej(new Error(`serve session exited ${code}`))));
    c.stdin.end(INIT);
  });
}
// warm-up: page cache, the store's first creation, the code caches (exec and hook save theirs at exit)
for (const v of variants) await v.once();
for (const bin of [BIN, ...(BEFORE ? [BEFORE] : [])]) await serveSession(bin);
const times = variants.map(() => [] as number[]);
for (let i = 0; i < ROUNDS; i++) for (const [j, v] of variants.entries()) times[j]!.push(await v.once());
const median = (t: number[]) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;
const medians = times.map(median);
const nodeMs = medians[0]!;
const bareMs = medians[1]!;
console.log(`startup, ${ROUNDS} interleaved rounds, median wall time${env.NODE_OPTIONS ? ` (NODE_OPTIONS=${env.NODE_OPTIONS})` : ''}`);
for (const [j, v] of variants.entries()) {
  const ms = medians[j]!;
  const ratio = v.name.includes('apply_patch') ? '' : `  ${(ms / nodeMs).toFixed(2)}x node`;
  const vsBare = v.name.endsWith('warden serve: initialize') ? `  ${(ms / bareMs).toFixed(2)}x bare MCP` : '';
  console.log(`${v.name.padEnd(54)} ${ms.toFixed(1).padStart(7)} ms${ratio}${vsBare}${v.goal ? `   goal ${v.goal}` : ''}`);
}
rmSync(base, { recursive: true, force: true });
