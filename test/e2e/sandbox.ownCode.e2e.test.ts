/**
 * warden's own code is read-only to every sandboxed command (src/sandbox/ownCode.ts). Red team: with
 * warden installed in the project (`npm i -D warden`: the hooks `warden init` writes then run
 * `node <project>/node_modules/warden/bin/warden.js`), an auto-approved
 * `cat payload main.exec.cjs > node_modules/warden/dist/cli/main.exec.cjs` ran the payload in the
 * next `warden exec`, as the person and outside any sandbox (reproduced: it wrote into the read-only
 * home). The same for bin/, package.json, the native helpers (warden-netns splices outside the
 * sandbox), the packages warden loads, and a patch into any of them. Real bwrap, the real CLI.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, agentExec } from '../support/cli.ts';
import { classifyPatch } from '../../src/safety/patch/classifyPatch.ts';
import type { RequestPolicy } from '../../src/events/types.ts';

let base: string;
before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-owncode-')));
});
after(() => rmSync(base, { recursive: true, force: true }));

/**
 * A project with warden installed in its node_modules: warden's built files copied, its own
 * node_modules a real folder of links to the repository's packages (as a nested install).
 */
function installInProject(name: string): { top: string; ws: string; home: string; pkg: string } {
  const top = join(base, name);
  const ws = join(top, 'ws');
  const home = join(top, 'home');
  const pkg = join(ws, 'node_modules', 'warden');
  mkdirSync(home, { recursive: true });
  mkdirSync(join(pkg, 'native'), { recursive: true });
  for (const entry of ['bin', 'dist', 'package.json']) cpSync(join(REPO, entry), join(pkg, entry), { recursive: true });
  cpSync(join(REPO, 'native', 'build'), join(pkg, 'native', 'build'), { recursive: true });
  mkdirSync(join(pkg, 'node_modules'));
  // commander, the package the attacks below go for, is a link to a copy of its own in the temp
  // folder (writable in every sandbox unless it is warden's code), as a linked or workspace package
  // would be: a write through the link must fail, and it can never reach the repository's own copy
  // (it did, in a CI checkout under /tmp, before linked packages were protected).
  const linked = join(top, 'linked', 'commander');
  cpSync(realpathSync(join(REPO, 'node_modules', 'commander')), linked, { recursive: true });
  for (const dep of readdirSync(join(REPO, 'node_modules'))) {
    symlinkSync(dep === 'commander' ? linked : realpathSync(join(REPO, 'node_modules', dep)), join(pkg, 'node_modules', dep));
  }
  return { top, ws, home, pkg };
}

