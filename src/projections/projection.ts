/**
 * Projections are folds over the event stream, and a generic runner applies them. Rebuilding from
 * scratch equals applying the same events incrementally (test/property/projections.property.test.ts
 * holds that law, and that the folded states are replay's).
 *
 * The contract about mutation, said honestly: `evolve(doc, event)` depends only on its inputs, but
 * it may update `doc` in place and returns the document to use next. Copying a map of every request
 * per event would make following a large store quadratic. So a document belongs to whoever folds
 * into it: `fold` always starts from a fresh `init()`, the live follower keeps its own, and nobody
 * hands `evolve` a document another reader still holds.
 */
import type { EventType, StoredEvent } from '../events/types.ts';

export interface Projection<Doc> {
  name: string;
  canHandle: readonly EventType[];
  init(): Doc;
  /** The next document; may update `doc` in place (the caller owns it and reads only the result). */
  evolve(doc: Doc, event: StoredEvent): Doc;
}

export function applyEvent<Doc>(projection: Projection<Doc>, doc: Doc, event: StoredEvent): Doc {
  return projection.canHandle.includes(event.type) ? projection.evolve(doc, event) : doc;
}

/** A fresh document folded from `events` (it starts from `init()`, so no one else's document is touched). */
export function fold<Doc>(projection: Projection<Doc>, events: Iterable<StoredEvent>): Doc {
  let acc = projection.init();
  for (const event of events) acc = applyEvent(projection, acc, event);
  return acc;
}
