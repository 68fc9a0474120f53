/**
 * `warden exec` as a person uses it: the real CLI under a pseudo-terminal answering y, a (and an
 * identical repeat that the session cache approves), n and esc; and without a terminal, where
 * nobody can answer and the request is denied. Real SQLite store, real bwrap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quote } from 'shell-quote';
import { WARDEN, auditRows, warden, wardenOnTerminal } from '../support/cli.ts';
import { eventually } from '../support/eventually.ts';
import { tempDir } from '../support/fixtures.ts';
import { keepsStreamRules } from '../support/streamRules.ts';

function workspace() {
  const dir = tempDir('warden-exec-');
  const store = join(dir, 'events.db');
  // removed once the file's tests are over and the record was checked against the stream rules
  keepsStreamRules(store, dir);
  return { dir, store, cleanup: () => {} };
}

const untrusted = (store: string, ...cmd: string[]) => ['exec', '--approval', 'untrusted', '--store', store, '--', ...cmd];

test('a known-safe command runs at once, without asking, and is recorded', async () => {
  const ws = workspace();
  try {
    const r = await wardenOnTerminal(untrusted(ws.store, 'echo', 'hello'), [], { cwd: ws.dir });
    assert.equal(r.code, 0);
    assert.equal(r.prompts, 0);
    assert.match(r.screen, /hello/);
    const [row] = auditRows(ws.store);
    assert.equal(row!.outcome, 'completed');
    assert.equal(row!.decision_source, 'policy');
    assert.deepEqual(row!.states, ['received', 'classifying', 'autoApproved', 'executing', 'completed']);
  } finally {
    ws.cleanup();
  }
});

test('y approves: the command runs and the decision is recorded as the user\'s', async () => {
  const ws = workspace();
  try {
    const r = await wardenOnTerminal(untrusted(ws.store, 'touch', 'approved.txt'), ['y'], { cwd: ws.dir });
    assert.equal(r.code, 0, r.screen);
    assert.equal(r.prompts, 1);
    assert.match(r.screen, /touch approved\.txt/);
    assert.match(r.screen, new RegExp(ws.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.ok(existsSync(join(ws.dir, 'approved.txt')));
    const [row] = auditRows(ws.store);
    assert.equal(row!.decision, 'approved');
    assert.equal(row!.decision_source, 'user');
    assert.equal(row!.exit_code, 0);
    assert.equal(warden(['verify', '--store', ws.store]).code, 0);
  } finally {
    ws.cleanup();
  }
});

test('a approves for the session: an identical later command runs from the session cache', async () => {
  const ws = workspace();
  try {
    const env = { WARDEN_SESSION: 'pty-session' };
    const first = await wardenOnTerminal(untrusted(ws.store, 'touch', 'cached.txt'), ['a'], { cwd: ws.dir, env });
    assert.equal(first.code, 0, first.screen);
    assert.equal(first.prompts, 1);
    const again = await wardenOnTerminal(untrusted(ws.store, 'touch', 'cached.txt'), [], { cwd: ws.dir, env });
    assert.equal(again.code, 0, again.screen);
    assert.equal(again.prompts, 0, 'the repeat must not ask');
    const other = await wardenOnTerminal(untrusted(ws.store, 'touch', 'cached.txt'), ['n'], { cwd: ws.dir, env: { WARDEN_SESSION: 'another' } });
    assert.equal(other.prompts, 1, 'another session is asked again');
    assert.equal(other.code, 126);
    const rows = auditRows(ws.store);
    assert.deepEqual(
      rows.map((r) => [r.session_id, r.decision, r.decision_source]),
      [
        ['pty-session', 'approved_for_session', 'user'],
        ['pty-session', 'approved', 'session-cache'],
        ['another', 'denied', 'user'],
      ],
    );
  } finally {
    ws.cleanup();
  }
});

test('n denies: nothing runs, exit 126 with one line on stderr', async () => {
  const ws = workspace();
  try {
    const r = await wardenOnTerminal(untrusted(ws.store, 'touch', 'denied.txt'), ['n'], { cwd: ws.dir });
    assert.equal(r.code, 126);
    assert.match(r.screen, /warden: not run: denied by/);
    assert.equal(existsSync(join(ws.dir, 'denied.txt')), false);
    const [row] = auditRows(ws.store);
    assert.equal(row!.outcome, 'rejected');
    assert.equal(row!.decision, 'denied');
    assert.equal(row!.decision_source, 'user');
  } finally {
    ws.cleanup();
  }
});

test('a y typed before the question was shown is not an answer: it is dropped, said so, and the key pressed after decides', async () => {
  // red team: a key typed ahead (while an earlier command ran, or meant for another program) sat in
  // the terminal's queue and approved the question in its first read, recorded as the person's
  const ws = workspace();
  try {
    // warden starts only once the test saw the typed-ahead y echoed, so it waits in the queue first
    const go = join(ws.dir, 'go');
    const inner = `while [ ! -e ${quote([go])} ]; do sleep 0.05; done; exec ${quote([process.execPath, WARDEN, ...untrusted(ws.store, 'touch', 'ahead.txt')])}`;
    const child = spawn('script', ['-qfec', inner, '/dev/null'], { cwd: ws.dir, env: { ...process.env, WARDEN_LOG: 'silent' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    child.stdin.write('y');
    await eventually(() => (screen.includes('y') ? true : undefined), 10_000, 'the typed-ahead y to be echoed');
    writeFileSync(go, '');
    await eventually(() => (/keys typed before this question was shown were ignored/.test(screen) ? true : undefined), 30_000, `the prompt to drop it; screen:\n${screen}`);
    assert.equal(existsSync(join(ws.dir, 'ahead.txt')), false, screen);
    child.stdin.write('n');
    assert.equal(await closed, 126, screen);
    assert.equal(existsSync(join(ws.dir, 'ahead.txt')), false);
    const [row] = auditRows(ws.store);
    assert.equal(row!.decision, 'denied');
    assert.equal(row!.decision_source, 'user');
  } finally {
    ws.cleanup();
  }
});

test('esc aborts: nothing runs, exit 130', async () => {
  const ws = workspace();
  try {
    const r = await wardenOnTerminal(untrusted(ws.store, 'touch', 'aborted.txt'), ['\x1b'], { cwd: ws.dir });
    assert.equal(r.code, 130, r.screen);
    assert.match(r.screen, /warden: aborted/);
    assert.equal(existsSync(join(ws.dir, 'aborted.txt')), false);
    const [row] = auditRows(ws.store);
    assert.equal(row!.outcome, 'aborted');
    assert.equal(row!.decision, 'abort');
  } finally {
    ws.cleanup();
  }
});

test('without a terminal nobody can answer: denied, with that reason recorded', () => {
  const ws = workspace();
  try {
    const r = warden(untrusted(ws.store, 'touch', 'nobody.txt'), { cwd: ws.dir });
    assert.equal(r.code, 126);
    assert.match(r.stderr, /not a terminal/);
    assert.equal(existsSync(join(ws.dir, 'nobody.txt')), false);
    const [row] = auditRows(ws.store);
    assert.equal(row!.decision, 'denied');
    assert.equal(row!.decision_source, 'error');
    assert.match(String(row!.reason), /not a terminal/);
  } finally {
    ws.cleanup();
  }
});

test('the command\'s own exit code and output pass through', () => {
  const ws = workspace();
  try {
    const r = warden(['exec', '--approval', 'never', '--sandbox', 'workspace-write', '--store', ws.store, '--', 'bash', '-c', 'echo out; echo err >&2; exit 7'], { cwd: ws.dir });
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /^err$/m);
    assert.equal(readFileSync(ws.store).subarray(0, 15).toString(), 'SQLite format 3');
    // and the audit shows it as a failure, not a green completion
    const table = warden(['audit', '--store', ws.store]).stdout;
    assert.match(table, /exited 7/);
    assert.doesNotMatch(table, /completed/);
    const [row] = auditRows(ws.store);
    assert.equal(row!.outcome, 'completed'); // the machine's state: the run ended by itself
    assert.equal(row!.result, 'exited 7');
    assert.equal(row!.succeeded, false);
    const only = (name: string) => warden(['audit', '--json', '--outcome', name, '--store', ws.store]);
    assert.equal(only('exited-nonzero').stdout.trim().split('\n').length, 1);
    assert.equal(only('completed').stdout, '');
    assert.equal(only('failed').stdout.trim().split('\n').length, 1);
    assert.notEqual(only('no-such-outcome').code, 0, 'an unknown outcome is an error, not an empty list');
  } finally {
    ws.cleanup();
  }
});

// Issue #13 point 7: what the person approves is what happens, or they hear why not. A write
// outside the writable roots, approved with y, is blocked by the sandbox the approval was about;
// warden then asks again whether to run it without the sandbox, under the same rules as an
// on-failure escalation, and the record says all of it.
test('y on a write outside the roots that the sandbox blocks asks again; y runs it bare', async () => {
  const ws = workspace();
  const outside = tempDir('warden-outside-');
  try {
    const target = join(outside, 'x');
    const r = await wardenOnTerminal(['exec', '--approval', 'untrusted', '--no-tmp-write', '--store', ws.store, '--', 'touch', target], ['y', 'y'], {
      cwd: ws.dir,
    });
    assert.equal(r.prompts, 2, r.screen);
    assert.equal(r.code, 0, r.screen);
    assert.ok(existsSync(target), 'the second approval runs it without the sandbox');
    // the second question says the person's approval was blocked, naming the path
    const plain = r.screen.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/\s+/g, ' ');
    assert.match(plain, /you approved it, but the sandbox blocked it/);
    assert.ok(plain.includes(target), plain);
    const [row] = auditRows(ws.store);
    assert.equal(row!.outcome, 'completed');
    assert.equal(row!.exit_code, 0);
    assert.deepEqual(row!.states, ['received', 'classifying', 'awaitingDecision', 'executing', 'escalating', 'awaitingDecision', 'executing', 'completed']);
    assert.equal(warden(['verify', '--store', ws.store]).code, 0);
    assert.equal(warden(['replay', '--all', '--store', ws.store]).code, 0);
  } finally {
    ws.cleanup();
    rmSync(outside, { recursive: true, force: true });
  }
});

test('y then n: the blocked write stays undone, the request is rejected, and nothing claims it completed', async () => {
  const ws = workspace();
  const outside = tempDir('warden-outside-');
  try {
    const target = join(outside, 'x');
    const r = await wardenOnTerminal(['exec', '--approval', 'untrusted', '--no-tmp-write', '--store', ws.store, '--', 'touch', target], ['y', 'n'], {
      cwd: ws.dir,
    });
    assert.equal(r.prompts, 2, r.screen);
    assert.equal(r.code, 126, r.screen);
    assert.ok(!existsSync(target));
    const [row] = auditRows(ws.store);
    assert.equal(row!.outcome, 'rejected');
    assert.equal(row!.decision, 'denied');
    const table = warden(['audit', '--store', ws.store]).stdout;
    assert.doesNotMatch(table, /completed/);
    assert.equal(warden(['verify', '--store', ws.store]).code, 0);
  } finally {
    ws.cleanup();
    rmSync(outside, { recursive: true, force: true });
  }
});
