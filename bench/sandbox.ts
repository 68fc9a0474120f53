/**
 * Cost of the sandbox per command: p50/p95 wall time from spawn to exit of `true` under bwrap (through
 * runCommand, read-only spec) beside a bare runCommand and a raw child_process.spawn in the same run.
 * Also raw bwrap with flag subsets, to show where the set-up time goes. Goal: < 5 ms added at p50.
 *   node --import tsx bench/sandbox.ts [N]
 */
import { spawn } from 'node:child_process';
import { runCommand } from '../src/sandbox/runCommand.ts';
import { baseBwrapArgs } from '../src/sandbox/bwrapArgs.ts';
import { sandboxDetection } from '../src/sandbox/platform.ts';
import { measureRoundRobin, type Variant } from './roundRobin.ts';

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

const rows = await measureAll([
  { name: 'raw spawn true', once: () => rawSpawn('true', []) },
  { name: 'runCommand bare true', once: () => runCommand({ command: ['true'], cwd, sandbox: null }) },
  { name: 'runCommand bwrap read-only true', once: () => runCommand({ command: ['true'], cwd, sandbox: RO }) },
  { name: 'runCommand bwrap workspace-write true', once: () => runCommand({ command: ['true'], cwd, sandbox: WW }) },
  { name: 'raw bwrap (namespaces, no seccomp) true', once: () => rawSpawn(bwrap, [...baseBwrapArgs(false), '--', 'true']) },
  { name: 'raw bwrap, network kept', once: () => rawSpawn(bwrap, [...baseBwrapArgs(true), '--', 'true']) },
  { name: 'raw bwrap --ro-bind / / only', once: () => rawSpawn(bwrap, ['--ro-bind', '/', '/', '--', 'true']) },
]);

for (const r of rows) console.log(`${r.name.padEnd(40)} p50 ${r.p50.toFixed(2).padStart(7)} ms   p95 ${r.p95.toFixed(2).padStart(7)} ms`);
const [raw, bare, ro] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
console.log(
  `\nbwrap read-only vs bare runCommand: +${(ro.p50 - bare.p50).toFixed(2)} ms at p50 (x${(ro.p50 / bare.p50).toFixed(2)}), ` +
    `+${(ro.p95 - bare.p95).toFixed(2)} ms at p95; vs raw spawn: +${(ro.p50 - raw.p50).toFixed(2)} ms at p50 (x${(ro.p50 / raw.p50).toFixed(2)}). Goal: < 5 ms added at p50.`,
);
