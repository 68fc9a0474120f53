/**
 * Crash recovery at start of `exec` and `serve`: requests left mid-run or waiting for a decision by
 * a process that died are closed in the store before new work starts (rules in
 * src/requests/recovery.ts and docs/recovery.md). I/O: reads and appends to the store.
 */
import type { EventStore } from '../events/eventStore.ts';
import { logger } from '../log.ts';
import { localProbe, recoverRequests, type ProcessProbe, type RecoveryReport } from '../requests/recovery.ts';

export async function recoverStore(store: EventStore, probe: ProcessProbe = localProbe()): Promise<RecoveryReport> {
  const report = await recoverRequests(store, probe);
  for (const c of report.closed) logger().warn({ requestId: c.requestId, appended: c.appended, owner: c.owner }, 'recovered a request whose process is gone');
  if (report.conflicts > 0) logger().info({ conflicts: report.conflicts }, 'requests being recovered by another process were skipped');
  return report;
}
