/**
 * A raw MCP client for the e2e tests: spawns `node bin/warden.js serve ...` as a child process
 * with a temp SQLite store and workspace, speaks newline-delimited JSON-RPC on its stdio, and lets
 * each test answer `elicitation/create` requests however it likes (including malformed answers and
 * JSON-RPC errors). Every stdout line is kept so tests can check that stdout carried only protocol.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore } from '../../src/events/openStore.ts';
import type { StoredEvent } from '../../src/events/types.ts';

export const REPO = resolve(import.meta.dirname, '../..');
export const WARDEN_BIN = join(REPO, 'bin/warden.js');

export interface Elicitation {
  id: number | string;
  params: Record<string, unknown>;
}

/** What the test replies: a result object, a JSON-RPC error, or nothing yet (it answers later with `respond`). */
export type ElicitReply = { result: unknown } | { error: { code: number; message: string } } | 'later';

export interface ServeOptions {
  args?: string[];
  /** Declare the elicitation capability (default true). */
  elicitation?: boolean;
  onElicit?: (e: Elicitation, client: RawClient) => ElicitReply | Promise<ElicitReply>;
  env?: NodeJS.ProcessEnv;
}

export interface Workspace {
  dir: string;
  ws: string;
  storePath: string;
  rulesPath: string;
}

export function makeWorkspace(): Workspace {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-mcp-')));
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  const rulesPath = join(dir, 'rules.toml');
  writeFileSync(rulesPath, '');
  return { dir, ws, storePath: join(dir, 'events.db'), rulesPath };
}

export class RawClient {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdoutLines: string[] = [];
  readonly nonProtocolLines: string[] = [];
  readonly elicitations: Elicitation[] = [];
  readonly notifications: Array<{ method: string; params?: any }> = [];
  stderr = '';
  private nextId = 1;
  private pending = new Map<number | string, { resolve: (v: any) => void }>();
  private buffer = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly workspace: Workspace,
    readonly options: ServeOptions = {},
  ) {
    const args = [
      WARDEN_BIN,
      'serve',
      '--store',
      workspace.storePath,
      '--rules',
      workspace.rulesPath,
      '--log-level',
      'info',
      // These tests answer at once as a scripted person would; the tests of automatic answers
      // (mcp.whoAnswered) pass their own --min-decision-ms, which comes later and wins.
      '--min-decision-ms',
      '0',
      ...(options.args ?? []),
    ];
    this.child = spawn(process.execPath, args, { cwd: workspace.ws, env: { ...process.env, WARDEN_SESSION: '', ...options.env } });
    this.exited = new Promise((res) => this.child.on('exit', (code) => res(code)));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdout.on('data', (d: Buffer) => this.onData(d.toString()));
  }

  private onData(text: string) {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.stdoutLines.push(line);
      let msg: any;
      try {
        msg = JSON.parse(line);
      } catch {
        this.nonProtocolLines.push(line);
        continue;
      }
      if (msg?.jsonrpc !== '2.0') {
        this.nonProtocolLines.push(line);
        continue;
      }
      if (msg.method === 'elicitation/create' && msg.id !== undefined) void this.handleElicit({ id: msg.id, params: msg.params });
      else if (msg.method !== undefined && msg.id === undefined) this.notifications.push(msg);
      else if (msg.id !== undefined && (msg.result !== undefined || msg.error !== undefined)) {
        this.pending.get(msg.id)?.resolve(msg);
        this.pending.delete(msg.id);
      }
    }
  }

  private async handleElicit(e: Elicitation) {
    this.elicitations.push(e);
    const reply = this.options.onElicit ? await this.options.onElicit(e, this) : { result: { action: 'decline' } };
    if (reply === 'later') return;
    this.respond(e.id, reply);
  }

  respond(id: number | string, reply: { result: unknown } | { error: { code: number; message: string } }) {
    if (this.child.stdin.writable) this.send({ jsonrpc: '2.0', id, ...reply });
  }

  send(msg: unknown) {
    this.child.stdin.write(`${JSON.stringify(msg)}\n`);
  }

  /** Sends a request and resolves with the whole JSON-RPC response (result or error). */
  request(method: string, params?: unknown): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve });
      this.exited.then(() => reject(new Error(`server exited before answering ${method}: ${this.stderr.slice(-2000)}`)));
      this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    });
  }

  async initialize(): Promise<any> {
    const res = await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: this.options.elicitation === false ? {} : { elicitation: {} },
      clientInfo: { name: 'raw-test-client', version: '1.0.0' },
    });
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return res;
  }

  /** `tools/call`; resolves with the result (throws on a JSON-RPC error). */
  async call(name: string, args: unknown): Promise<any> {
    const res = await this.request('tools/call', { name, arguments: args });
    if (res.error) throw Object.assign(new Error(res.error.message), { rpc: res.error });
    return res.result;
  }

  /** Ends stdin as a client that goes away would, and waits for the server to exit. */
  async close(): Promise<number | null> {
    this.child.stdin.end();
    return this.exited;
  }
}

export async function startServer(workspace: Workspace, options: ServeOptions = {}): Promise<RawClient> {
  const client = new RawClient(workspace, options);
  const init = await client.initialize();
  if (init.error) throw new Error(`initialize failed: ${JSON.stringify(init.error)}`);
  return client;
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, ms = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function readEvents(storePath: string, stream?: string): Promise<StoredEvent[]> {
  const store = await openStore({ kind: 'sqlite', path: storePath });
  try {
    return stream ? await store.read(stream) : await store.readAll(1);
  } finally {
    await store.close();
  }
}
