/**
 * Cost of the domain proxy, in the same run, against a direct connection over loopback:
 *  1. per connection: a new curl process per request to a 127.0.0.1 server, inside one bwrap sandbox,
 *     once with the network on (direct, the host's loopback) and once behind the proxy (relay in the
 *     namespace -> Unix socket -> warden's proxy -> the server). Both sides run the same sandbox and
 *     the same curl, so only the path differs. For a tiny body, 1 MB and 16 MB: time to first byte,
 *     the transfer (first byte to last, curl's clock) and the total per request.
 *     The server runs in a process of its own, as a real one would: in the bench's own process it
 *     would share the proxy's event loop and be timed as part of the proxy.
 *  2. start-up: runCommand(`true`) in the workspace-write sandbox with a domain list (the listener,
 *     the relay, the seccomp hand-over) against the same sandbox without one.
 * Direct and proxied batches alternate (and swap order every round), so load from other processes
 * hits them alike; medians (p50) and p95 over every request, and the ratios, are printed.
 * Goals (issue #17): +20 % at most on the 1 MB transfer, +5 ms at most to the first byte, +3 ms at
 * most on start-up.
 *   node --import tsx bench/network.ts [ROUNDS] [REQUESTS_PER_BATCH]   (ROUNDS 0: start-up only; START_ROUNDS=N)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runCommand } from '../src/sandbox/runCommand.ts';
import { sandboxDetection } from '../src/sandbox/platform.ts';
import { domainProxy } from '../src/network/proxy.ts';
import { NETNS_HELPER } from '../src/network/sandboxNetwork.ts';
import type { SandboxSpec } from '../src/sandbox/types.ts';
import { measureRoundRobin } from './roundRobin.ts';

const ROUNDS = Number(process.argv[2] ?? 10);
const PER_BATCH = Number(process.argv[3] ?? 10);

if (sandboxDetection().type !== 'bwrap') {
  console.error('no bwrap here: the proxy is for bwrap runs');
  process.exit(1);
}
if (!existsSync(NETNS_HELPER)) {
  console.error(`the relay is not built: ${NETNS_HELPER} (npm run build)`);
  process.exit(1);
}

// GET /N answers N bytes.
const serverCode = `
const bodies = new Map();
const s = require('node:http').createServer((req, res) => {
  const n = Number(req.url.slice(1)) || 3;
  if (!bodies.has(n)) bodies.set(n, Buffer.alloc(n, 'x'));
  res.end(bodies.get(n));
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;
const serverProcess = spawn(process.execPath, ['-e', serverCode], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((ok) => createInterface({ input: serverProcess.stdout! }).once('line', (l) => ok(Number(l))));
// The name the proxy resolves (test-only override; the address is listed so the proxy may reach it).
process.env.WARDEN_TEST_RESOLVE = 'bench.test=127.0.0.1';

const base = { mode: 'workspace-write' as const, writableRoots: [], tmpWrite: true };
const direct: SandboxSpec = { ...base, network: true };
const proxied: SandboxSpec = { ...base, network: false, domains: { allow: ['bench.test'], deny: [] } };
const noDomains: SandboxSpec = { ...base, network: false };

interface Sample {
  firstByte: number[];
  transfer: number[];
  total: number[];
}
const empty = (): Sample => ({ firstByte: [], transfer: [], total: [] });

/** `count` requests, one curl process (one connection) each; curl's own clock. */
async function sample(spec: SandboxSpec, host: string, bytes: number, count: number, into: Sample): Promise<void> {
  const script =
    `for i in $(seq ${count}); do ` +
    `curl -s -o /dev/null --max-time 60 -w '%{http_code} %{size_download} %{time_starttransfer} %{time_total}\\n' http://${host}:${port}/${bytes} || echo fail; done`;
  const r = await runCommand({ command: ['sh', '-c', script], cwd: process.cwd(), sandboxSpec: spec, timeoutMs: 300_000 });
  for (const line of r.stdout.trim().split('\n')) {
    const [code, size, start, total] = line.split(' ');
    if (code !== '200' || Number(size) !== bytes) throw new Error(`a request failed (${line}): ${r.stderr}`);
    into.firstByte.push(Number(start) * 1000);
    into.transfer.push((Number(total) - Number(start)) * 1000);
    into.total.push(Number(total) * 1000);
  }
}

