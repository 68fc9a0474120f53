/**
 * The delivery loop behind every `subscribe`: remembers the next position owed to the subscriber
 * and, each time it is poked (an in-process append, a NOTIFY, a poll tick, a reconnect), reads from
 * that position onward and delivers in order. Because it always re-reads from the last delivered
 * position, a poke that arrives late, twice or never (covered by the next one) can neither lose nor
 * duplicate an event. No timers of its own (PumpSet defers a new pump's first read by setImmediate); the
 * adapters decide when to poke.
 */
import type { Subscription } from './eventStore.ts';
import type { StoredEvent } from './types.ts';

export type FetchPage = (fromPosition: number, limit: number) => StoredEvent[] | Promise<StoredEvent[]>;

const PAGE = 500;

export class SubscriptionPump implements Subscription {
  private next: number;
  private running = false;
  private again = false;
  private closed = false;

  constructor(
    fromPosition: number,
    private readonly fetch: FetchPage,
    private readonly onEvent: (event: StoredEvent) => void,
    private readonly onError: ((error: unknown) => void) | undefined,
    private readonly onClose: () => void,
  ) {
    this.next = Math.max(1, Math.floor(fromPosition));
  }

  /** The next position this subscriber is owed. */
  get nextPosition(): number {
    return this.next;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Reads and delivers everything from the next owed position; safe to call at any time, any number of times. */
  poke(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
    });
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        for (;;) {
          const page = await this.fetch(this.next, PAGE);
          for (const event of page) {
            if (this.closed) return;
            // Skip anything already delivered (defensive: pages are read from `next`).
            if (event.position < this.next) continue;
            this.next = event.position + 1;
            try {
              this.onEvent(event);
            } catch (error) {
              this.report(error);
            }
          }
          if (page.length < PAGE || this.closed) break;
        }
      } catch (error) {
        // A failed read leaves `next` where it was: the next poke retries from there.
        if (!this.closed) this.report(error);
      }
    } while (this.again && !this.closed);
  }

  /** Hands a failure of the live feed to the subscriber's onError (nothing when closed). */
  report(error: unknown): void {
    if (this.onError && !this.closed) {
      try {
        this.onError(error);
      } catch {
        // an error handler that throws has nowhere further to report to
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

/**
 * One store's live subscriptions, each a SubscriptionPump reading through the adapter's `fetch`.
 * The adapter keeps its live feed (a poll timer, a LISTEN connection) running while the set is not
 * empty: `start` is called on every subscribe (it must be idempotent), `stop` when the last pump
 * closes. The first read of a new pump happens after subscribe() has returned its handle.
 */
export class PumpSet implements Iterable<SubscriptionPump> {
  private readonly pumps = new Set<SubscriptionPump>();

  constructor(
    private readonly fetch: FetchPage,
    private readonly feed: { start(): void; stop(): void },
  ) {}

  subscribe(fromPosition: number, onEvent: (event: StoredEvent) => void, onError?: (error: unknown) => void): SubscriptionPump {
    const pump: SubscriptionPump = new SubscriptionPump(fromPosition, this.fetch, onEvent, onError, () => {
      this.pumps.delete(pump);
      if (this.pumps.size === 0) this.feed.stop();
    });
    this.pumps.add(pump);
    this.feed.start();
    setImmediate(() => pump.poke());
    return pump;
  }

  get size(): number {
    return this.pumps.size;
  }

  [Symbol.iterator](): Iterator<SubscriptionPump> {
    return this.pumps[Symbol.iterator]();
  }

  pokeAll(): void {
    for (const pump of this.pumps) pump.poke();
  }

  /** Tells every subscriber the store failed (each pump reports it once, to its onError). */
  reportAll(error: unknown): void {
    for (const pump of this.pumps) pump.report(error);
  }

  closeAll(): void {
    for (const pump of [...this.pumps]) pump.close();
  }
}
