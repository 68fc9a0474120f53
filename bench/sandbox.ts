/**
 * Cost of the sandbox per command: p50/p95 wall time from spawn to exit of `true` under bwrap (through
 * runCommand, read-only spec) beside a bare runCommand and a raw child_process.spawn in the same run.
 * Also with the default masks (the CLI's hidden list) and raw bwrap with flag subsets, to show where
 * the set-up time goes. Goals: < 5 ms added at p50 without masks, < 6 ms with the default masks.
 *   node --import tsx bench/sandbox.ts [N]
 */
import { spawn } from 'node:child_process';
import { runCommand } from '../src/sandbox/runCommand.ts';
import { baseBwrapArgs, buildBwrapArgs } from '../src/sandbox/bwrapArgs.ts';
import { nodeFsProbe } from '../src/sandbox/writableRoots.ts';
import { sandboxDetection } from '../src/sandbox/platform.ts';
import { measureRoundRobin, type Variant } from './roundRobin.ts';
import { hiddenPaths, ownPaths } from '../src/cli/options.ts';

const N = Number(process.argv[2] ?? 200);
const WARMUP = 20;

function rawSpawn(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(file, args, { stdio: 'ignore', detached: true });
    c.on('error', reject);
    c.on('exit', () => resolve());
  });
}

/** Round-robin over the variants so that load from other processes hits each of them alike. */
const measureAll = (variants: Variant[]) => measureRoundRobin(variants, N, WARMUP);

const detection = sandboxDetection();
if (detection.type !== 'bwrap' || detection.executable === null) {
  console.error(`no bwrap: ${detection.reason}`);
  process.exit(1);
}
const bwrap = detection.executable;
const cwd = process.cwd();
const RO = { mode: 'read-only' as const, writableRoots: [], network: false, tmpWrite: true };
const WW = { mode: 'workspace-write' as const, writableRoots: [], network: false, tmpWrite: true };
// The default masks exactly as the CLI builds them: warden's own files plus the default secrets list.
const hidden = hiddenPaths({}, ownPaths({}));
const ROH = { ...RO, hidden };
const WWH = { ...WW, hidden };

const rows = await measureAll([
  { name: 'raw spawn true', once: () => rawSpawn('true', []) },
  { name: 'runCommand bare true', once: () => runCommand({ command: ['true'], cwd, sandboxSpec: null }) },
  { name: 'runCommand bwrap read-only true', once: () => runCommand({ command: ['true'], cwd, sandboxSpec: RO }) },
  { name: 'runCommand bwrap workspace-write true', once: () => runCommand({ command: ['true'], cwd, sandboxSpec: WW }) },
  { name: 'runCommand bwrap read-only, default masks', once: () => runCommand({ command: ['true'], cwd, sandboxSpec: ROH }) },
  { name: 'runCommand bwrap ws-write, default masks', once: () => runCommand({ command: ['true'], cwd, sandboxSpec: WWH }) },
  { name: 'raw bwrap (namespaces, no seccomp) true', once: () => rawSpawn(bwrap, [...baseBwrapArgs(false), '--', 'true']) },
  { name: 'raw bwrap, network kept', once: () => rawSpawn(bwrap, [...baseBwrapArgs(true), '--', 'true']) },
  { name: 'raw bwrap --ro-bind / / only', once: () => rawSpawn(bwrap, ['--ro-bind', '/', '/', '--', 'true']) },
]);

for (const r of rows) console.log(`${r.name.padEnd(40)} p50 ${r.p50.toFixed(2).padStart(7)} ms   p95 ${r.p95.toFixed(2).padStart(7)} ms`);
const [raw, bare, ro] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
const masked = rows.find((r) => r.name === 'runCommand bwrap read-only, default masks')!;
console.log(`\ndefault masks: ${hidden.length} paths listed; bwrap read-only with them vs bare runCommand: +${(masked.p50 - bare.p50).toFixed(2)} ms at p50 (goal: < 6 ms)`);
console.log(
  `bwrap read-only vs bare runCommand: +${(ro.p50 - bare.p50).toFixed(2)} ms at p50 (x${(ro.p50 / bare.p50).toFixed(2)}), ` +
    `+${(ro.p95 - bare.p95).toFixed(2)} ms at p95; vs raw spawn: +${(ro.p50 - raw.p50).toFixed(2)} ms at p50 (x${(ro.p50 / raw.p50).toFixed(2)}). Goal: < 5 ms added at p50.`,
);

// warden's own work per run (planning the mounts: lstat/realpath of every listed path, the walk of a
// workspace-write root), without the spawn: stable on a loaded machine where the wall times are not.
function planCost(spec: typeof RO | typeof ROH | typeof WWH, n = 500): number {
  const once = () => buildBwrapArgs({ spec, cwd, command: ['true'], env: process.env, probe: nodeFsProbe, decoy: '/nonexistent/decoy', infoFd: 3, seccompFd: 4 });
  for (let i = 0; i < 20; i++) once();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    once();
    t.push(performance.now() - start);
  }
  return t.sort((a, b) => a - b)[n >> 1]!;
}
console.log(
  `planning per run (p50): read-only ${planCost(RO).toFixed(3)} ms, read-only + default masks ${planCost(ROH).toFixed(3)} ms, ` +
    `workspace-write + default masks in ${cwd} ${planCost(WWH, 100).toFixed(3)} ms`,
);
