/**
 * The SHA-256 chain that makes the log tamper-evident: each event's hash covers its predecessor's
 * hash and every recorded field, position included, so an edit, deletion, insertion or reordering
 * breaks the chain at the first affected position. Pure; shared by every adapter.
 */
import { createHash } from 'node:crypto';
import type { StoredEvent } from './types.ts';

export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted, so the hash does not depend on property order or the database's JSON
 * re-encoding. Written as loops, and an array of plain values handed whole to JSON.stringify (which
 * writes it exactly so): every start re-hashes the store's last events (a run's events carry the
 * ~100 hidden paths twice), and the recursive map/sort/join form cost ~15 ms of that start-up.
 * The output is the one the hash chain was defined with, byte for byte
 * (test/property/hashChain.canonicalJson.property.test.ts).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let flat = true;
    for (let i = 0; i < value.length && flat; i++) flat = i in value && (typeof value[i] !== 'object' || value[i] === null);
    if (flat) return JSON.stringify(value);
    // A hole is written as nothing, as the definition's map-and-join wrote it (JSON.parse makes none).
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (i in value ? canonicalJson(value[i]) : '');
    return `${out}]`;
  }
  // sort()'s default order is by UTF-16 code units, as `<` compares strings
  const keys = Object.keys(value).sort();
  let out = '{';
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
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
