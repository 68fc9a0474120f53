/**
 * `warden exec` as a transparent wrapper (issue #14), with real processes: stdin passes through,
 * output streams as it comes and is never cut for the person, warden's options stop at the first
 * word that is not one, SIGINT/SIGTERM/SIGHUP reach the command (bare and under bwrap), the
 * command's exit code is warden's, `--timeout` is in seconds, and without a terminal a
 * `--decision-timeout` (or WARDEN_DECISION_TIMEOUT) waits for `warden approve` and denies when
 * nobody decides, recording that. Terminal cases run under a pseudo-terminal (util-linux `script`).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WARDEN, auditRows, onTerminalArgs, warden } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';
import { wardenAsync } from '../support/cliAsync.ts';

function workspace() {
  const dir = tempDir('warden-exec-t-');
  return { dir, store: join(dir, 'events.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const SANDBOXES = ['workspace-write', 'danger-full-access'] as const;
const never = (store: string, sandbox: string) => ['exec', '--approval', 'never', '--sandbox', sandbox, '--store', store];

/** A running warden whose output is collected; `until` waits for text to appear (a condition, not a delay). */
function start(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' }) {
  const child = spawn(process.execPath, [WARDEN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, WARDEN_LOG: 'silent', ...opts.env },
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  return running(child);
}

// A test that fails half-way must not leave its warden (and the command's `sleep 60`) running.
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function running(child: ChildProcess) {
  children.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout!.on('data', (c: Buffer) => ((stdout += c.toString('utf8')), wake()));
  child.stderr!.on('data', (c: Buffer) => ((stderr += c.toString('utf8')), wake()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => (wake(), resolve({ code, signal }))),
  );
  let closed = false;
  void exited.then(() => (closed = true));
  return {
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    until(pattern: RegExp, where: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(where === 'stdout' ? stdout : stderr)) return resolve();
          if (closed) return reject(new Error(`exited before ${pattern}; stdout: ${stdout}\nstderr: ${stderr}`));
          waiters.push(check);
        };
        check();
      });
    },
  };
}

for (const sandbox of SANDBOXES) {
  test(`stdin passes through to the command (${sandbox}), all of it`, () => {
    const ws = workspace();
    try {
      const small = warden([...never(ws.store, sandbox), '--', 'cat'], { cwd: ws.dir, input: 'hi\n' });
      assert.equal(small.code, 0, small.stderr);
      assert.equal(small.stdout, 'hi\n');
      // 3 MB: more than the record's 1 MiB cap, more than a pipe buffer
      const big = 'x'.repeat(3_000_000);
      const counted = warden([...never(ws.store, sandbox), '--', 'wc', '-c'], { cwd: ws.dir, input: big });
      assert.equal(counted.code, 0, counted.stderr);
      assert.equal(counted.stdout.trim(), '3000000');
    } finally {
      ws.cleanup();
    }
  });

  test(`output the record truncates reaches the person whole (${sandbox})`, () => {
    const ws = workspace();
    try {
      const r = spawnSync(process.execPath, [WARDEN, ...never(ws.store, sandbox), '--', 'head', '-c', '3000000', '/dev/zero'], {
        cwd: ws.dir,
        env: { ...process.env, WARDEN_LOG: 'silent' },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.length, 3_000_000);
      assert.doesNotMatch(r.stdout, /truncated/);
      const [row] = auditRows(ws.store);
      assert.equal(row!.outcome, 'completed');
    } finally {
      ws.cleanup();
    }
  });

  test(`output streams as it comes, not at the end (${sandbox})`, async () => {
    const ws = workspace();
    try {
      // The command waits for a file the test creates only after it has seen the first line: with
      // output held back until the command ends, the first line never comes and this fails.
      const w = start([...never(ws.store, sandbox), '--', 'sh', '-c', 'echo first; echo err-first >&2; i=0; while [ ! -e go ] && [ $i -lt 6000 ]; do i=$((i+1)); sleep 0.02; done; echo second'], { cwd: ws.dir });
      await w.until(/first/);
      await w.until(/err-first/, 'stderr');
      assert.doesNotMatch(w.stdout, /second/);
      writeFileSync(join(ws.dir, 'go'), '');
      const { code } = await w.exited;
      assert.equal(code, 0, w.stderr);
      assert.equal(w.stdout, 'first\nsecond\n');
    } finally {
      ws.cleanup();
    }
  });

  for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
    test(`${signal} goes to the command, whose exit code is warden's (${sandbox})`, async () => {
      const ws = workspace();
      try {
        const name = signal.slice(3);
        const script = `trap 'echo got-${name}; exit ${40 + number}' ${name}; echo ready; sleep 60 & wait`;
        const w = start([...never(ws.store, sandbox), '--', 'sh', '-c', script], { cwd: ws.dir });
        await w.until(/ready/);
        w.child.kill(signal);
        const { code } = await w.exited;
        assert.equal(code, 40 + number, `stdout: ${w.stdout}\nstderr: ${w.stderr}`);
        assert.match(w.stdout, new RegExp(`got-${name}`));
        const [row] = auditRows(ws.store);
        assert.equal(row!.outcome, 'completed');
        assert.equal(row!.exit_code, 40 + number);
      } finally {
        ws.cleanup();
      }
    });
  }

  test(`a command killed by a signal exits 128+n (${sandbox})`, () => {
    const ws = workspace();
    try {
      const r = warden([...never(ws.store, sandbox), '--', 'sh', '-c', 'kill -TERM $$'], { cwd: ws.dir });
      assert.equal(r.code, 128 + 15, r.stderr);
    } finally {
      ws.cleanup();
    }
  });
}