const pct = (xs: number[], p: number) => {
  const t = [...xs].sort((a, b) => a - b);
  return t[Math.min(t.length - 1, Math.floor(p * t.length))]!;
};
const p50 = (xs: number[]) => pct(xs, 0.5);

const cases = [
  { name: 'tiny body', bytes: 3, count: PER_BATCH },
  { name: '1 MB body', bytes: 1 << 20, count: PER_BATCH },
  { name: '16 MB body', bytes: 16 << 20, count: Math.max(2, Math.ceil(PER_BATCH / 4)) },
];
const results = cases.map((c) => ({ ...c, direct: empty(), proxy: empty() }));
// warm-up: page cache, the proxy's first listener, the server's bodies (ROUNDS=0: start-up only)
for (const c of ROUNDS > 0 ? cases : []) {
  await sample(direct, '127.0.0.1', c.bytes, 1, empty());
  await sample(proxied, 'bench.test', c.bytes, 1, empty());
}
for (let i = 0; i < ROUNDS; i++) {
  for (const r of results) {
    const runs = [
      () => sample(direct, '127.0.0.1', r.bytes, r.count, r.direct),
      () => sample(proxied, 'bench.test', r.bytes, r.count, r.proxy),
    ];
    if (i % 2 === 1) runs.reverse();
    for (const run of runs) await run();
  }
}

if (ROUNDS > 0) console.log(`per connection, ${ROUNDS} interleaved rounds (a new curl and connection per request), ms:`);
for (const r of ROUNDS > 0 ? results : []) {
  for (const key of ['firstByte', 'transfer', 'total'] as const) {
    const d50 = p50(r.direct[key]);
    const x50 = p50(r.proxy[key]);
    console.log(
      `  ${`${r.name} (${r.direct[key].length}), ${key}`.padEnd(28)} direct p50 ${d50.toFixed(2).padStart(7)} p95 ${pct(r.direct[key], 0.95).toFixed(2).padStart(7)}` +
        `   proxy p50 ${x50.toFixed(2).padStart(7)} p95 ${pct(r.proxy[key], 0.95).toFixed(2).padStart(7)}` +
        `   +${(x50 - d50).toFixed(2)} ms, x${(x50 / d50).toFixed(2)}`,
    );
  }
}

const startRows = await measureRoundRobin(
  [
    { name: 'workspace-write, no domains', once: () => runCommand({ command: ['true'], cwd: process.cwd(), sandboxSpec: noDomains }) },
    { name: 'workspace-write, domain list', once: () => runCommand({ command: ['true'], cwd: process.cwd(), sandboxSpec: proxied }) },
  ],
  Number(process.env.START_ROUNDS ?? 100),
  10,
);
console.log('\nsandbox start-up, `true`, ms:');
for (const r of startRows) console.log(`  ${r.name.padEnd(30)} p50 ${r.p50.toFixed(2).padStart(7)}   p95 ${r.p95.toFixed(2).padStart(7)}`);
const [plain, withList] = startRows as [(typeof startRows)[0], (typeof startRows)[0]];
const [small, mb, mb16] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
const ratio = (r: (typeof results)[0], key: keyof Sample) => (p50(r.proxy[key]) / p50(r.direct[key])).toFixed(2);
if (ROUNDS === 0) console.log(`\nstart-up +${(withList.p50 - plain.p50).toFixed(2)} ms at p50 (goal <= 3)`);
else console.log(
  `\nratios at p50: 1 MB total x${ratio(mb, 'total')} (transfer x${ratio(mb, 'transfer')}; goal <= 1.20); ` +
    `16 MB total x${ratio(mb16, 'total')} (transfer x${ratio(mb16, 'transfer')}); ` +
    `first byte +${(p50(small.proxy.firstByte) - p50(small.direct.firstByte)).toFixed(2)} ms (goal <= 5); ` +
    `start-up +${(withList.p50 - plain.p50).toFixed(2)} ms (goal <= 3)`,
);

await domainProxy().close();
serverProcess.kill();
