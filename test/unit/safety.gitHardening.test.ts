/**
 * Known-safe git runs with the repository's exec hooks neutralised: a planted repository whose
 * config names programs (core.fsmonitor, diff.external, gpg.program with log.showSignature ...)
 * runs none of them under the hardening environment, with the real git.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { driverOverrides, gitHardeningEnv, knownSafeRunArgv, withConfigEntries } from '../../src/safety/programs/gitHardening.ts';
import { classifyExec } from '../../src/safety/classifyExec.ts';
import { EMPTY_RULE_SET } from '../../src/safety/ruleMatch.ts';
import { loadShellGrammar } from '../../src/safety/shellParse.ts';
import { withRunEnv } from '../../src/requests/effects.ts';
import { systemPrograms } from '../support/programs.ts';

await loadShellGrammar();

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync('git', args, { cwd, env: { ...env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd }, encoding: 'utf8' });
}

/** A repository whose config runs `marker NAME` (a script that creates NAME) from every hook we plant. */
function plantedRepo(): { dir: string; ran: (name: string) => boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-planted-'));
  const marker = join(dir, 'marker.sh');
  writeFileSync(marker, `#!/bin/sh\ntouch "${dir}/ran-$1"\ncat >/dev/null 2>&1 || true\n`);
  chmodSync(marker, 0o755);
  assert.equal(git(dir, ['init', '-q']).status, 0);
  writeFileSync(join(dir, 'f'), 'a\n');
  git(dir, ['add', 'f']);
  assert.equal(git(dir, ['-c', 'user.email=a@b', '-c', 'user.name=n', 'commit', '-qm', 'x']).status, 0);
  writeFileSync(join(dir, 'f'), 'b\n');
  const set = (k: string, v: string) => assert.equal(git(dir, ['config', k, v]).status, 0);
  set('core.fsmonitor', `${marker} fsmonitor`);
  set('diff.external', `${marker} external`);
  set('log.showSignature', 'true');
  set('gpg.program', `${marker} gpg`);
  set('core.pager', `${marker} pager`);
  set('pager.log', `${marker} pagerlog`);
  return { dir, ran: (name) => existsSync(join(dir, `ran-${name}`)) };
}

test('the planted hooks really run without the hardening (the repository is armed)', () => {
  const r = plantedRepo();
  git(r.dir, ['status']);
  git(r.dir, ['diff']);
  assert.ok(r.ran('fsmonitor'), 'core.fsmonitor ran');
  assert.ok(r.ran('external'), 'diff.external ran');
});

test('with the hardening environment, status, diff, log and show run none of them', () => {
  const r = plantedRepo();
  const env = { ...process.env, ...gitHardeningEnv() };
  assert.equal(git(r.dir, ['status'], env).status, 0);
  // diff.external is the plain diff, not the repository's program, and git diff still works
  const diff = git(r.dir, ['diff'], env);
  assert.equal(diff.status, 0, diff.stderr);
  assert.match(diff.stdout, /^-a$/m);
  assert.match(diff.stdout, /^\+b$/m);
  assert.equal(git(r.dir, ['log', '-n', '1'], env).status, 0);
  git(r.dir, ['show', '--stat'], env);
  for (const name of ['fsmonitor', 'external', 'gpg', 'pager', 'pagerlog']) assert.equal(r.ran(name), false, `${name} ran`);
});

test('a known-safe git classification carries the hardening, and the runner applies it', () => {
  const c = classifyExec(
    {
      command: ['bash', '-lc', 'git status && ls'],
      cwd: '/w',
      withEscalatedPermissions: false,
      policy: { approval: 'on-request', sandbox: 'danger-full-access', writableRoots: [], network: true, tmpWrite: true },
      platformSandbox: 'none',
      approvedForSession: false,
      programs: systemPrograms,
    },
    EMPTY_RULE_SET,
  );
  assert.equal(c.knownSafe, true);
  assert.equal(c.runEnv?.GIT_CONFIG_KEY_0, 'core.fsmonitor');
  const env = withRunEnv({ PATH: '/usr/bin' }, c)!;
  assert.equal(env.PATH, '/usr/bin');
  assert.equal(env.GIT_PAGER, 'cat');
  assert.equal(withRunEnv({ A: '1' }, { ...c, runEnv: undefined })?.A, '1');
});

test('driverOverrides neutralises every repository-named driver, and only those', () => {
  assert.deepEqual(
    driverOverrides([
      'core.bare',
      'diff.tc.textconv',
      'diff.a.b.command',
      'filter.lfs.clean',
      'filter.lfs.process',
      'merge.mg.driver',
      'credential.https://x.helper',
      'diff.cpp.xfuncname',
      'diff.tc.textconv',
    ]),
    [
      ['diff.tc.textconv', 'cat'],
      ['diff.a.b.command', driverOverrides(['diff.x.command'])[0]![1]],
      ['filter.lfs.clean', ''],
      ['filter.lfs.required', 'false'],
      ['filter.lfs.process', ''],
      ['merge.mg.driver', 'false'],
      ['credential.https://x.helper', ''],
    ],
  );
});

test('withConfigEntries appends after the static entries and raises the count', () => {
  const base = gitHardeningEnv();
  const n = Number(base.GIT_CONFIG_COUNT);
  const env = withConfigEntries(base, [['filter.x.clean', '']]);
  assert.equal(env.GIT_CONFIG_COUNT, String(n + 1));
  assert.equal(env[`GIT_CONFIG_KEY_${n}`], 'filter.x.clean');
  assert.equal(env[`GIT_CONFIG_VALUE_${n}`], '');
  assert.equal(base.GIT_CONFIG_COUNT, String(n), 'the frozen static env is not changed');
});

test('a plain known-safe git diff/log/show runs with --no-ext-diff --no-textconv after its subcommand; nothing else changes', () => {
  assert.deepEqual(knownSafeRunArgv(['git', 'diff', 'HEAD'], [['git', 'diff', 'HEAD']]), ['git', 'diff', '--no-ext-diff', '--no-textconv', 'HEAD']);
  assert.deepEqual(knownSafeRunArgv(['git', '-P', 'log', '-p', '--', 'x'], [['git', '-P', 'log', '-p', '--', 'x']]), ['git', '-P', 'log', '--no-ext-diff', '--no-textconv', '-p', '--', 'x']);
  assert.deepEqual(knownSafeRunArgv(['/usr/bin/git', '-C', '.', 'show'], [['/usr/bin/git', '-C', '.', 'show']]), ['/usr/bin/git', '-C', '.', 'show', '--no-ext-diff', '--no-textconv']);
  assert.deepEqual(knownSafeRunArgv(['git', 'status'], [['git', 'status']]), ['git', 'status']);
  assert.deepEqual(knownSafeRunArgv(['git', 'branch'], [['git', 'branch']]), ['git', 'branch']);
  // a script's words are not rewritten (its `git diff` is known-safe only with --no-ext-diff
  // written); only its shell loses the login flag (shellStartup.ts: a profile may put `.` on PATH)
  assert.deepEqual(knownSafeRunArgv(['bash', '-lc', 'git diff --no-ext-diff'], [['git', 'diff', '--no-ext-diff']]), ['bash', '-c', 'git diff --no-ext-diff']);
  assert.deepEqual(knownSafeRunArgv(['ls'], [['ls']]), ['ls']);
});
