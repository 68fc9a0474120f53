/**
 * The adapter-independent half of an append: checking the caller's input and stamping validated
 * events with their position, version, time and hash-chain link. Pure (no I/O); used by the SQLite
 * and PostgreSQL adapters so both record exactly the same bytes for the same input.
 */
import { eventHash } from './hashChain.ts';
import { parseDomainEvent, type NewEvent, type StoredEvent } from './types.ts';

/** Where the log ends: the last event's position and hash (0 and genesis when empty). */
export interface ChainHead {
  position: number;
  hash: string;
}

/**
 * Validates the arguments of `append` and every event against its zod schema. Throws (a ZodError
 * naming the field, or a TypeError/RangeError for bad arguments) before anything is written.
 */
export function validateAppend(stream: string, expectedVersion: number, events: readonly NewEvent[]): NewEvent[] {
  if (typeof stream !== 'string' || stream.length === 0) throw new TypeError('append: stream must be a non-empty string');
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new RangeError(`append: expectedVersion must be an integer >= 0, got ${String(expectedVersion)}`);
  }
  if (!Array.isArray(events) || events.length === 0) throw new RangeError('append: at least one event is required');
  return events.map((event, i) => {
    const sessionId = (event as { sessionId?: unknown } | null)?.sessionId;
    if (typeof sessionId !== 'string' || sessionId.length === 0) {
      throw new TypeError(`append: event ${i} needs a non-empty sessionId`);
    }
    // Only the validated shape is recorded: unknown keys are dropped by the schema.
    const parsed = parseDomainEvent({ type: (event as { type?: unknown }).type, data: (event as { data?: unknown }).data });
    return { ...parsed, sessionId } as NewEvent;
  });
}

/** Stamps validated events as the next ones after `head` in the log and `version` in the stream. */
export function stampEvents(
  head: ChainHead,
  stream: string,
  version: number,
  events: readonly NewEvent[],
  time: string,
): StoredEvent[] {
  let prevHash = head.hash;
  return events.map((event, i) => {
    const meta = {
      stream,
      sessionId: event.sessionId,
      version: version + i + 1,
      position: head.position + i + 1,
      time,
    };
    const hash = eventHash(prevHash, { ...meta, type: event.type, data: event.data });
    const stored = { type: event.type, data: event.data, ...meta, prevHash, hash } as StoredEvent;
    prevHash = hash;
    return stored;
  });
}
