/**
 * Projections are folds over the event stream: `evolve(doc, event)` is pure, and a generic runner
 * applies it. Rebuilding from scratch equals applying the same events incrementally.
 */
import type { EventType, StoredEvent } from '../events/types.ts';

export interface Projection<Doc> {
  name: string;
  canHandle: readonly EventType[];
  init(): Doc;
  evolve(doc: Doc, event: StoredEvent): Doc;
}

export function applyEvent<Doc>(projection: Projection<Doc>, doc: Doc, event: StoredEvent): Doc {
  return projection.canHandle.includes(event.type) ? projection.evolve(doc, event) : doc;
}

export function fold<Doc>(projection: Projection<Doc>, events: Iterable<StoredEvent>, doc: Doc = projection.init()): Doc {
  let acc = doc;
  for (const event of events) acc = applyEvent(projection, acc, event);
  return acc;
}
