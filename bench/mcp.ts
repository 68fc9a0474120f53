/**
 * Round trip of an auto-approved `shell` `["true"]` call through a real MCP client (the SDK's
 * Client over stdio to `warden serve`, durable event commits included), beside spawning `true`
 * directly and running it through the sandbox alone, in the same run, round-robin so that load
 * from other processes hits each alike. Two servers: the default policy (a known-safe command runs
 * in the read-only bwrap sandbox) and `--sandbox danger-full-access` (bare: warden's own overhead).
 * Goal: under 10 ms added at p50.
 *   node --import tsx bench/mcp.ts [N]
 * Large one-line apply_patch calls (1, 8, 32 MiB, time and peak RSS): bench/mcpPatch.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { runCommand } from '../src/sandbox/runCommand.ts';
import { openStore } from '../src/events/openStore.ts';
import { createRuntime } from '../src/cli/runtime.ts';
import { runRequest } from '../src/requests/runRequest.ts';
import { measureRoundRobin } from './roundRobin.ts';
import { builtWarden } from './built.ts';

const N = Number(process.argv[2] ?? 200);
const WARMUP = 20;
const BIN = builtWarden();

function rawSpawn(file: string, args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const c = spawn(file, args, { stdio: 'ignore' });
    c.on('error', rej);
    c.on('exit', () => res());
  });
}

async function connect(extra: string[]): Promise<{ client: Client; ws: string }> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-bench-mcp-')));
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  writeFileSync(join(dir, 'rules.toml'), '');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'serve', '--store', join(dir, 'events.db'), '--rules', join(dir, 'rules.toml'), '--log-level', 'warn', ...extra],
    cwd: ws,
    stderr: 'inherit',
  });
  const client = new Client({ name: 'bench', version: '1' }, { capabilities: {} });
  await client.connect(transport);
  return { client, ws };
}

async function callTrue(client: Client): Promise<void> {
  const r = await client.callTool({ name: 'shell', arguments: { command: ['true'] } });
  if (r.isError || (r.structuredContent as { exitCode: number }).exitCode !== 0) throw new Error(`unexpected result: ${JSON.stringify(r.content)}`);
}

const sandboxed = await connect([]);
const bare = await connect(['--sandbox', 'danger-full-access']);
const RO = { mode: 'read-only' as const, writableRoots: [], network: false, tmpWrite: true };

// The same request through runRequest in this process (no MCP): separates the core's cost from the MCP layer's.
const coreDir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-bench-core-')));
writeFileSync(join(coreDir, 'rules.toml'), '');
const coreStore = await openStore({ kind: 'sqlite', path: join(coreDir, 'events.db') });
const core = await createRuntime({ store: coreStore, rulesPath: join(coreDir, 'rules.toml'), channel: null, decisionTimeoutMs: 1000 });
const barePolicy = { approval: 'on-request' as const, sandbox: 'danger-full-access' as const, writableRoots: [], network: false, tmpWrite: true };
const coreOnce = () =>
  runRequest({
    store: coreStore,
    sessionId: 'bench',
    request: { kind: 'exec', command: ['true'], cwd: coreDir, withEscalatedPermissions: false, policy: barePolicy, origin: { surface: 'bench', pid: process.pid, host: 'bench' } },
    effects: core.effects,
  });

const variants: Array<{ name: string; once: () => Promise<unknown> }> = [
  { name: 'spawn true (baseline)', once: () => rawSpawn('true', []) },
  { name: 'runCommand true, bwrap read-only (sandbox alone)', once: () => runCommand({ command: ['true'], cwd: sandboxed.ws, sandboxSpec: RO }) },
  { name: 'MCP shell ["true"], default policy (read-only bwrap)', once: () => callTrue(sandboxed.client) },
  { name: 'MCP shell ["true"], --sandbox danger-full-access', once: () => callTrue(bare.client) },
  { name: 'runRequest in-process, danger-full-access (no MCP)', once: coreOnce },
];

const rows = await measureRoundRobin(variants, N, WARMUP);
await sandboxed.client.close();
await bare.client.close();
await coreStore.close();

const base = rows[0]!;
const sandboxAlone = rows[1]!;
console.log(`N=${N} after ${WARMUP} warm-up rounds, round-robin\n`);
for (const r of rows) {
  console.log(`${r.name.padEnd(55)} p50 ${r.p50.toFixed(2).padStart(7)} ms   p95 ${r.p95.toFixed(2).padStart(7)} ms   ratio p50 ${(r.p50 / base.p50).toFixed(1)}x`);
}
const [, , mcpSandboxed, mcpBare, coreBare] = rows as [typeof base, typeof base, typeof base, typeof base, typeof base];
console.log('');
console.log(`added at p50 over spawn, bare (warden's own overhead):      ${(mcpBare.p50 - base.p50).toFixed(2)} ms (goal < 10 ms)`);
console.log(`added at p50 over spawn, default policy (with the sandbox): ${(mcpSandboxed.p50 - base.p50).toFixed(2)} ms`);
console.log(`added at p50 over the sandbox alone, default policy:        ${(mcpSandboxed.p50 - sandboxAlone.p50).toFixed(2)} ms`);
console.log(`of which the MCP layer (stdio, JSON-RPC, tool handler):     ${(mcpBare.p50 - coreBare.p50).toFixed(2)} ms; the core (runRequest, commits): ${(coreBare.p50 - base.p50).toFixed(2)} ms`);
