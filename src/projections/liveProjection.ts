/**
 * Keeps a projection up to date from the store: folds everything so far, then follows `subscribe`.
 * `caughtUp()` resolves once the fold has reached the head as it was when asked.
 */
import type { EventStore, Subscription } from '../events/eventStore.ts';
import { applyEvent, type Projection } from './projection.ts';

export interface LiveProjection<Doc> {
  readonly doc: Doc;
  readonly position: number;
  caughtUp(): Promise<void>;
  close(): void;
}

export function followProjection<Doc>(store: EventStore, projection: Projection<Doc>, onChange?: (doc: Doc) => void): LiveProjection<Doc> {
  let doc = projection.init();
  let position = 0;
  const waiters: Array<{ head: number; resolve: () => void }> = [];
  const settle = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (position >= waiters[i]!.head) waiters.splice(i, 1)[0]!.resolve();
    }
  };
  const sub: Subscription = store.subscribe(1, (event) => {
    doc = applyEvent(projection, doc, event);
    position = event.position;
    onChange?.(doc);
    settle();
  });
  return {
    get doc() {
      return doc;
    },
    get position() {
      return position;
    },
    async caughtUp() {
      const head = await store.headPosition();
      if (position >= head) return;
      // The store's poll timer is unref'd; while someone awaits catching up, hold the event loop
      // open ourselves, or Node exits (code 13, unsettled await) when another process appended.
      const keepAlive = setInterval(() => {}, 1000);
      try {
        await new Promise<void>((resolve) => {
          waiters.push({ head, resolve });
          settle();
        });
      } finally {
        clearInterval(keepAlive);
      }
    },
    close: () => sub.close(),
  };
}
