/**
 * Keeps a malformed answer from turning into silence. The SDK drops a JSON-RPC response it cannot
 * validate (a `result` that is not an object, a non-object `_meta`, a malformed `error`, neither
 * result nor error), so a question answered that way would only end at the decision timeout and
 * the answer would be lost to the record. The stdio transport (stdioTransport.ts) hands every
 * parsed response to `guard`, which wraps its result (warden's only requests to the client are
 * questions) in an object under a per-process random key; the channel unwraps it and judges the
 * original value strictly. A well-formed JSON-RPC error passes through (a denial with source
 * `error`); requests and notifications are not its business. A client cannot forge the wrapper: it
 * does not know the key. Works on the parsed value by reference: nothing is walked or
 * re-serialised, so no nesting the client chooses can recurse here. Pure; no I/O.
 */
import { randomUUID } from 'node:crypto';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from './jsonBounds.ts';

export interface ResponseGuard {
  /** The response as the SDK should see it: `msg` itself, or its result wrapped under the key. */
  guard(msg: Record<string, unknown>): Record<string, unknown>;
  /** The value the client actually sent, if the SDK would have dropped it; else `result` itself. */
  unwrap(result: unknown): unknown;
}

function plainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether an id can match one of warden's questions (warden only sends string or integer ids). */
export function usableId(id: unknown): id is string | number {
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id));
}

/** The response to hand on in place of `msg`, or null when it is fine as it is (or not a response with a usable id). */
export function guardResponse(msg: unknown, key: string): Record<string, unknown> | null {
  if (!plainObject(msg) || 'method' in msg) return null;
  // Without a usable id the response cannot be matched to a question; the SDK drops it and the question times out.
  if (!usableId(msg.id)) return null;
  const e = msg.error;
  if (!('result' in msg) && plainObject(e) && Number.isInteger(e.code) && typeof e.message === 'string') return null;
  const { id: _id, ...rest } = msg;
  const original = 'result' in msg && Object.keys(rest).length === 2 && msg.jsonrpc === '2.0' ? msg.result : { unusable_response: rest };
  return { jsonrpc: '2.0', id: msg.id, result: { [key]: original } };
}

/**
 * Line form of `guardResponse` (tests, tools): the rewritten line, or null when the line is fine as
 * it is. A line nested deeper than MAX_JSON_DEPTH is left alone: the transport refuses it before
 * anything would re-serialise it.
 */
export function rewriteLine(line: string, key: string): string | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  let msg: unknown;
  try {
    msg = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (jsonDepthExceeds(msg, MAX_JSON_DEPTH)) return null;
  const out = guardResponse(msg, key);
  return out === null ? null : JSON.stringify(out);
}

export function createResponseGuard(): ResponseGuard {
  const key = `warden_unwrap_${randomUUID()}`;
  return {
    guard: (msg) => guardResponse(msg, key) ?? msg,
    unwrap(result) {
      if (plainObject(result) && Object.keys(result).length === 1 && key in result) return result[key];
      return result;
    },
  };
}
