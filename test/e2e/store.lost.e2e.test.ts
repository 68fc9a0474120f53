/**
 * The store cannot disappear under `warden serve` silently: with events.db deleted, or replaced by
 * another file, SQLite would go on writing to the unlinked file. Every later call must fail closed
 * (nothing runs: each run is announced by an append first), a question waiting for a person is
 * withdrawn at once, and warden's log says what happened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, makeWorkspace, readEvents, startServer } from './mcp.harness.ts';

const refusedText = /could not record this request/;

for (const how of ['deleted', 'replaced'] as const) {
  test(`events.db ${how} under a running serve: later calls run nothing, a waiting question is withdrawn`, async () => {
    const w = makeWorkspace();
    let asked = 0;
    const client = await startServer(w, {
      args: ['--approval', 'on-request', '--sandbox', 'workspace-write'],
      onElicit: () => {
        asked++;
        return 'later';
      },
    });
    const ok = await client.call('shell', { command: ['touch', 'before'] });
    assert.equal(ok.structuredContent.exitCode, 0, ok.content[0].text);
    const recorded = (await readEvents(w.storePath)).length;
    // A question waiting for a person (escalated permissions always ask).
    const waiting = client.call('shell', { command: ['touch', 'asked'], with_escalated_permissions: true, justification: 'test' });
    await eventually(() => (asked > 0 ? true : undefined), 20_000, 'the question was put');
    if (how === 'deleted') {
      rmSync(w.storePath);
    } else {
      copyFileSync(w.storePath, `${w.storePath}.copy`);
      renameSync(`${w.storePath}.copy`, w.storePath);
    }
    const withdrawn = await waiting;
    assert.equal(withdrawn.isError, true);
    assert.match(withdrawn.content[0].text, refusedText);
    const after = await client.call('shell', { command: ['touch', 'after'] });
    assert.equal(after.isError, true, after.content[0].text);
    assert.match(after.content[0].text, refusedText);
    const again = await client.call('shell', { command: ['touch', 'again'] });
    assert.match(again.content[0].text, refusedText);
    for (const f of ['asked', 'after', 'again']) assert.equal(existsSync(join(w.ws, f)), false, `${f} ran without a record`);
    assert.match(client.stderr, new RegExp(`was ${how === 'deleted' ? 'deleted' : 'replaced by another file'} while warden was running`));
    if (how === 'replaced') {
      // The file audit reads now holds exactly what was there when it was swapped in.
      const events = await readEvents(w.storePath);
      assert.ok(events.length >= recorded);
      assert.ok(!events.some((e) => e.type === 'ApprovalRequested' && e.data.command?.includes('after')));
    }
    await client.close();
  });
}
