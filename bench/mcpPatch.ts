/**
 * One-line `apply_patch` calls of 1, 8 and 32 MiB through a real MCP client (the SDK's Client over
 * stdio to `warden serve`), each adding one file whose single line is the payload. Reports the
 * median time per size, the server's peak RSS (VmHWM) after each size, and, as the baseline in the
 * same run, writing the same bytes to a file directly. Goal (issue 18): time grows at most linearly,
 * the 32 MiB call at most 40x the 1 MiB call. warden accepts patches up to 8 MiB (src/safety/patch):
 * a larger one is read, parsed and rejected ("patch is larger than ..."), and that is what is timed
 * for it (the row says which); the point is that a big line costs linear time either way.
 *   node --import tsx bench/mcpPatch.ts [REPS]
 */
import { mkdtempSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { builtWarden } from './built.ts';

const REPS = Number(process.argv[2] ?? 3);
const SIZES_MIB = [1, 8, 32];
const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-bench-patch-')));
const ws = join(dir, 'ws');
mkdirSync(ws);
writeFileSync(join(dir, 'rules.toml'), '');
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [builtWarden(), 'serve', '--store', join(dir, 'events.db'), '--rules', join(dir, 'rules.toml'), '--log-level', 'warn'],
  cwd: ws,
  stderr: 'inherit',
});
const client = new Client({ name: 'bench', version: '1' }, { capabilities: {} });
await client.connect(transport);
const serverPid = transport.pid!;
const peakRssMiB = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${serverPid}/status`, 'utf8'))![1]) / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

let n = 0;
const rows: Array<{ mib: number; patchMs: number; directMs: number; rss: number; outcome: string }> = [];
for (const mib of SIZES_MIB) {
  const line = 'a'.repeat(mib * 1024 * 1024);
  const times: number[] = [];
  const direct: number[] = [];
  let outcome = 'applied';
  for (let i = 0; i < REPS; i++) {
    const name = `big-${++n}.txt`;
    const patch = `*** Begin Patch\n*** Add File: ${name}\n+${line}\n*** End Patch\n`;
    const t0 = performance.now();
    const r = await client.callTool({ name: 'apply_patch', arguments: { patch } }, undefined, { timeout: 600_000 });
    times.push(performance.now() - t0);
    const text = JSON.stringify(r.content);
    if (r.isError && /patch is larger than/.test(text)) outcome = 'rejected (over the patch limit)';
    else if (r.isError) throw new Error(`apply_patch ${mib} MiB failed: ${text.slice(0, 400)}`);
    else {
      if (statSync(join(ws, name)).size !== line.length + 1) throw new Error(`${name} has the wrong size`);
      rmSync(join(ws, name));
    }
    const t1 = performance.now();
    writeFileSync(join(dir, 'direct.txt'), `${line}\n`);
    direct.push(performance.now() - t1);
  }
  rows.push({ mib, patchMs: median(times), directMs: median(direct), rss: peakRssMiB(), outcome });
}
await client.close();
rmSync(dir, { recursive: true, force: true });

console.log(`apply_patch through MCP, one line, median of ${REPS}:`);
console.log('size     patch ms   direct write ms   server peak RSS   outcome');
for (const r of rows) console.log(`${String(r.mib).padStart(3)} MiB ${r.patchMs.toFixed(0).padStart(10)} ${r.directMs.toFixed(1).padStart(17)} ${r.rss.toFixed(0).padStart(14)} MiB   ${r.outcome}`);
const ratio = rows[2]!.patchMs / rows[0]!.patchMs;
console.log(`32 MiB / 1 MiB: ${ratio.toFixed(1)}x (goal <= 40x; linear is 32x)`);
process.exitCode = ratio <= 40 ? 0 : 1;
