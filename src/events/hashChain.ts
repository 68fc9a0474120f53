/**
 * The SHA-256 chain that makes the log tamper-evident: each event's hash covers its predecessor's
 * hash and every recorded field, position included, so an edit, deletion, insertion or reordering
 * breaks the chain at the first affected position. Pure; shared by every adapter.
 */
import { createHash } from 'node:crypto';
import type { StoredEvent } from './types.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so the hash does not depend on property order or the database's JSON re-encoding. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface HashInput {
  position: number;
  stream: string;
  sessionId: string;
  version: number;
  time: string;
  type: string;
  data: unknown;
}

export function eventHash(prevHash: string, e: HashInput): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson([e.position, e.stream, e.sessionId, e.version, e.time, e.type, e.data]))
    .digest('hex');
}

export interface ChainBreak {
  position: number;
  reason: string;
}

/**
 * Checks one event against the previous one (or genesis). Returns the break, if any.
 * `expectedPosition` is the position the event must have for the log to be gap-free.
 */
export function checkLink(prevHash: string, expectedPosition: number, e: StoredEvent): ChainBreak | null {
  if (e.position !== expectedPosition) {
    return { position: expectedPosition, reason: `expected position ${expectedPosition}, found ${e.position} (event missing or reordered)` };
  }
  if (e.prevHash !== prevHash) {
    return { position: e.position, reason: 'previous-hash link does not match the preceding event' };
  }
  if (eventHash(prevHash, e) !== e.hash) {
    return { position: e.position, reason: 'hash does not match the event content (edited)' };
  }
  return null;
}
