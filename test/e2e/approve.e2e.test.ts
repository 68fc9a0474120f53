/**
 * Deciding from another terminal, with real processes: a `warden exec` waits for a person on a
 * pseudo-terminal (util-linux `script`), and `warden approve` in another process decides it. The
 * exec proceeds within a second, its audit row names the person, and the same request cannot be
 * decided twice. The interactive view is driven with real key presses on a pty.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { onTerminalArgs } from '../support/cli.ts';
import { eventually } from '../support/eventually.ts';
import { keepsStreamRules } from '../support/streamRules.ts';

const WARDEN = join(import.meta.dirname, '../../bin/warden.js');

interface Env {
  dir: string;
  store: string;
}

function setup(): Env {
  const dir = mkdtempSync(join(tmpdir(), 'warden-approve-'));
  const store = join(dir, 'events.db');
  // removed once the file's tests are over and the record was checked against the stream rules
  keepsStreamRules(store, dir);
  return { dir, store };
}

const warden = (env: Env, args: string[]) =>
  spawnSync(process.execPath, [WARDEN, ...args, '--store', env.store], { cwd: env.dir, encoding: 'utf8', env: { ...process.env, WARDEN_SESSION: 'approve-e2e' } });

/** `cmd` on a pseudo-terminal; keys written to the returned child's stdin reach it as typed. */
function onPty(env: Env, argv: string[]): ChildProcess & { exited: Promise<number | null>; output: () => string } {
  const child = spawn('script', onTerminalArgs(argv), {
    cwd: env.dir,
    env: { ...process.env, WARDEN_SESSION: 'approve-e2e', WARDEN_STORE: env.store },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return Object.assign(child, { exited, output: () => out });
}

/** These probes read the terminal or the store: give them the time a loaded machine needs. */
const waitFor = <T>(what: string, probe: () => T | null | undefined | false) => eventually(probe, 15_000, what);

function pending(env: Env): Array<{ request_id: string; command: string[]; offered: string[] }> {
  const r = warden(env, ['approve', '--list', '--json']);
  // the exec may not have made its store yet: a read command never creates one
  if (r.status === 2 && /no warden event store at/.test(r.stderr)) return [];
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

function audit(env: Env): Array<Record<string, unknown>> {
  const r = warden(env, ['audit', '--json']);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function replayJson(env: Env, id: string) {
  const r = warden(env, ['replay', id, '--json']);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l)) as Array<{ kind: string; event: string; time: string }>;
}

test('a decision from another process reaches the waiting exec within a second; it cannot be given twice', async () => {
  const env = setup();
  const exec = onPty(env, [process.execPath, WARDEN, 'exec', '--approval', 'untrusted', '--', 'touch', 'approved-marker']);
  try {
    const [req] = await waitFor('the exec to ask', () => {
      const p = pending(env);
      return p.length > 0 ? p : null;
    });
    assert.deepEqual(req!.command, ['touch', 'approved-marker']);
    assert.ok(req!.offered.includes('approved_always'));

    const decided = warden(env, ['approve', '--decide', req!.request_id.slice(0, 8), '--decision', 'approved']);
    assert.equal(decided.status, 0, decided.stderr);
    assert.match(decided.stdout, /^approved: request /);

    assert.equal(await exec.exited, 0, exec.output());
    assert.ok(existsSync(join(env.dir, 'approved-marker')), 'the approved command ran');
    const steps = replayJson(env, req!.request_id);
    const decision = steps.find((s) => s.event === 'DecisionRecorded')!;
    const started = steps.find((s) => s.event === 'ExecutionStarted')!;
    const waited = Date.parse(started.time) - Date.parse(decision.time);
    assert.ok(waited < 1000, `the exec picked the decision up after ${waited} ms`);

    const row = audit(env).find((r) => r.request_id === req!.request_id)!;
    assert.equal(row.decision, 'approved');
    assert.equal(row.decision_source, 'user');
    assert.equal(row.decided_by, userInfo().username);
    assert.equal(row.outcome, 'completed');

    const again = warden(env, ['approve', '--decide', req!.request_id, '--decision', 'denied']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already decided: approved \(user /);
  } finally {
    exec.kill('SIGKILL');
  }
});

test('a decision that is not offered is refused; a denial from another process stops the exec', async () => {
  const env = setup();
  const exec = onPty(env, [process.execPath, WARDEN, 'exec', '--approval', 'untrusted', '--', 'sh', '-c', 'touch shell-marker; true']);
  try {
    const [req] = await waitFor('the exec to ask', () => {
      const p = pending(env);
      return p.length > 0 ? p : null;
    });
    assert.ok(!req!.offered.includes('approved_always'), 'no always-allow rule for a multi-command script');
    const refused = warden(env, ['approve', '--decide', req!.request_id, '--decision', 'approved_always']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /'approved_always' is not offered/);
    const bogus = warden(env, ['approve', '--decide', req!.request_id, '--decision', 'yes']);
    assert.equal(bogus.status, 2);
    const denied = warden(env, ['approve', '--decide', req!.request_id, '--decision', 'denied']);
    assert.equal(denied.status, 0, denied.stderr);
    assert.equal(await exec.exited, 126);
    assert.ok(!existsSync(join(env.dir, 'shell-marker')));
    const unknown = warden(env, ['approve', '--decide', 'no-such-request', '--decision', 'denied']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /no request no-such-request/);
  } finally {
    exec.kill('SIGKILL');
  }
});

test('the interactive view: select the request and press y', async () => {
  const env = setup();
  const exec = onPty(env, [process.execPath, WARDEN, 'exec', '--approval', 'untrusted', '--', 'touch', 'keyed-marker']);
  let view: ReturnType<typeof onPty> | null = null;
  try {
    const [req] = await waitFor('the exec to ask', () => {
      const p = pending(env);
      return p.length > 0 ? p : null;
    });
    view = onPty(env, [process.execPath, WARDEN, 'approve']);
    await waitFor('the list', () => /1 request\(s\) waiting/.test(view!.output()));
    assert.match(view.output(), /touch keyed-marker/);
    view.stdin!.write('1');
    await waitFor('the details', () => /Run this command\?/.test(view!.output()));
    // the label wraps at words on the terminal's width: any run of blanks may be a line break
    const words = (t: string) => new RegExp(t.split(' ').map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+'));
    assert.match(view.output(), words('A  Yes, and always allow exactly `touch keyed-marker` (writes the rule to'));
    assert.match(view.output(), words('rules.toml; the process that asked adds it to its own rules file too)'));
    view.stdin!.write('y');
    await waitFor('the confirmation', () => /approved: request /.test(view!.output()));
    assert.equal(await exec.exited, 0, exec.output());
    assert.ok(existsSync(join(env.dir, 'keyed-marker')));
    await waitFor('the list to empty', () => /0 request\(s\) waiting/.test(view!.output()));
    view.stdin!.write('q');
    assert.equal(await view.exited, 0);
    const row = audit(env).find((r) => r.request_id === req!.request_id)!;
    assert.equal(row.decision_source, 'user');
    assert.equal(row.decided_by, userInfo().username);
  } finally {
    exec.kill('SIGKILL');
    view?.kill('SIGKILL');
  }
});
