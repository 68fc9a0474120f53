/**
 * The EventStore contract every adapter (SQLite, PostgreSQL) fulfils, checked by one contract
 * suite in test/contract. Streams are request ids; versions start at 1 within a stream; global
 * positions start at 1, are gap-free and give one total order across streams.
 */
import type { Decision } from '../policy.ts';
import type { NewEvent, StoredEvent } from './types.ts';

export interface AppendResult {
  /** The stream's version after the append (its last event's version). */
  nextExpectedVersion: number;
  /** Global position of the last appended event. */
  lastPosition: number;
  events: StoredEvent[];
}

export interface Subscription {
  close(): void;
}

export interface ChainVerdict {
  ok: boolean;
  /** Number of events checked. */
  checked: number;
  /** First position whose link is broken (or where an event is missing), when not ok. */
  firstBadPosition?: number;
  reason?: string;
  /**
   * At start, SQLite's quick_check of the whole file: run now, remembered from an earlier check of
   * the file exactly as it is (quickCheckMemo.ts), or not run (a store past the size it is run on).
   */
  quickCheck?: 'ran' | 'remembered' | 'too-large';
}

export interface EventStore {
  /** Human-readable location (file path or redacted URL). */
  readonly location: string;
  /**
   * Appends atomically and durably. `expectedVersion` is the stream's current version (0 for a new
   * stream); a stale one throws ExpectedVersionConflictError and writes nothing.
   */
  append(stream: string, expectedVersion: number, events: NewEvent[]): Promise<AppendResult>;
  read(stream: string): Promise<StoredEvent[]>;
  /** Events with position >= fromPosition, in position order; at most `limit` when given. */
  readAll(fromPosition?: number, limit?: number): Promise<StoredEvent[]>;
  /** The events of one session, in position order (indexed: cost follows the session, not the log). */
  readSession(sessionId: string): Promise<StoredEvent[]>;
  /**
   * The events of one session's streams in which a DecisionRecorded records one of `decisions`, in
   * position order: what the session-wide approval folds read at every classification
   * (sessionApprovals, sessionDomains), a few streams where readSession is the whole session.
   */
  readSessionDecided(sessionId: string, decisions: readonly Decision[]): Promise<StoredEvent[]>;
  /**
   * Request streams (starting with ApprovalRequested) not provably finished: none of the
   * ENDING_EVENTS (lifecycle.ts), and no SandboxRunFinished without a denial. A superset of the
   * open requests, in request order, answered from an index so recovery need not read the log.
   */
  unfinishedStreams(): Promise<string[]>;
  /** The highest position written so far (0 when empty). */
  headPosition(): Promise<number>;
  /**
   * Calls `onEvent` for every event with position >= fromPosition, in order, then for every later
   * append by any process. `onError` receives failures of the live feed.
   */
  subscribe(fromPosition: number, onEvent: (event: StoredEvent) => void, onError?: (error: unknown) => void): Subscription;
  /** Recomputes the hash chain over the whole store. */
  verify(): Promise<ChainVerdict>;
  /**
   * A check bounded in time, made before `exec` and `serve` start work: the file's own structure
   * (where the adapter can check it) and the tail of the chain against the recorded head. Not ok
   * means: refuse to run anything on this store; `verify` says where it breaks.
   */
  checkAtStart?(): Promise<ChainVerdict>;
  close(): Promise<void>;
}
