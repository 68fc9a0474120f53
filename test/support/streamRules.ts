/**
 * After every end-to-end scenario, the record it left must keep the product's own stream rules
 * (src/machines/streamRules.ts: starts with its request, nothing runs without an approving
 * decision before it, fail-closed sources deny, nothing after the end). A scenario's own asserts
 * look at what it is about; this looks at everything else it wrote, so a regression anywhere in a
 * stream is caught by whichever test happened to produce it.
 *
 * `keepsStreamRules(path)` registers a store; one `after` hook per test file checks them all
 * (a store that was never created, or was removed by the test, is skipped). A test that breaks a
 * record on purpose does not register that store.
 */
import { after } from 'node:test';
import { existsSync, rmSync } from 'node:fs';
import { openStore } from '../../src/events/openStore.ts';
import { streamRuleViolations } from '../../src/machines/streamRules.ts';
import type { StoredEvent } from '../../src/events/types.ts';

const registered = new Set<string>();
const removeAfterwards = new Set<string>();

// Registered while the test file is being loaded (this module is imported at its top level), so
// the hook belongs to the file's root and runs once, after every test in it.
after(async () => {
  const problems: string[] = [];
  for (const path of registered) {
    if (!existsSync(path)) continue;
    problems.push(...(await streamRuleProblems(path)).map((p) => `${path}: ${p}`));
  }
  for (const dir of removeAfterwards) rmSync(dir, { recursive: true, force: true });
  if (problems.length > 0) throw new Error(`the record breaks the stream rules:\n${problems.join('\n')}`);
});

/** Every stream rule a log (of any number of streams, in position order) breaks, as `stream: rule: message`. */
export function problemsIn(log: readonly StoredEvent[]): string[] {
  const streams = new Map<string, StoredEvent[]>();
  for (const e of log) streams.set(e.stream, [...(streams.get(e.stream) ?? []), e]);
  return [...streams].flatMap(([id, events]) => streamRuleViolations(events).map((v) => `${id}: ${v.rule}: ${v.message}`));
}

export async function streamRuleProblems(storePath: string): Promise<string[]> {
  const store = await openStore({ kind: 'sqlite', path: storePath });
  try {
    return problemsIn(await store.readAll(1));
  } finally {
    await store.close();
  }
}

/** Check this store after the file's tests; `thenRemove`: a scratch folder to delete once checked. */
export function keepsStreamRules(storePath: string, thenRemove?: string): void {
  registered.add(storePath);
  if (thenRemove !== undefined) removeAfterwards.add(thenRemove);
}
