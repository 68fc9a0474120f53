/**
 * Crash recovery at start of `exec` and `serve`: requests left mid-run or waiting for a decision by
 * a process that died are closed in the store before new work starts (rules in
 * src/requests/recovery.ts and docs/recovery.md). I/O: reads and appends to the store.
 */
import type { EventStore } from '../events/eventStore.ts';
import { logger } from '../log.ts';
import { surfaceShort } from '../present/labels.ts';
import { localProbe, recoverRequests, type ProcessProbe, type RecoveryReport } from '../requests/recovery.ts';

export async function recoverStore(store: EventStore, probe: ProcessProbe = localProbe()): Promise<RecoveryReport> {
  const report = await recoverRequests(store, probe);
  for (const c of report.closed) {
    logger().debug({ requestId: c.requestId, appended: c.appended, owner: c.owner }, 'recovered a request whose process is gone');
    // a person reads this in their terminal: one line, not a JSON log record
    if (logger().isLevelEnabled('warn')) {
      process.stderr.write(
        `warden: closed request ${c.requestId.slice(0, 8)}, left open by ${surfaceShort(c.owner)} process ${c.owner.pid} on ${c.owner.host}, which is gone (recorded: ${c.appended.join(', ')})\n`,
      );
    }
  }
  if (report.conflicts > 0) logger().info({ conflicts: report.conflicts }, 'requests being recovered by another process were skipped');
  return report;
}