test('warden\'s options stop at the first word that is not one: no `--` needed', () => {
  const ws = workspace();
  try {
    writeFileSync(join(ws.dir, 'seen.txt'), '');
    const ls = warden(['exec', '--store', ws.store, 'ls', '-la'], { cwd: ws.dir });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^total /m);
    assert.match(ls.stdout, /seen\.txt/);
    // the command's own words that look like warden's options are the command's
    const echo = warden(['exec', '--store', ws.store, '--approval', 'never', 'echo', '--store', 'x', '--approval', 'y', '--'], { cwd: ws.dir });
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, '--store x --approval y --\n');
    const [first, second] = auditRows(ws.store);
    assert.deepEqual(first!.command, ['ls', '-la']);
    assert.deepEqual(second!.command, ['echo', '--store', 'x', '--approval', 'y', '--']);
    // an option warden does not know, before the command, is an error, not a command
    const unknown = warden(['exec', '--store', ws.store, '--no-such-flag', 'ls'], { cwd: ws.dir });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--no-such-flag'/);
    assert.equal(auditRows(ws.store).length, 2, 'nothing recorded for the refused invocation');
  } finally {
    ws.cleanup();
  }
});

test('--timeout is in seconds: the command is killed and warden exits 124', async () => {
  const ws = workspace();
  try {
    const started = performance.now();
    const r = warden([...never(ws.store, 'workspace-write'), '--timeout', '0.5', 'sleep', '30'], { cwd: ws.dir });
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stderr, /timed out/);
    assert.ok(performance.now() - started < 20_000);
    const [row] = auditRows(ws.store);
    assert.equal(row!.timed_out, true);
    const bad = warden([...never(ws.store, 'workspace-write'), '--timeout', '-1', 'true'], { cwd: ws.dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--timeout must be a positive number/);
  } finally {
    ws.cleanup();
  }
});

test('without a terminal and without a decision timeout: denied at once (126)', () => {
  const ws = workspace();
  try {
    const r = warden(['exec', '--approval', 'untrusted', '--store', ws.store, 'touch', 'x'], { cwd: ws.dir, env: { WARDEN_DECISION_TIMEOUT: '' } });
    assert.equal(r.code, 126);
    assert.equal(existsSync(join(ws.dir, 'x')), false);
    assert.equal(auditRows(ws.store)[0]!.decision_source, 'error');
  } finally {
    ws.cleanup();
  }
});

