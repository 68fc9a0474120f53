/**
 * Known-safe is never auto-run bare (issue #12): `cat ~/.ssh/id_rsa` and `cat /etc/shadow` are
 * known-safe reads, so under danger-full-access (where every other command runs bare) they still
 * run in the read-only sandbox, where the secrets are masked. With nobody to ask (untrusted, no
 * terminal), the secret must not reach the output, and the run is recorded as the read-only
 * sandbox. An ordinary file beside it is read as before. Real bwrap, real CLI, a fake $HOME.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { warden } from '../support/cli.ts';
import { readEvents } from './mcp.harness.ts';

const SECRET = 'PRIVATE-KEY-MATERIAL';

test('known-safe reads of secrets under danger-full-access run in the read-only sandbox and leak nothing', async () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-notbare-')));
  const home = join(base, 'home');
  const ws = join(base, 'ws');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(ws);
  writeFileSync(join(home, '.ssh', 'id_rsa'), `${SECRET}\n`);
  writeFileSync(join(home, '.aws'), `${SECRET} aws\n`);
  writeFileSync(join(ws, 'notes.txt'), 'ordinary\n');
  // A command naming a secret is not known-safe at all (src/safety/programs/secretPaths.ts): it is
  // asked about, nobody answers here, and it never runs. A plain known-safe read runs read-only.
  const cases: Array<{ argv: string[]; namesSecret: boolean }> = [
    { argv: ['cat', join(home, '.ssh', 'id_rsa')], namesSecret: true },
    { argv: ['bash', '-lc', `cat ${join(home, '.aws')} && ls ${join(home, '.ssh')}`], namesSecret: true },
    { argv: ['cat', 'notes.txt'], namesSecret: false },
  ];
  for (const [i, { argv, namesSecret }] of cases.entries()) {
    const store = join(base, `events-${i}.db`);
    const r = warden(['exec', '--approval', 'untrusted', '--sandbox', 'danger-full-access', '--store', store, '--decision-timeout', '1', '--', ...argv], {
      cwd: ws,
      env: { HOME: home, XDG_CONFIG_HOME: join(base, 'config'), WARDEN_SESSION: `s${i}` },
    });
    const events = await readEvents(store);
    const classified = events.find((e) => e.type === 'Classified')?.data as { knownSafe: boolean; outcome: string; sandbox: string };
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET), `${argv.join(' ')} printed the secret`);
    if (namesSecret) {
      assert.equal(classified.knownSafe, false, argv.join(' '));
      assert.equal(classified.outcome, 'ask', argv.join(' '));
      assert.equal(events.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted'), false, `${argv.join(' ')} did not run`);
      continue;
    }
    assert.equal(classified.knownSafe, true, argv.join(' '));
    assert.equal(classified.outcome, 'auto-approve', argv.join(' '));
    assert.notEqual(classified.sandbox, 'none', `${argv.join(' ')}: known-safe is not planned bare`);
    const started = events.find((e) => e.type === 'SandboxRunStarted' || e.type === 'ExecutionStarted')?.data as { mode: string | null };
    assert.equal(started.mode, 'read-only', `${argv.join(' ')} ran in the read-only sandbox`);
    assert.match(r.stdout, /ordinary/);
  }
  // the secret is really there: plain cat reads it (the test is not passing for a missing file)
  const plain = warden(['classify', '--sandbox', 'danger-full-access'], { cwd: ws, input: `${JSON.stringify({ command: ['cat', join(home, '.ssh', 'id_rsa')] })}\n`, env: { HOME: home, XDG_CONFIG_HOME: join(base, 'config') } });
  assert.equal(plain.code, 0, plain.stderr);
});
