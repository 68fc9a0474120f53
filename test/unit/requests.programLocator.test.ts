/**
 * The edge half of "a bare name is the system's program": the PATH a run gets, and where the
 * classifier is told a name lives. Real file system for the system directories (/usr/bin/ls),
 * a temporary workspace for the planted copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandEnv, programLocatorFor, searchPathOf, workTreeRootOf } from '../../src/requests/programLocator.ts';
import { loadShellGrammar } from '../../src/safety/shellParse.ts';
import type { Classification } from '../../src/safety/types.ts';

await loadShellGrammar();

const policy = { approval: 'on-request' as const, sandbox: 'workspace-write' as const, writableRoots: [], network: false, tmpWrite: true };
const ws = realpathSync(mkdtempSync(join(tmpdir(), 'warden-locator-')));
writeFileSync(join(ws, 'ls'), '#!/bin/sh\necho planted\n');
chmodSync(join(ws, 'ls'), 0o755);
const system = realpathSync('/usr/bin/ls');

test('warden runs the command: the planted ./ls is not on the PATH it gets, so ls is the system one', () => {
  const locate = programLocatorFor({ PATH: '.:/usr/bin' }, { command: ['bash', '-lc', 'ls && pwd'], cwd: ws, policy });
  assert.equal(locate('ls'), system);
  // only the names the command runs were looked up
  assert.equal(locate('cat'), null);
});

test("the client's own tool runs it with a PATH warden cannot clean: an unsafe entry places no bare name", () => {
  assert.equal(programLocatorFor({ PATH: '.:/usr/bin' }, { command: ['ls'], cwd: ws, policy, clientRuns: true })('ls'), null);
  assert.equal(programLocatorFor({ PATH: `/usr/bin:${ws}` }, { command: ['ls'], cwd: ws, policy, clientRuns: true })('ls'), null);
  assert.equal(programLocatorFor({ PATH: '/usr/bin' }, { command: ['ls'], cwd: ws, policy, clientRuns: true })('ls'), system);
});

test('the run environment: a cleaned PATH for every command, only system directories and no shell startup file for a known-safe one', () => {
  const env = { PATH: `.:${ws}::/tmp/x:/home/u/bin:/usr/bin:bin`, BASH_ENV: '/w/evil.sh', ENV: '/w/evil.sh', KEEP: '1' };
  const plain = commandEnv(env, { cwd: ws, policy }, null);
  assert.equal(plain.PATH, '/home/u/bin:/usr/bin');
  assert.equal(plain.BASH_ENV, '/w/evil.sh');
  const safe = commandEnv(env, { cwd: ws, policy }, { knownSafe: true } as Classification);
  assert.equal(safe.PATH, '/usr/bin');
  assert.equal(safe.BASH_ENV, undefined);
  assert.equal(safe.ENV, undefined);
  assert.equal(safe.KEEP, '1');
});

test('a known-safe run drops what makes bash run code before its script (exported functions, SHELLOPTS with PS4) and CDPATH, which moves a relative cd', () => {
  const env = { PATH: '/usr/bin', 'BASH_FUNC_ls%%': '() { ./evil; }', 'BASH_FUNC_cat()': '() { ./evil; }', SHELLOPTS: 'xtrace', BASHOPTS: 'extdebug', PS4: '$(./evil)', CDPATH: '/home/u', KEEP: '1' };
  const safe = commandEnv(env, { cwd: ws, policy }, { knownSafe: true } as Classification);
  assert.deepEqual(Object.keys(safe).sort(), ['KEEP', 'PATH']);
  // a command a person or a rule approved keeps its environment
  assert.equal(commandEnv(env, { cwd: ws, policy }, null)['BASH_FUNC_ls%%'], '() { ./evil; }');
});

test('the work tree a command runs in is the nearest directory up with a .git, never $HOME or above it', () => {
  const gits = new Set(['/home/u/proj', '/home/u', '/srv/repo']);
  const hasGit = (d: string) => gits.has(d);
  assert.equal(workTreeRootOf('/home/u/proj/sub/deeper', '/home/u', hasGit), '/home/u/proj');
  assert.equal(workTreeRootOf('/home/u/proj', '/home/u', hasGit), '/home/u/proj');
  // a dotfiles repository in the home: the home is not the agent's
  assert.equal(workTreeRootOf('/home/u/notes', '/home/u', hasGit), null);
  assert.equal(workTreeRootOf('/srv/repo/x', '/home/u', hasGit), '/srv/repo');
  assert.equal(workTreeRootOf('/opt/other', '/home/u', hasGit), null);
  assert.equal(workTreeRootOf('/srv/repo/x', '/srv/repo/x', hasGit), null);
});

test("a run from a subdirectory: the project's own bin (written by an earlier run from its root) is off the PATH", (t) => {
  // outside /tmp (a temp PATH entry is dropped anyway), in this checkout, with a .git of its own
  const root = realpathSync(mkdtempSync(join(process.cwd(), '.warden-locator-')));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'bin', 'git'), '#!/bin/sh\necho planted\n');
  chmodSync(join(root, 'bin', 'git'), 0o755);
  const env = { PATH: `${join(root, 'bin')}:/usr/bin`, HOME: '/nonexistent-home' };
  const request = { cwd: join(root, 'sub'), policy };
  mkdirSync(join(root, '.git'));
  assert.equal(searchPathOf(env, request).path, '/usr/bin');
  assert.equal(commandEnv(env, request, null).PATH, '/usr/bin');
  assert.equal(programLocatorFor(env, { ...request, command: ['git', 'status'] })('git'), realpathSync('/usr/bin/git'));
  // the client runs it with that PATH: no bare name is placed
  assert.equal(programLocatorFor(env, { ...request, command: ['git', 'status'], clientRuns: true })('git'), null);
});
