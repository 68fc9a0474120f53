/**
 * A request whose own process gave up because the store refused a write (a database restart, a
 * full disk) would otherwise stay open in the record while that process lives: `warden approve`
 * would list it and accept a decision nobody acts on. This closes it as soon as the store takes
 * writes again, with the same machine-derived closing events recovery uses, retrying in the
 * background. I/O: reads and appends to the store; its timer never keeps the process alive.
 */
import type { EventStore } from '../events/eventStore.ts';
import { isExpectedVersionConflictError } from '../errors.ts';
import { replayStream } from '../machines/replay.ts';
import { logger } from '../log.ts';
import { closingEvents, storeFailureWords } from './recovery.ts';

export interface CloseOptions {
  retryMs?: number;
  giveUpAfterMs?: number;
}

/** Resolves true once the stream is final in the store, false when it gave up. Never rejects. */
export function closeAfterStoreFailure(store: EventStore, requestId: string, opts: CloseOptions = {}): Promise<boolean> {
  const retryMs = opts.retryMs ?? 2000;
  const deadline = Date.now() + (opts.giveUpAfterMs ?? 15 * 60_000);
  return new Promise((resolve) => {
    const attempt = async () => {
      try {
        const events = await store.read(requestId);
        if (events.length === 0) return resolve(true);
        const closing = closingEvents(replayStream(events), events, storeFailureWords());
        if (closing.length === 0) return resolve(true);
        await store.append(requestId, events.length, closing.map((e) => ({ ...e, sessionId: events[0]!.sessionId })));
        logger().info({ requestId, appended: closing.map((e) => e.type) }, 'closed a request abandoned after a store failure');
        return resolve(true);
      } catch (error) {
        // A conflict means someone appended meanwhile: look again. Anything else: the store is still down.
        if (!isExpectedVersionConflictError(error) && Date.now() > deadline) {
          logger().warn({ requestId, err: error }, 'gave up closing a request abandoned after a store failure; recovery closes it after this process exits');
          return resolve(false);
        }
      }
      setTimeout(() => void attempt(), retryMs).unref();
    };
    setTimeout(() => void attempt(), retryMs).unref();
  });
}