test('warden installed in the project: no sandboxed command changes its code, its packages or its helpers; the next run runs warden\'s own code', () => {
  const { top, ws, home, pkg } = installInProject('dep');
  const bin = join(pkg, 'bin', 'warden.js');
  const store = join(top, 'state', 'events.db');
  const marker = join(home, 'PWNED');
  const watched = ['dist/cli/main.exec.cjs', 'dist/cli/main.js', 'bin/warden.js', 'package.json', 'native/build/warden-netns', 'node_modules/commander/index.js'];
  const beforeBytes = watched.map((rel) => readFileSync(join(pkg, rel)));
  writeFileSync(join(top, 'payload.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran outside the sandbox');\n`);
  const payload = JSON.stringify(join(top, 'payload.js'));
  const joined = JSON.stringify(join(top, 'bundle-with-payload.cjs'));
  const attempts = [
    // prepend the payload to the bundle `warden exec` and the hooks run
    `cat ${payload} node_modules/warden/dist/cli/main.exec.cjs > ${joined}; cat ${joined} > node_modules/warden/dist/cli/main.exec.cjs`,
    `cat ${payload} >> node_modules/warden/bin/warden.js`,
    `cp ${payload} node_modules/warden/dist/cli/main.js`,
    'echo "{}" > node_modules/warden/package.json',
    'echo "#!/bin/sh" > node_modules/warden/native/build/warden-netns',
    // swap a package warden loads, or its folder, or the whole install
    `unlink node_modules/warden/node_modules/commander; mkdir -p node_modules/warden/node_modules/commander && cp ${payload} node_modules/warden/node_modules/commander/index.js`,
    `mkdir -p node_modules/zod && cp ${payload} node_modules/zod/index.js`,
    'mv node_modules/warden/dist node_modules/warden/dist.old',
    'mv node_modules/warden node_modules/warden.old',
    'mv node_modules node_modules.old',
    'echo ok > project-file.txt',
  ].join('; ');
  const r = agentExec(attempts, { bin, cwd: ws, home, store });
  assert.equal(readFileSync(join(ws, 'project-file.txt'), 'utf8'), 'ok\n', `the project stays writable: ${r.stderr}`);
  watched.forEach((rel, i) => assert.ok(readFileSync(join(pkg, rel)).equals(beforeBytes[i]!), `${rel} changed on the host`));
  assert.ok(!existsSync(join(ws, 'node_modules', 'zod')), 'a package was planted where warden resolves its dependencies');
  assert.ok(!existsSync(join(ws, 'node_modules.old')) && !existsSync(join(pkg, 'dist.old')), 'warden\'s install was moved');
  const next = agentExec('echo next', { bin, cwd: ws, home, store });
  assert.equal(next.status, 0, next.stderr);
  assert.equal(next.stdout, 'next\n');
  assert.ok(!existsSync(marker), 'the payload ran outside the sandbox');
});

test('the warden checkout as the workspace: its built code is read-only, its sources are not', () => {
  const top = join(base, 'checkout');
  const ws = join(top, 'warden');
  const home = join(top, 'home');
  mkdirSync(home, { recursive: true });
  mkdirSync(join(ws, 'native'), { recursive: true });
  for (const entry of ['bin', 'dist', 'package.json', 'src']) cpSync(join(REPO, entry), join(ws, entry), { recursive: true });
  cpSync(join(REPO, 'native', 'build'), join(ws, 'native', 'build'), { recursive: true });
  mkdirSync(join(ws, 'node_modules'));
  for (const dep of readdirSync(join(REPO, 'node_modules'))) symlinkSync(realpathSync(join(REPO, 'node_modules', dep)), join(ws, 'node_modules', dep));
  const bundle = readFileSync(join(ws, 'dist', 'cli', 'main.exec.cjs'));
  const r = agentExec('echo evil >> dist/cli/main.exec.cjs; echo evil >> bin/warden.js; echo "// edited" >> src/policy.ts; echo done', {
    bin: join(ws, 'bin', 'warden.js'),
    cwd: ws,
    home,
    store: join(top, 'state', 'events.db'),
  });
  assert.equal(r.stdout, 'done\n', r.stderr);
  assert.ok(readFileSync(join(ws, 'dist', 'cli', 'main.exec.cjs')).equals(bundle), 'the bundle changed on the host');
  assert.doesNotMatch(readFileSync(join(ws, 'bin', 'warden.js'), 'utf8'), /evil/);
  assert.match(readFileSync(join(ws, 'src', 'policy.ts'), 'utf8'), /\/\/ edited\n$/, 'the sources are the person\'s project, writable as any');
});

test('a patch into warden\'s own code asks (the sandbox would refuse it); one into a project does not', () => {
  // The checkout this test runs from is warden's own code for this process (ownCode.ts).
  const policy: RequestPolicy = { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: false, hidden: [] };
  const patches = [
    ...['dist/cli/evil.cjs', 'bin/evil.js', 'native/build/evil', 'node_modules/commander/evil.js'].map((rel) => `*** Add File: ${rel}\n+evil`),
    '*** Delete File: package.json',
  ];
  for (const body of patches) {
    const c = classifyPatch({ patch: `*** Begin Patch\n${body}\n*** End Patch`, cwd: REPO, policy, platformSandbox: 'bwrap', approvedForSession: false });
    assert.equal(c.outcome, 'ask', `${body}: ${c.reason}`);
  }
  // (a checkout whose node_modules is a symlink, as in a worktree, is read-only as a whole: the
  // link could be swapped, so nothing of it is patched without asking; a plain project still is)
  const ws = join(base, 'patch-ws');
  mkdirSync(ws);
  const ok = classifyPatch({ patch: '*** Begin Patch\n*** Add File: src/new-file.ts\n+x\n*** End Patch', cwd: ws, policy, platformSandbox: 'bwrap', approvedForSession: false });
  assert.equal(ok.outcome, 'auto-approve', ok.reason);
});