for (const how of ['--decision-timeout', 'WARDEN_DECISION_TIMEOUT'] as const) {
  test(`without a terminal, ${how} waits, then denies on timeout and records it`, async () => {
    const ws = workspace();
    try {
      const args = ['exec', '--approval', 'untrusted', '--store', ws.store, ...(how === '--decision-timeout' ? ['--decision-timeout', '1'] : []), 'touch', 'x'];
      const w = start(args, { cwd: ws.dir, env: how === 'WARDEN_DECISION_TIMEOUT' ? { WARDEN_DECISION_TIMEOUT: '1' } : {} });
      await w.until(/waiting up to 1 s/, 'stderr');
      const { code } = await w.exited;
      assert.equal(code, 126, w.stderr);
      assert.match(w.stderr, /not run: .*no decision within 1 s/);
      assert.equal(existsSync(join(ws.dir, 'x')), false);
      const [row] = auditRows(ws.store);
      assert.equal(row!.decision, 'denied');
      assert.equal(row!.decision_source, 'timeout');
    } finally {
      ws.cleanup();
    }
  });
}

test('without a terminal, a decision made with `warden approve` while exec waits runs the command', async () => {
  const ws = workspace();
  try {
    const w = start(['exec', '--approval', 'untrusted', '--store', ws.store, '--decision-timeout', '120', 'sh', '-c', 'echo ran; touch x'], { cwd: ws.dir });
    await w.until(/waiting up to 120 s/, 'stderr');
    const listed = warden(['approve', '--store', ws.store, '--list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const pending = JSON.parse(listed.stdout.trim().split('\n')[0]!) as { requestId?: string; request_id?: string; id?: string };
    const id = pending.requestId ?? pending.request_id ?? pending.id;
    assert.ok(id, listed.stdout);
    // a person's terminal: not under this test process, which started exec as an agent's tool would
    const decided = await wardenAsync(['approve', '--store', ws.store, '--decide', id, '--decision', 'approved'], { outside: true });
    assert.equal(decided.code, 0, decided.stderr);
    const { code } = await w.exited;
    assert.equal(code, 0, w.stderr);
    assert.equal(w.stdout, 'ran\n');
    assert.ok(existsSync(join(ws.dir, 'x')));
    const [row] = auditRows(ws.store);
    assert.equal(row!.decision, 'approved');
    assert.equal(row!.outcome, 'completed');
  } finally {
    ws.cleanup();
  }
});

/** warden under a pseudo-terminal; `type` writes what a person types. */
function onTerminal(args: string[], cwd: string) {
  const child = spawn('script', onTerminalArgs([process.execPath, WARDEN, ...args]), {
    cwd,
    env: { ...process.env, WARDEN_LOG: 'silent' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return Object.assign(running(child), { type: (text: string) => child.stdin!.write(text) });
}

for (const sandbox of SANDBOXES) {
  test(`on a terminal the command reads what the person types and Ctrl-C reaches it (${sandbox})`, async () => {
    const ws = workspace();
    try {
      const script = `trap 'echo got-INT; exit 42' INT; test -t 0 && echo stdin-is-tty; echo ready; read line; echo "read:$line"; echo ready2; sleep 60 & wait`;
      const t = onTerminal([...never(ws.store, sandbox), 'sh', '-c', script], ws.dir);
      await t.until(/ready/);
      assert.match(t.stdout, /stdin-is-tty/);
      t.type('typed words\r');
      await t.until(/read:typed words/);
      await t.until(/ready2/);
      t.type('\x03'); // Ctrl-C: the terminal sends SIGINT to warden's process group, warden passes it on
      const { code } = await t.exited;
      assert.match(t.stdout, /got-INT/);
      assert.equal(code, 42, t.stdout);
      assert.equal(auditRows(ws.store)[0]!.exit_code, 42);
    } finally {
      ws.cleanup();
    }
  });
}
