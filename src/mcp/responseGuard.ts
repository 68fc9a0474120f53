/**
 * Keeps a malformed answer from turning into silence. The SDK drops a JSON-RPC response it cannot
 * validate (a `result` that is not an object, a non-object `_meta`, a malformed `error`, neither
 * result nor error), so a question answered that way would only end at the decision timeout and
 * the answer would be lost to the record. This line filter sits between stdin and the transport
 * and wraps the result of every response (warden's only requests to the client are questions) in
 * an object under a per-process random key; the channel unwraps it and judges the original value
 * strictly. A well-formed JSON-RPC error passes through (a denial with source `error`); requests
 * and notifications pass through byte for byte. A client cannot forge the wrapper: it does not
 * know the key. Pure stream transform; no I/O.
 */
import { randomUUID } from 'node:crypto';
import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export interface ResponseGuard {
  /** Pipe stdin through this before the transport reads it. */
  stream: Transform;
  /** The value the client actually sent, if the SDK would have dropped it; else `result` itself. */
  unwrap(result: unknown): unknown;
}

function plainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Rewrites one line if it is a response the SDK would drop; null when it is fine as it is. */
export function rewriteLine(line: string, key: string): string | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  let msg: unknown;
  try {
    msg = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (!plainObject(msg) || 'method' in msg) return null;
  // Without a usable id the response cannot be matched to a question; the SDK drops it and the question times out.
  if (typeof msg.id !== 'string' && !(typeof msg.id === 'number' && Number.isInteger(msg.id))) return null;
  const e = msg.error;
  if (!('result' in msg) && plainObject(e) && Number.isInteger(e.code) && typeof e.message === 'string') return null;
  const { id: _id, ...rest } = msg;
  const original = 'result' in msg && Object.keys(rest).length === 2 && msg.jsonrpc === '2.0' ? msg.result : { unusable_response: rest };
  return JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { [key]: original } });
}

export function createResponseGuard(): ResponseGuard {
  const key = `warden_unwrap_${randomUUID()}`;
  let pending = '';
  const decoder = new StringDecoder('utf8');
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      pending += decoder.write(chunk);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      const out = lines.map((line) => `${rewriteLine(line, key) ?? line}\n`).join('');
      done(null, out);
    },
    flush(done) {
      pending += decoder.end();
      done(null, pending === '' ? '' : (rewriteLine(pending, key) ?? pending));
    },
  });
  return {
    stream,
    unwrap(result) {
      if (plainObject(result) && Object.keys(result).length === 1 && key in result) return result[key];
      return result;
    },
  };
}
