/**
 * warden's MCP stdio transport, in place of the SDK's. The SDK's read buffer concatenates every
 * chunk onto what it holds (quadratic: an 8 MiB line took 833 ms and 320 MB) and at 10 MiB closes
 * itself without telling the server, so one large apply_patch silently ended the session. Here:
 *
 * - lines are split in linear time (each byte is scanned once; a line is joined once, when it ends);
 *   a line over MAX_LINE_BYTES is read and dropped as it streams, never buffered, and answered with
 *   a JSON-RPC error (the id is read from its first bytes; without one it is logged), and the
 *   session goes on;
 * - every frame is checked before the SDK sees it, and gets the error JSON-RPC names: −32700 for
 *   what is not JSON, −32600 for what is not a JSON-RPC 2.0 request (a batch, another version, a
 *   float or null id, nesting deeper than MAX_JSON_DEPTH), −32602 for params that do not fit the
 *   method (`arguments: null`, an array): never silence (a client would hang) and never a raw dump;
 * - nothing runs before `initialize`: until warden has answered it, any other request (but ping) is
 *   refused, and notifications are dropped;
 * - a request whose id is still in use by one warden has not answered gets −32600 and never runs:
 *   the SDK keys a call's cancellation by id, so a second call under it would take the first one's
 *   place, and the client's notifications/cancelled would stop only the second while the first
 *   could still be approved and run (and two results would carry one id);
 * - responses (answers to warden's questions) go through the response guard (responseGuard.ts).
 *
 * I/O: reads the input stream, writes the output stream.
 */
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  InitializeRequestSchema,
  JSONRPCMessageSchema,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { logger } from '../log.ts';
import { MAX_JSON_DEPTH, MAX_LINE_BYTES, jsonDepthExceeds } from './jsonBounds.ts';
import { usableId, type ResponseGuard } from './responseGuard.ts';

/** How much of an oversized line is kept to read its id from. */
const SNIFF_BYTES = 64 * 1024;
/** Requests allowed before the session is initialized (the MCP lifecycle allows ping). */
const BEFORE_INIT = new Set(['initialize', 'ping']);
/** Methods whose params warden checks itself, so a mismatch is −32602 and not the SDK's −32603. */
const PARAM_SCHEMAS: Record<string, z.ZodType> = {
  initialize: InitializeRequestSchema,
  'tools/call': CallToolRequestSchema,
};

export interface TransportOptions {
  guard?: ResponseGuard;
  maxLineBytes?: number;
}

function plainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function zodSummary(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue?.message ?? 'invalid'}`.slice(0, 300);
}

/**
 * The top-level `id` and whether a `method` key appears, read from the start of a JSON object
 * without parsing it (it may be cut anywhere). A small scanner that tracks strings and depth, so an
 * `"id"` inside params is not taken for the message's own.
 */
export function sniffEnvelope(text: string): { id?: string | number; method: boolean } {
  let depth = 0;
  let i = 0;
  let method = false;
  let id: string | number | undefined;
  let key: string | null = null;
  let expectKey = false;
  const readString = (): string | null => {
    // text[i] === '"'
    let j = i + 1;
    let out = '';
    while (j < text.length) {
      const ch = text[j]!;
      if (ch === '\\') {
        out += text.slice(j, j + 2);
        j += 2;
        continue;
      }
      if (ch === '"') {
        i = j + 1;
        try {
          return JSON.parse(`"${out}"`) as string;
        } catch {
          return null;
        }
      }
      out += ch;
      j += 1;
    }
    i = text.length;
    return null;
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      const s = readString();
      if (s === null) break;
      if (depth === 1 && expectKey) {
        key = s;
        expectKey = false;
        if (s === 'method') method = true;
      } else if (depth === 1 && key === 'id' && id === undefined) {
        id = s;
      }
      continue;
    }
    if (ch === '{' || ch === '[') {
      depth += 1;
      if (depth === 1) expectKey = true;
    } else if (ch === '}' || ch === ']') {
      depth -= 1;
    } else if (ch === ',' && depth === 1) {
      expectKey = true;
      key = null;
    } else if (depth === 1 && key === 'id' && id === undefined && /[-0-9]/.test(ch)) {
      const m = /^-?\d+(?![.eE\d])/.exec(text.slice(i, i + 32));
      if (m) id = Number(m[0]);
    }
    i += 1;
  }
  return id !== undefined && usableId(id) ? { id, method } : { method };
}

export class WardenStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly maxLineBytes: number;
  private chunks: Buffer[] = [];
  private size = 0;
  /** Set while an oversized line is being skipped: its first bytes and its length so far. */
  private skipping: { head: Buffer; bytes: number } | null = null;
  private initialized = false;
  private readonly initializeIds = new Set<string | number>();
  /** The ids of the client's requests that warden has not answered (nor seen cancelled) yet. */
  private readonly openIds = new Set<string | number>();
  private started = false;
  private closed = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly options: TransportOptions = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  private readonly onData = (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) {
        this.take(buf.subarray(start));
        return;
      }
      this.take(buf.subarray(start, nl));
      this.endLine();
      start = nl + 1;
      if (this.closed) return;
    }
  };

  private readonly onEnd = () => {
    if (this.size > 0 || this.skipping) this.endLine();
  };

  private readonly onInputError = (error: Error) => this.onerror?.(error);

  async start(): Promise<void> {
    if (this.started) throw new Error('the warden stdio transport is already started');
    this.started = true;
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('error', this.onInputError);
  }

  private take(part: Buffer): void {
    if (part.length === 0) return;
    if (this.skipping) {
      this.skipping.bytes += part.length;
      return;
    }
    if (this.size + part.length > this.maxLineBytes) {
      const head = Buffer.concat([...this.chunks, part.subarray(0, SNIFF_BYTES)]).subarray(0, SNIFF_BYTES);
      this.skipping = { head, bytes: this.size + part.length };
      this.chunks = [];
      this.size = 0;
      return;
    }
    this.chunks.push(part);
    this.size += part.length;
  }

  private endLine(): void {
    if (this.skipping) {
      const { head, bytes } = this.skipping;
      this.skipping = null;
      this.oversized(head.toString('utf8'), bytes);
      return;
    }
    const line = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    let text = line.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (error) {
      this.reject(null, ErrorCode.ParseError, `Parse error: the line is not JSON (${(error as Error).message.slice(0, 200)})`);
      return;
    }
    this.frame(msg);
  }

  private oversized(head: string, bytes: number): void {
    const { id, method } = sniffEnvelope(head);
    const why = `a message of ${bytes} bytes is over warden's line limit of ${this.maxLineBytes} bytes; it was not read`;
    if (id === undefined) {
      logger().error({ bytes, limit: this.maxLineBytes }, `MCP protocol error: ${why}, and it has no readable id to answer`);
      return;
    }
    if (method) {
      this.reject(id, ErrorCode.InvalidRequest, why);
      return;
    }
    // An answer to one of warden's questions: it reaches the question as unusable, a recorded denial.
    logger().error({ bytes, id }, `MCP protocol error: ${why}`);
    this.deliver(this.options.guard ? this.options.guard.guard({ jsonrpc: '2.0', id, too_large: why }) : null);
  }

  /** Checks one parsed frame and hands it on, or answers it with the error JSON-RPC names. */
  private frame(msg: unknown): void {
    if (Array.isArray(msg)) {
      this.reject(null, ErrorCode.InvalidRequest, 'Invalid Request: JSON-RPC batches are not supported (MCP removed them); send one message per line');
      return;
    }
    if (!plainObject(msg)) {
      this.reject(null, ErrorCode.InvalidRequest, 'Invalid Request: a JSON-RPC message is an object');
      return;
    }
    const isRequest = 'method' in msg;
    const id = usableId(msg.id) ? msg.id : null;
    if (jsonDepthExceeds(msg, MAX_JSON_DEPTH)) {
      if (isRequest || id === null) this.reject(isRequest ? id : null, ErrorCode.InvalidRequest, `Invalid Request: the message nests deeper than ${MAX_JSON_DEPTH} levels`);
      else this.deliver(this.options.guard?.guard({ jsonrpc: '2.0', id, too_deep: `nested deeper than ${MAX_JSON_DEPTH} levels` }) ?? null);
      return;
    }
    if (!isRequest) {
      // A response: to one of warden's questions, or to nothing (then there is nobody to answer).
      if (id === null) {
        logger().warn({ id: typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : String(msg.id) }, 'MCP protocol error: a response without a usable id was dropped');
        return;
      }
      this.deliver(this.options.guard ? this.options.guard.guard(msg) : msg);
      return;
    }
    const notification = !('id' in msg);
    const refuse = (code: number, message: string) => {
      if (notification) logger().warn({ method: String(msg.method).slice(0, 100) }, `MCP protocol error: notification dropped: ${message}`);
      else this.reject(id, code, message);
    };
    if (msg.jsonrpc !== '2.0') return refuse(ErrorCode.InvalidRequest, `Invalid Request: jsonrpc must be "2.0", got ${JSON.stringify(msg.jsonrpc) ?? 'nothing'}`);
    if (typeof msg.method !== 'string') return refuse(ErrorCode.InvalidRequest, 'Invalid Request: method must be a string');
    if (!notification && id === null) {
      this.reject(null, ErrorCode.InvalidRequest, 'Invalid Request: id must be a string or an integer');
      return;
    }
    if ('params' in msg && !plainObject(msg.params)) return refuse(ErrorCode.InvalidParams, `Invalid params: params of ${msg.method} must be an object`);
    if (!this.initialized && !BEFORE_INIT.has(msg.method)) {
      return refuse(ErrorCode.InvalidRequest, `Invalid Request: ${msg.method} before initialize; the session starts with initialize`);
    }
    const schema = notification ? undefined : PARAM_SCHEMAS[msg.method];
    if (schema) {
      const checked = schema.safeParse(msg);
      if (!checked.success) return refuse(ErrorCode.InvalidParams, `Invalid params for ${msg.method}: ${zodSummary(checked.error)}`);
    }
    const envelope = JSONRPCMessageSchema.safeParse(msg);
    if (!envelope.success) return refuse(ErrorCode.InvalidRequest, `Invalid Request: ${zodSummary(envelope.error)}`);
    if (id !== null && !notification) {
      if (this.openIds.has(id)) return refuse(ErrorCode.InvalidRequest, `Invalid Request: id ${JSON.stringify(id)} is still in use by a request warden has not answered; nothing was run`);
      this.openIds.add(id);
    }
    // A cancelled request gets no answer (MCP): its id is free again.
    if (notification && msg.method === 'notifications/cancelled' && plainObject(msg.params) && usableId(msg.params.requestId)) this.openIds.delete(msg.params.requestId);
    if (msg.method === 'initialize' && id !== null) this.initializeIds.add(id);
    this.onmessage?.(msg as JSONRPCMessage);
  }

  private deliver(msg: Record<string, unknown> | null): void {
    if (msg === null) return;
    const parsed = JSONRPCMessageSchema.safeParse(msg);
    if (!parsed.success) {
      logger().warn('MCP protocol error: a response the SDK cannot take was dropped');
      return;
    }
    this.onmessage?.(msg as JSONRPCMessage);
  }

  private reject(id: string | number | null, code: number, message: string): void {
    logger().warn({ id, code }, `MCP protocol error answered: ${message}`);
    void this.write({ jsonrpc: '2.0', id, error: { code, message } });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const m = message as Record<string, unknown>;
    if (('result' in m || 'error' in m) && usableId(m.id)) this.openIds.delete(m.id);
    // The session is open once warden has answered initialize successfully.
    if ('result' in m && usableId(m.id) && this.initializeIds.has(m.id)) {
      this.initializeIds.delete(m.id);
      this.initialized = true;
    }
    return this.write(m);
  }

  private write(message: unknown): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.output.destroyed) return resolve();
      if (this.output.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.output.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('error', this.onInputError);
    if (this.input.listenerCount('data') === 0) this.input.pause();
    this.chunks = [];
    this.onclose?.();
  }
}
