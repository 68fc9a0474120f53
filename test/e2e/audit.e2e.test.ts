/**
 * `warden audit` for an auditor, on a real store made by real `warden exec` runs of every outcome
 * (completed, exited non-zero, rejected by a rule and by the policy, denied and aborted by a person
 * at a terminal, denied because nobody could be asked, timed out, still waiting): every filter and
 * every format, the summary line, the zone in the time column; a read-only store file opened by
 * another user; a missing path (an error, nothing created); an unopenable path (fails at once).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { WARDEN, onTerminalArgs, warden, wardenOnTerminal } from '../support/cli.ts';

interface Row {
  request_id: string;
  command: string[] | null;
  outcome: string;
  outcome_label: string;
  decision: string | null;
  decision_source: string | null;
  decided_by: string | null;
  decided_via: string | null;
  reason: string | null;
  exit_code: number | null;
  requested_at: string;
}

const jsonl = (text: string): Row[] => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Row);

describe('warden audit', () => {
  let dir: string;
  let work: string;
  let store: string;
  let rules: string;
  let waiting: ChildProcess | null = null;
  let startedAt = 0;

  const exec = (args: string[], session: string) =>
    warden(['exec', '--store', store, '--rules', rules, '--session', session, ...args], { cwd: work });
  const audit = (...args: string[]) => warden(['audit', '--store', store, ...args], { cwd: work });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-audit-'));
    work = join(dir, 'work');
    mkdirSync(work);
    store = join(dir, 'events.db');
    rules = join(dir, 'rules.toml');
    writeFileSync(rules, '[[rule]]\npattern = ["curl"]\ndecision = "forbidden"\njustification = "no downloads from this project"\n');
    startedAt = Date.now();
    const runs = [
      exec(['--', 'ls'], 'a-ok'),
      exec(['--approval', 'never', '--sandbox', 'danger-full-access', '--', 'sh', '-c', 'exit 3'], 'a-exit'),
      exec(['--', 'curl', 'https://example.com'], 'a-rule'),
      exec(['--approval', 'never', '--', 'rm', '-rf', 'build'], 'a-never'),
      exec(['--approval', 'untrusted', '--', 'touch', 'no-tty'], 'a-notty'),
      exec(['--approval', 'never', '--sandbox', 'danger-full-access', '--timeout', '0.3', '--', 'sleep', '5'], 'a-timeout'),
    ];
    assert.equal(runs[0]!.code, 0, runs[0]!.stderr);
    assert.equal(runs[1]!.code, 3, runs[1]!.stderr);
    const opts = { cwd: work, env: { WARDEN_STORE: store } };
    const [denied, aborted, approved] = await Promise.all([
      wardenOnTerminal(['exec', '--session', 'a-person', '--approval', 'untrusted', '--', 'touch', 'denied-file'], ['n'], opts),
      wardenOnTerminal(['exec', '--session', 'a-person', '--approval', 'untrusted', '--', 'touch', 'aborted-file'], ['\x1b'], opts),
      wardenOnTerminal(['exec', '--session', 'a-person', '--approval', 'untrusted', '--', 'touch', 'approved-file'], ['y'], opts),
    ]);
    assert.equal(denied.prompts, 1, denied.screen);
    assert.equal(aborted.prompts, 1, aborted.screen);
    assert.equal(approved.code, 0, approved.screen);
    // one left waiting on a terminal nobody answers
    waiting = spawn('script', onTerminalArgs([process.execPath, WARDEN, 'exec', '--session', 'a-wait', '--approval', 'untrusted', '--', 'touch', 'waits']), {
      cwd: work,
      env: { ...process.env, WARDEN_LOG: 'silent', WARDEN_STORE: store },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const until = Date.now() + 60_000;
    while (!jsonl(audit('--json').stdout).some((r) => r.outcome === 'awaitingDecision')) {
      if (Date.now() > until) throw new Error('the waiting exec never asked');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(() => {
    waiting?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('the table: request id, the time with its zone, outcome, who decided and through what, why, and a summary line', () => {
    const r = audit();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^time\s+request\s+session\s+outcome\s+decided\s+why\s+command$/);
    const row = (text: string) => lines.find((l) => l.endsWith(text)) ?? assert.fail(`no row for ${text}:\n${r.stdout}`);
    const all = jsonl(audit('--json').stdout);
    const id = (cmd: string) => all.find((x) => x.command?.join(' ') === cmd)!.request_id;
    // local time with its offset, and the request id's prefix that replay takes
    assert.match(row('curl https://example.com'), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{2}:\d{2} /);
    assert.ok(row('curl https://example.com').includes(` ${id('curl https://example.com').slice(0, 8)} `));
    // the command as typed (no `https\://`), and the rule's reason
    assert.match(row('curl https://example.com'), /rejected .*forbidden|rejected .*rule/);
    assert.match(row('sh -c \'exit 3\''), /exited 3/);
    assert.match(row('touch denied-file'), new RegExp(`denied by ${userInfo().username}`));
    assert.match(row('touch aborted-file'), /aborted/);
    assert.match(row('touch approved-file'), new RegExp(`approved once by ${userInfo().username}`));
    assert.match(row('touch no-tty'), /denied: nobody: asking failed/);
    assert.match(row('sleep 5'), /timed out/);
    assert.match(row('touch waits'), /waiting for a person/);
    assert.match(row('rm -rf build'), /rejected/);
    assert.doesNotMatch(row('rm -rf build'), /rejected\s+-\s+-\s/, 'a policy rejection shows its reason');
    // the summary counts every row once
    const summary = lines.at(-1)!;
    assert.match(summary, /^10 requests: /);
    const counted = [...summary.matchAll(/(\d+) [a-z-]/g)].slice(1).reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(counted, 10, summary);
    assert.match(summary, /1 exited non-zero/);
    assert.match(summary, /1 waiting for a person/);
    assert.match(summary, /1 timed out/);
    assert.match(summary, /1 denied by a person/);
  });

  test('--utc prints UTC with Z; TZ changes the local column', () => {
    const utc = audit('--utc', '--command', 'example.com').stdout.split('\n')[1]!;
    assert.match(utc, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z /);
    const ny = warden(['audit', '--store', store, '--command', 'example.com'], { env: { TZ: 'America/New_York' } }).stdout.split('\n')[1]!;
    const tokyo = warden(['audit', '--store', store, '--command', 'example.com'], { env: { TZ: 'Asia/Tokyo' } }).stdout.split('\n')[1]!;
    assert.match(ny, / -0[45]:00 /);
    assert.match(tokyo, / \+09:00 /);
    assert.notEqual(ny.slice(0, 19), tokyo.slice(0, 19));
  });

  test('every outcome filter picks exactly its rows', () => {
    const cmds = (...args: string[]) => {
      const r = audit('--json', ...args);
      assert.equal(r.code, 0, r.stderr);
      return jsonl(r.stdout).map((x) => x.command!.join(' ')).sort();
    };
    assert.deepEqual(cmds('--outcome', 'completed'), ['ls', 'touch approved-file']);
    assert.deepEqual(cmds('--outcome', 'exited-nonzero'), ["sh -c exit 3"]);
    assert.deepEqual(cmds('--outcome', 'timed-out'), ['sleep 5']);
    assert.deepEqual(cmds('--outcome', 'failed'), ['sh -c exit 3', 'sleep 5']);
    assert.deepEqual(cmds('--outcome', 'aborted'), ['touch aborted-file']);
    assert.deepEqual(cmds('--outcome', 'waiting'), ['touch waits']);
    assert.deepEqual(cmds('--outcome', 'denied'), ['touch denied-file', 'touch no-tty']);
    assert.deepEqual(cmds('--outcome', 'rejected'), ['curl https://example.com', 'rm -rf build', 'touch denied-file', 'touch no-tty']);
    assert.deepEqual(cmds('--outcome', 'aborted,waiting'), ['touch aborted-file', 'touch waits']);
    const bad = audit('--outcome', 'complete');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--outcome complete: not an outcome; choose from completed, exited-nonzero/);
  });

  test('--decided-by takes a source, none, or a decider by name; --command a substring; --session; --since/--until', () => {
    const cmds = (...args: string[]) => jsonl(audit('--json', ...args).stdout).map((x) => x.command!.join(' ')).sort();
    const me = userInfo().username;
    assert.deepEqual(cmds('--decided-by', 'user'), ['touch aborted-file', 'touch approved-file', 'touch denied-file']);
    assert.deepEqual(cmds('--decided-by', me), cmds('--decided-by', `user:${me}`));
    assert.deepEqual(cmds('--decided-by', 'error'), ['touch no-tty']);
    // a rule's or the policy's rejection records no decision: it is found by its reason, and by `none`
    assert.ok(cmds('--decided-by', 'none').includes('curl https://example.com'));
    assert.ok(cmds('--decided-by', 'policy').includes('ls'));
    assert.ok(cmds('--decided-by', 'none').includes('touch waits'));
    assert.deepEqual(cmds('--decided-by', 'nobody-by-that-name'), []);
    assert.deepEqual(cmds('--command', 'EXAMPLE.COM'), ['curl https://example.com']);
    assert.deepEqual(cmds('--command', 'touch', '--decided-by', 'user', '--outcome', 'completed'), ['touch approved-file']);
    assert.deepEqual(cmds('--session', 'a-person', '--outcome', 'rejected'), ['touch denied-file']);
    const total = cmds().length;
    assert.equal(total, 10);
    assert.equal(cmds('--since', new Date(startedAt - 1000).toISOString()).length, 10);
    assert.equal(cmds('--until', new Date(startedAt - 1000).toISOString()).length, 0);
    assert.equal(cmds('--since', '1h').length, 10);
    assert.equal(cmds('--since', '2099-01-01').length, 0);
    // since and until split the rows at the time of one of them, with none lost or doubled
    const rows = jsonl(audit('--json').stdout);
    const mid = rows[5]!.requested_at;
    assert.equal(cmds('--until', mid).length + cmds('--since', mid).length, 10);
    for (const [flag, value] of [['--since', 'yesterday'], ['--until', '2026-02-31'], ['--since', '5 min']] as const) {
      const r = audit(flag, value);
      assert.equal(r.code, 2, `${flag} ${value}`);
      assert.match(r.stderr, new RegExp(flag));
    }
  });

  test('--format jsonl (= --json) and csv carry the same rows; csv quotes and defuses formulas', () => {
    const a = jsonl(audit('--format', 'jsonl').stdout);
    const b = jsonl(audit('--json').stdout);
    assert.deepEqual(a, b);
    const denied = a.find((r) => r.command?.join(' ') === 'touch denied-file')!;
    assert.equal(denied.decided_via, null, 'a terminal answer has no "via" (it is the terminal that asked)');
    assert.equal(denied.outcome_label, 'rejected');
    const csv = audit('--format', 'csv');
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'requested_at,request_id,session_id,kind,what,cwd,outcome,outcome_label,exit_code,decision,decision_source,decided_by,decided_via,reason,asked_by,finished_at');
    assert.equal(lines.length, 11);
    assert.ok(lines.some((l) => l.includes(',"sh -c \'exit 3\'",') || l.includes(",sh -c 'exit 3',")), csv.stdout);
    assert.equal(audit('--json', '--format', 'csv').code, 2);
    assert.equal(audit('--format', 'xml').code, 2);
  });

  test('a read-only store file is audited, verified and replayed by a user who may only read it', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    // a copy at rest (no -wal/-shm), readable by everyone, writable by nobody but its owner
    const copy = spawnSync('sqlite3', [store, `.backup ${join(ro, 'events.db')}`]);
    if (copy.status !== 0) spawnSync('cp', [store, join(ro, 'events.db')]);
    chmodSync(ro, 0o755);
    chmodSync(dir, 0o755);
    chmodSync(join(ro, 'events.db'), 0o644);
    const asNobody = (args: string[]) =>
      spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, WARDEN, ...args, '--store', join(ro, 'events.db')], {
        encoding: 'utf8',
        cwd: '/',
        env: { ...process.env, WARDEN_LOG: 'silent', HOME: '/nonexistent' },
        timeout: 60_000,
      });
    const a = asNobody(['audit', '--json']);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(jsonl(a.stdout).length, 10);
    const v = asNobody(['verify']);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /chain intact/);
    const rp = asNobody(['replay', '--all']);
    assert.equal(rp.status, 0, rp.stderr + rp.stdout);
  });

  test('a missing store path is an error for every read command, and nothing is created', () => {
    const missing = join(dir, 'typo', 'dir', 'events.db');
    for (const args of [['audit'], ['verify'], ['replay', '--all'], ['approve', '--list']]) {
      const r = warden([...args, '--store', missing]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /no warden event store at .*typo\/dir\/events\.db/);
      assert.doesNotMatch(r.stdout, /chain intact/);
    }
    assert.equal(existsSync(join(dir, 'typo')), false, 'no directory was made');
  });

  test('a PostgreSQL database without warden tables is an error for the read commands, and stays empty', async () => {
    const { createTempDatabase } = await import('../contract/fixtures/pgDatabase.ts');
    const db = await createTempDatabase();
    try {
      for (const args of [['audit'], ['verify'], ['approve', '--list']]) {
        const r = warden([...args, '--store', db.url]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /no warden event store in the PostgreSQL database/);
      }
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const t = await c.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name LIKE 'warden_%'`);
        assert.equal(t.rows[0].n, 0, 'no warden table was created');
      } finally {
        await c.end();
      }
    } finally {
      await db.drop();
    }
  });

  test('an unopenable path fails at once, for reading and for recording', () => {
    for (const args of [['audit'], ['exec']]) {
      const t0 = Date.now();
      const r = warden([...args, '--store', '/proc/nope/events.db', ...(args[0] === 'exec' ? ['--', 'true'] : [])]);
      const took = Date.now() - t0;
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /\/proc\/nope\/events\.db/);
      assert.ok(took < 20_000, `${args[0]} took ${took} ms`);
    }
  });
});
