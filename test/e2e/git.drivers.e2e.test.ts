/**
 * Attribute-selected git drivers in a planted repository run nothing for a known-safe git command
 * (issue #12). The repository's config defines a textconv, an external diff command, a clean /
 * smudge filter and a merge driver, each selected from a different attribute file (.gitattributes,
 * .git/info/attributes, core.attributesFile), each a script that says DRIVER-RAN on stderr and
 * leaves a file. First the same commands with plain git prove every driver fires (the repository
 * is armed); then each known-safe git subcommand through `warden exec` under danger-full-access
 * (known-safe, auto-approved, no person) runs without any of them. Real git, real warden.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { warden } from '../support/cli.ts';
import { readEvents } from './mcp.harness.ts';

interface Planted {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Which drivers left a file since the last `reset()`. */
  ran(): string[];
  /** Forget what ran and make the filtered file stat-dirty again (so status must re-read it). */
  reset(): void;
}

function plant(): Planted {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-drivers-')));
  const dir = join(root, 'repo');
  const home = join(root, 'home');
  const marks = join(root, 'marks');
  mkdirSync(dir);
  mkdirSync(home);
  mkdirSync(marks);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z' };
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, env, encoding: 'utf8' });
    assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const driver = join(root, 'driver.sh');
  // says so on stderr (seen even where the sandbox stops the file), leaves a file, passes content on
  writeFileSync(
    driver,
    `#!/bin/sh\necho "DRIVER-RAN $1" >&2\ntouch "${marks}/$1" 2>/dev/null\nif [ -n "$2" ] && [ -f "$2" ]; then cat "$2"; else cat; fi\nexit 0\n`,
  );
  chmodSync(driver, 0o755);
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'a@b');
  git('config', 'user.name', 'n');
  for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) writeFileSync(join(dir, f), 'one\n');
  git('add', '.');
  git('commit', '-qm', 'one');
  git('checkout', '-qb', 'side');
  writeFileSync(join(dir, 'd.txt'), 'one\nside\n');
  git('commit', '-qam', 'side');
  git('checkout', '-q', 'main');
  writeFileSync(join(dir, 'a.txt'), 'one\nmain\n');
  writeFileSync(join(dir, 'd.txt'), 'main\none\n');
  git('commit', '-qam', 'main');
  git('merge', '-q', '--no-edit', 'side');
  // now arm it: the config names the drivers, three attribute files select them
  git('config', 'diff.tc.textconv', `${driver} textconv`);
  git('config', 'diff.ex.command', `${driver} diff-command`);
  git('config', 'filter.fl.clean', `${driver} clean`);
  git('config', 'filter.fl.smudge', `${driver} smudge`);
  git('config', 'filter.fl.required', 'true');
  git('config', 'merge.mg.driver', `${driver} merge %O %A %B`);
  // -m shows merges in this format: remerge re-runs them with the merge driver
  git('config', 'log.diffMerges', 'remerge');
  writeFileSync(join(dir, '.gitattributes'), 'a.txt diff=tc\nd.txt merge=mg\n');
  writeFileSync(join(dir, '.git', 'info', 'attributes'), 'b.txt diff=ex\n');
  writeFileSync(join(root, 'attributes'), 'c.txt filter=fl\n');
  git('config', 'core.attributesFile', join(root, 'attributes'));
  writeFileSync(join(dir, 'a.txt'), 'one\nmain\nwork\n');
  writeFileSync(join(dir, 'b.txt'), 'one\nwork\n');
  const reset = () => {
    for (const f of readdirSync(marks)) rmSync(join(marks, f));
    const t = new Date(Date.now() - Math.floor(Math.random() * 1e9));
    utimesSync(join(dir, 'c.txt'), t, t);
  };
  reset();
  return { dir, env, ran: () => readdirSync(marks).sort(), reset };
}

/**
 * Each known-safe git subcommand, with the drivers plain git runs for it in the planted repository.
 * `exitZero`: git still does its work (a neutralised driver is not a failed command); a script's
 * `git log -p` cannot get `--no-textconv` added, and its textconv (now `cat`) needs a temp file the
 * read-only sandbox does not give, so that one fails closed instead.
 */
