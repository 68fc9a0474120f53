/**
 * The write-ahead journal of one request's stream. The machine's emitted events are queued here
 * and appended in order with optimistic concurrency; effects that change the world call `flush()`
 * before they act (classification, which only reads, does not wait), so nothing happens in the
 * world before the events that announce it are durable. Events emitted in
 * one turn of the event loop share one append (one transaction, one fsync).
 *
 * Once an append fails the journal stays failed: every later flush rejects, so no further effect
 * can start on a record that is not durable.
 */
import type { EventStore } from '../events/eventStore.ts';
import type { DomainEvent, EventData, StoredEvent } from '../events/types.ts';
import { isExpectedVersionConflictError } from '../errors.ts';
import { isEndingEvent } from '../events/lifecycle.ts';

export class StreamJournal {
  private version = 0;
  private pending: DomainEvent[] = [];
  private draining: Promise<void> | null = null;
  private failure: unknown = null;
  readonly stored: StoredEvent[] = [];

  constructor(
    private readonly store: EventStore,
    readonly stream: string,
    readonly sessionId: string,
    private readonly onStored?: (event: StoredEvent) => void,
  ) {}

  /** A journal that carries on a stream already stored (another process started it): appends follow its last event. */
  static resume(store: EventStore, events: readonly StoredEvent[], onStored?: (event: StoredEvent) => void): StreamJournal {
    const first = events[0];
    if (!first) throw new Error('cannot resume an empty stream');
    const journal = new StreamJournal(store, first.stream, first.sessionId, onStored);
    journal.version = events.length;
    journal.stored.push(...events);
    return journal;
  }

  get currentVersion(): number {
    return this.version;
  }

  get failed(): unknown {
    return this.failure;
  }

  enqueue(event: DomainEvent): void {
    this.pending.push(event);
    this.draining ??= this.drain();
  }

  /** Resolves once everything enqueued so far (and while waiting) is durable; rejects if any append failed. */
  async flush(): Promise<void> {
    // Effects start synchronously inside the same macrostep that emits their events: yield once so
    // every emit of that step is queued before we wait.
    await null;
    while (this.draining) await this.draining;
    if (this.failure) throw this.failure;
  }

  /**
   * Records a decision that several parties may race to give. On a version conflict the stream is
   * re-read: if someone else already recorded a decision after the last DecisionRequested, that one
   * stands and is returned; anything else is an error.
   */
  async recordDecision(data: EventData<'DecisionRecorded'>): Promise<EventData<'DecisionRecorded'>> {
    await this.flush();
    try {
      await this.appendNow([{ type: 'DecisionRecorded', data }]);
      return data;
    } catch (error) {
      if (!isExpectedVersionConflictError(error)) throw error;
      const existing = await this.adoptStoredDecision();
      if (existing) return existing;
      throw error;
    }
  }

  /** Looks for a decision another process stored for the open question; adopts it when present. */
  async adoptStoredDecision(): Promise<EventData<'DecisionRecorded'> | null> {
    const events = await this.store.read(this.stream);
    const asked = events.findLastIndex((e) => e.type === 'DecisionRequested');
    const decided = events.findIndex((e, i) => i > asked && e.type === 'DecisionRecorded');
    if (asked < 0 || decided < 0) return null;
    // Closed with it (recovery in a process that took this one for gone appends the decision and the
    // end at once): the request is over in the record, so nothing may follow, not even its run.
    const ended = events.slice(decided + 1).find(isEndingEvent);
    if (ended) throw new Error(`request ${this.stream} was closed by another process (${ended.type}) with the decision it stored; nothing further is run or recorded`);
    for (const e of events.slice(this.stored.length)) this.stored.push(e);
    this.version = events.length;
    const found = events[decided]!;
    return found.type === 'DecisionRecorded' ? found.data : null;
  }

  private async appendNow(events: DomainEvent[]): Promise<void> {
    const result = await this.store.append(
      this.stream,
      this.version,
      events.map((e) => ({ ...e, sessionId: this.sessionId })),
    );
    this.version = result.nextExpectedVersion;
    this.stored.push(...result.events);
    if (this.onStored) for (const e of result.events) this.onStored(e);
  }

  private async drain(): Promise<void> {
    // Wait for the end of this turn of the event loop (which also lets `draining` be assigned before
    // this function can reach its `finally`): what the request emits before then shares one append,
    // one transaction and one fsync. A patch's classification reads SQLite synchronously and settles
    // in the same turn as ApprovalRequested, so its verdict, the decision and the run's announcement
    // commit with it instead of one fsync later; a classification that waits on I/O (the shell
    // grammar, PostgreSQL) leaves ApprovalRequested to commit alone meanwhile, as before. No effect
    // starts before its flush, which waits for this.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.pending.length > 0 && !this.failure) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.appendNow(batch);
        } catch (error) {
          this.failure = error;
        }
      }
    } finally {
      this.draining = null;
    }
  }
}
