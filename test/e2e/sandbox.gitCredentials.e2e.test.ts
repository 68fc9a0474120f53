/**
 * git's credentials in its config files do not reach a sandboxed command without the network
 * (src/sandbox/gitCredentials.ts). Red team: `git clone https://user:TOKEN@…` leaves the token in
 * `.git/config`, CI checkouts leave `http.<url>.extraheader = AUTHORIZATION: basic …` there, and
 * ~/.gitconfig often carries `url.https://TOKEN@github.com/.insteadOf`; an auto-approved
 * `cat .git/config` or `git remote -v` printed them into the agent's context. Real bwrap, real git.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { decoyFile } from '../../src/sandbox/decoy.ts';
import type { SandboxSpec } from '../../src/sandbox/types.ts';

let base: string;
before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-gitcreds-')));
});
after(() => rmSync(base, { recursive: true, force: true }));

const TOKEN = `ghs_REDTEAM${process.pid}TOKEN`;
const HEADER = `c2VjcmV0${process.pid}`;
const GLOBAL = `ghp_GLOBAL${process.pid}`;
const INCLUDED = `ghp_INCLUDED${process.pid}`;

function repoWithCredentials(name: string): { ws: string; home: string; configs: Record<string, string> } {
  const top = join(base, name);
  const ws = join(top, 'repo');
  const home = join(top, 'home');
  mkdirSync(join(ws, 'sub'), { recursive: true });
  mkdirSync(home);
  const git = (...args: string[]) => assert.equal(spawnSync('git', args, { cwd: ws, env: { ...process.env, HOME: home } }).status, 0, args.join(' '));
  git('init', '-q');
  git('config', 'remote.origin.url', `https://x-access-token:${TOKEN}@github.com/o/r.git`);
  git('config', 'http.https://github.com/.extraheader', `AUTHORIZATION: basic ${HEADER}`);
  writeFileSync(join(home, '.gitconfig'), `[url "https://${GLOBAL}@github.com/"]\n\tinsteadOf = https://github.com/\n[user]\n\tname = Person\n[include]\n\tpath = .gitconfig.local\n`);
  // a file the person's config includes, as a ~/.gitconfig.local with the token
  writeFileSync(join(home, '.gitconfig.local'), `[url "https://x:${INCLUDED}@gitlab.com/"]\n\tinsteadOf = https://gitlab.com/\n`);
  const configs = Object.fromEntries([join(ws, '.git', 'config'), join(home, '.gitconfig'), join(home, '.gitconfig.local')].map((p) => [p, readFileSync(p, 'utf8')]));
  return { ws, home, configs };
}

const SHOW = 'cat .git/config ../.git/config ~/.gitconfig ~/.gitconfig.local 2>/dev/null; git remote -v; git config --list; git config user.name; echo end';

for (const mode of ['workspace-write', 'read-only'] as const) {
  test(`${mode}, no network: .git/config and ~/.gitconfig show no token or auth header; git still reads the rest; the files on the host are untouched`, async () => {
    const { ws, home, configs } = repoWithCredentials(`offline-${mode}`);
    const spec: SandboxSpec = { mode, writableRoots: [], network: false, tmpWrite: false };
    for (const cwd of [ws, join(ws, 'sub')]) {
      const r = await runCommand({ command: ['sh', '-c', SHOW], cwd, sandboxSpec: spec, env: { ...process.env, HOME: home } });
      assert.match(r.stdout, /end\n$/, r.stderr);
      for (const secret of [TOKEN, HEADER, GLOBAL, INCLUDED]) assert.ok(!r.stdout.includes(secret), `${secret} shown in ${cwd}:\n${r.stdout}`);
      assert.match(r.stdout, /origin\thttps:\/\/github\.com\/o\/r\.git \(fetch\)/, 'the remote is still there, without its userinfo');
      assert.match(r.stdout, /^Person$/m, 'the rest of ~/.gitconfig is read');
    }
    for (const [path, text] of Object.entries(configs)) assert.equal(readFileSync(path, 'utf8'), text, `${path} changed on the host`);
    assert.deepEqual(readdirSync(join(decoyFile(), '..')).filter((n) => n.startsWith('cover-')), [], 'a copy is left after the run');
  });
}

test('no network: a config named by GIT_CONFIG_GLOBAL shows no token either', async () => {
  const { ws, home } = repoWithCredentials('global');
  const other = join(base, 'global', 'elsewhere.gitconfig');
  writeFileSync(other, `[url "https://${GLOBAL}@example.com/"]\n\tinsteadOf = https://example.com/\n`);
  const env = { ...process.env, HOME: home, GIT_CONFIG_GLOBAL: other };
  const r = await runCommand({ command: ['sh', '-c', `cat ${other}; git config --global --list; echo end`], cwd: ws, sandboxSpec: { mode: 'read-only', writableRoots: [], network: false, tmpWrite: false }, env });
  assert.match(r.stdout, /end\n$/, r.stderr);
  assert.ok(!r.stdout.includes(GLOBAL), r.stdout);
});

test('with the network the config is as it is (git may need the token to fetch), as the environment\'s credentials are', async () => {
  const { ws, home } = repoWithCredentials('online');
  const r = await runCommand({ command: ['sh', '-c', SHOW], cwd: ws, sandboxSpec: { mode: 'workspace-write', writableRoots: [], network: true, tmpWrite: false }, env: { ...process.env, HOME: home } });
  assert.match(r.stdout, new RegExp(TOKEN), r.stderr);
});