const CASES: Array<{ argv: string[]; armed: string[]; exitZero: boolean }> = [
  { argv: ['git', 'status'], armed: ['clean'], exitZero: true },
  { argv: ['git', 'status', '--short'], armed: ['clean'], exitZero: true },
  { argv: ['git', 'diff'], armed: ['clean', 'diff-command', 'textconv'], exitZero: true },
  { argv: ['git', 'diff', 'HEAD'], armed: ['clean', 'diff-command', 'textconv'], exitZero: true },
  { argv: ['git', 'log', '-p'], armed: ['textconv'], exitZero: true },
  { argv: ['git', 'log', '-m', '-p'], armed: ['merge', 'textconv'], exitZero: true },
  { argv: ['git', 'show', 'HEAD^1'], armed: ['textconv'], exitZero: true },
  { argv: ['git', 'show', '-m', 'HEAD'], armed: ['merge'], exitZero: true },
  { argv: ['git', 'branch'], armed: [], exitZero: true },
  { argv: ['bash', '-lc', 'git status && git branch && git log --stat -m'], armed: ['clean', 'merge'], exitZero: true },
  { argv: ['bash', '-lc', 'git status && git log -p -m'], armed: ['clean', 'merge', 'textconv'], exitZero: false },
];

/** Variants that would run a driver and are therefore not known-safe (they ask, nobody answers). */
const NOT_SAFE: string[][] = [
  ['git', 'show', '--remerge-diff', 'HEAD'],
  ['git', 'log', '-p', '--diff-merges=remerge'],
  ['bash', '-lc', 'git status && git diff'],
];

test('the planted drivers run under plain git (the repository is armed)', () => {
  const p = plant();
  for (const { argv, armed } of CASES) {
    p.reset();
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd: p.dir, env: p.env, encoding: 'utf8' });
    assert.deepEqual(p.ran(), armed, `plain ${argv.join(' ')}: ${r.stderr}`);
  }
});

test('no planted driver runs for a known-safe git command through warden exec', async () => {
  const p = plant();
  for (const [i, { argv }] of CASES.entries()) {
    p.reset();
    const store = join(p.dir, '..', `events-${i}.db`);
    const r = warden(['exec', '--approval', 'on-request', '--sandbox', 'danger-full-access', '--store', store, '--', ...argv], {
      cwd: p.dir,
      env: { ...p.env, WARDEN_SESSION: `s${i}` },
    });
    const events = await readEvents(store);
    const classified = events.find((e) => e.type === 'Classified')?.data as { knownSafe: boolean; outcome: string } | undefined;
    assert.equal(classified?.knownSafe, true, `${argv.join(' ')} is known-safe`);
    assert.equal(classified?.outcome, 'auto-approve', `${argv.join(' ')} is auto-approved`);
    assert.deepEqual(p.ran(), [], `${argv.join(' ')} ran a driver: ${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /DRIVER-RAN/, argv.join(' '));
    if (CASES[i]!.exitZero) assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
  }
  for (const [i, argv] of NOT_SAFE.entries()) {
    p.reset();
    const store = join(p.dir, '..', `events-not-${i}.db`);
    warden(['exec', '--approval', 'untrusted', '--sandbox', 'danger-full-access', '--store', store, '--decision-timeout', '1', '--', ...argv], { cwd: p.dir, env: { ...p.env, WARDEN_SESSION: `n${i}` } });
    const classified = (await readEvents(store)).find((e) => e.type === 'Classified')?.data as { knownSafe: boolean; outcome: string } | undefined;
    assert.equal(classified?.knownSafe, false, `${argv.join(' ')} is not known-safe`);
    assert.equal(classified?.outcome, 'ask', argv.join(' '));
    assert.deepEqual(p.ran(), [], `${argv.join(' ')} was not run`);
  }
  assert.ok(existsSync(join(p.dir, '.git')));
});
