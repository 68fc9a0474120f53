/**
 * Placeholder seam for crash recovery at start (issue 6 fills it in): a request left mid-run or
 * waiting for a decision by a process that died is closed in the store before new work starts.
 */
import type { EventStore } from '../events/eventStore.ts';

export async function recoverStore(_store: EventStore): Promise<void> {}
