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
import { keepsStreamRules } from '../support/streamRules.ts';

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
  /** The name sent in initialize (default raw-test-client; `claude-code` gets the output in structuredContent). */
  clientName?: string;
  /** Pass `--store` (default true); false: serve uses its default location (from HOME / XDG_STATE_HOME). */
  storeFlag?: boolean;
  /**
   * Start serve through a stand-in client process (its stdio passed on), as a real client would:
   * then serve's launcher is the stand-in, not this test process, so a person's process the test
   * starts (a browser) may decide. `child` is then the stand-in.
   */
  viaClient?: boolean;
}

/** The stand-in client: runs its argv with stdio inherited and passes its exit on. */
const CLIENT_STUB = `const c = require('node:child_process').spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit' }); c.on('exit', (code) => process.exit(code ?? 1)); process.on('SIGTERM', () => c.kill('SIGTERM'));`;

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
  const storePath = join(dir, 'events.db');
  keepsStreamRules(storePath);
  return { dir, ws, storePath, rulesPath };
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
      ...(options.storeFlag === false ? [] : ['--store', workspace.storePath]),
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
    this.child = spawn(process.execPath, options.viaClient ? ['-e', CLIENT_STUB, ...args] : args, { cwd: workspace.ws, env: { ...process.env, WARDEN_SESSION: '', ...options.env } });
    this.exited = new Promise((res) => this.child.on('exit', (code) => res(code)));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    // A multi-byte character split across two reads must not become two replacement characters.
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => this.onData(d));
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
      clientInfo: { name: this.options.clientName ?? 'raw-test-client', version: '1.0.0' },
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

export { eventually } from '../support/eventually.ts';

export async function readEvents(storePath: string, stream?: string): Promise<StoredEvent[]> {
  const store = await openStore({ kind: 'sqlite', path: storePath });
  try {
    return stream ? await store.read(stream) : await store.readAll(1);
  } finally {
    await store.close();
  }
}

/**
 * A tool result's stdout or stderr, wherever this client got it: structuredContent (clients that
 * read it instead of the text) or the text block's `--- stdout ---` section (every other client).
 */
export function outputOf(r: any, stream: 'stdout' | 'stderr' = 'stdout'): string | undefined {
  if (r.structuredContent?.[stream] !== undefined) return r.structuredContent[stream];
  const text: string = r.content[0].text;
  const m = new RegExp(`\\n--- ${stream}(?: \\(base64\\))? ---\\n`).exec(text);
  if (!m) return undefined;
  const rest = text.slice(m.index + m[0].length);
  const other = stream === 'stdout' ? rest.indexOf('\n--- stderr') : -1;
  return other >= 0 ? rest.slice(0, other) : rest;
}
