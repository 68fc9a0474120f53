/**
 * `warden replay` as a person uses it: a timeline per request and exit 0 on an honest store; exit 1
 * naming the request and the first divergent event once a stored event was edited behind warden's back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runRequest } from '../../src/requests/runRequest.ts';
import { classification, decisions, execRequest, runs, tempSqliteStore } from '../support/fixtures.ts';
import { scenarioEffects } from '../support/scripted.ts';

const WARDEN = join(import.meta.dirname, '../../bin/warden.js');
const warden = (args: string[]) => spawnSync(process.execPath, [WARDEN, ...args], { encoding: 'utf8' });

test('warden replay prints a timeline, exits 0, and 1 naming the first divergent event after an edit', async () => {
  const tmp = tempSqliteStore();
  try {
    const effects = scenarioEffects({ classify: { value: classification.ask() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.approved!() }, execute: { value: runs.exit1() } });
    const a = await runRequest({ store: tmp.store, sessionId: 'sess-a', request: execRequest(), effects });
    await runRequest({ store: tmp.store, sessionId: 'sess-b', request: execRequest(), effects });
    await tmp.store.close();

    const ok = warden(['replay', 'sess-a', '--store', tmp.path]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`request ${a.requestId}`));
    assert.match(ok.stdout, /DecisionRecorded +approved \(user tester\)/);
    assert.match(ok.stdout, /ExecutionFinished +exit 1/);
    assert.match(ok.stdout, /states: received > classifying > awaitingDecision > executing > completed/);
    assert.doesNotMatch(ok.stdout, /sess-b/);

    const json = warden(['replay', '--all', '--json', '--store', tmp.path]);
    assert.equal(json.status, 0);
    const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.filter((r) => r.kind === 'result').length, 2);
    assert.ok(rows.some((r) => r.kind === 'step' && r.event === 'DecisionRecorded' && r.decision_source === 'user' && r.decided_by === 'tester'));

    const db = new Database(tmp.path);
    db.prepare(`UPDATE events SET data = json_set(data, '$.message', 'Allow it?') WHERE stream = ? AND type = 'DecisionRequested'`).run(a.requestId);
    db.close();
    const bad = warden(['replay', '--all', '--store', tmp.path]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, new RegExp(`request ${a.requestId}: replay diverges at event 2: expected DecisionRequested, found DecisionRequested with different data`));
    assert.match(bad.stdout, /found: +DecisionRequested \{.*"message":"Allow it\?"/);

    const none = warden(['replay', '--store', tmp.path]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /give a SESSION/);
  } finally {
    await tmp.cleanup();
  }
});
