/**
 * Plays the person at `warden approve` while a real client runs: polls the store's waiting
 * requests and approves each one the test's predicate picks, once. Returns the ids it decided.
 */
import { jsonLines, wardenAsync } from './cliAsync.ts';

/** Plays the person at `warden approve`: approves each waiting request whose command or files match. */
export function approver(store: string, approve: (row: Record<string, unknown>) => boolean): { stop: () => Promise<string[]> } {
  let running = true;
  const decided: string[] = [];
  const loop = (async () => {
    while (running) {
      const list = await wardenAsync(['approve', '--list', '--json', '--store', store]);
      for (const row of jsonLines(list.stdout)) {
        if (!approve(row) || decided.includes(String(row.request_id))) continue;
        const r = await wardenAsync(['approve', '--store', store, '--decide', String(row.request_id), '--decision', 'approved']);
        if (r.code === 0) decided.push(String(row.request_id));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return decided;
    },
  };
}

