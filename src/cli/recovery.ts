/**
 * Crash recovery at start of `exec` and `serve`: requests left mid-run or waiting for a decision by
 * a process that died are closed in the store before new work starts (rules in
 * src/requests/recovery.ts and docs/recovery.md). I/O: reads and appends to the store.
 */
import type { EventStore } from '../events/eventStore.ts';
import { logger } from '../log.ts';
import { StoreError, isStoreLostError } from '../errors.ts';
import { surfaceShort } from '../present/labels.ts';
import { localProbe, recoverRequests, type ProcessProbe, type RecoveryReport } from '../requests/recovery.ts';

/**
 * Refuses a store that fails its start-up check (a damaged page, a chain tail that does not match
 * its head): nothing may run with a record in a file that audit and verify call corrupt.
 */
export async function checkStoreAtStart(store: EventStore): Promise<void> {
  let verdict: Awaited<ReturnType<NonNullable<EventStore['checkAtStart']>>> | undefined;
  try {
    verdict = await store.checkAtStart?.();
  } catch (error) {
    // SQLITE_CORRUPT while checking is the check's answer, not a crash of it.
    if (!(error instanceof StoreError) || isStoreLostError(error)) throw error;
    verdict = { ok: false, checked: 0, reason: (error as Error).message };
  }
  if (verdict && !verdict.ok) {
    const where = verdict.firstBadPosition === undefined ? '' : ` at position ${verdict.firstBadPosition}`;
    throw new StoreError(
      `the event store ${store.location} failed its check at start${where}: ${verdict.reason ?? 'damaged'}; nothing was run. ` +
        `Run \`warden verify --store ${store.location}\` to see where the record breaks.`,
    );
  }
}

export async function recoverStore(store: EventStore, probe: ProcessProbe = localProbe()): Promise<RecoveryReport> {
  await checkStoreAtStart(store);
  const report = await recoverRequests(store, probe);
  // what recovery recorded, in words: "denied, nobody left to answer" rather than event names
  const closedAs = (appended: readonly string[]) =>
    appended.includes('Rejected') ? 'denied: nobody was left to answer' : appended.includes('Interrupted') ? 'marked interrupted: it may have run partly' : appended.includes('Aborted') ? 'aborted' : 'closed';
  for (const c of report.closed) {
    logger().debug({ requestId: c.requestId, appended: c.appended, owner: c.owner }, 'recovered a request whose process is gone');
    // a person reads this in their terminal: one line, not a JSON log record
    if (logger().isLevelEnabled('warn')) {
      process.stderr.write(
        `warden: closed request ${c.requestId.slice(0, 8)} (${closedAs(c.appended)}): the ${surfaceShort(c.owner)} process ${c.owner.pid} on ${c.owner.host} that made it is gone\n`,
      );
    }
  }
  if (report.conflicts > 0) logger().info({ conflicts: report.conflicts }, 'requests being recovered by another process were skipped');
  return report;
}
