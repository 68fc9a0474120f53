/**
 * Red team, issue #13 (second round): attacks from inside real bubblewrap, as an agent's auto-approved
 * command would run them, on what the earlier masks left open.
 *
 * - Rename the directory above a mount: a mount point cannot be renamed, the directory holding it
 *   can, and the mount moves along. `mv sub sub2` under a read-only `sub/.git`, then a fresh
 *   `sub/.git` with `core.fsmonitor`; `mv /tmp/a /tmp/b` above the workspace, then a fresh
 *   `/tmp/a/ws/.git/hooks`; the same above the store, which moves it off its path.
 * - The person's home inside a writable root ($HOME under a writable /tmp, the home as the
 *   workspace): ~/.bashrc, ~/.profile, ~/.config/autostart, ~/.ssh/authorized_keys, ~/bin, ... run
 *   later, outside any sandbox.
 * - What else the sandbox could share with the host (third round, all held): the person's terminal
 *   (TIOCSTI, TIOCSCTTY, /dev/tty), other processes through /proc and kill, /dev/shm, the host's
 *   abstract Unix sockets with and without the network, symlinks to secrets.
 * Each attempt must fail inside the sandbox and leave the host as it was.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import type { SandboxSpec } from '../../src/sandbox/types.ts';
import { classifyPatch } from '../../src/safety/patch/classifyPatch.ts';
import type { RequestPolicy } from '../../src/events/types.ts';
import { REPO, WARDEN, agentExec, onTerminalArgs } from '../support/cli.ts';
import { defaultHiddenPaths } from '../../src/sandbox/hiddenPaths.ts';
import { eventually } from '../support/eventually.ts';

let base: string;
let n = 0;
const fresh = (name: string) => {
  const dir = join(base, `${name}${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
const q = (p: string) => `'${p.replace(/'/g, "'\\''")}'`;
const WW = (writableRoots: string[] = [], tmpWrite = false): SandboxSpec => ({ mode: 'workspace-write', writableRoots, network: false, tmpWrite });

before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-escape-')));
});
after(() => {
  rmSync(base, { recursive: true, force: true });
  // Never leave a planted /tmp/.git behind for the rest of the machine if the fix does not hold.
  if (existsSync('/tmp/.git/HEAD') || existsSync('/tmp/.git/config')) rmSync('/tmp/.git', { recursive: true, force: true });
});

/** Every file below `dir`, relative, sorted: the host's view after an attack. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const rel = prefix + d.name;
    return d.isDirectory() ? [`${rel}/`, ...tree(join(dir, d.name), `${rel}/`)] : [rel];
  }).sort();
}

test('renaming the directory above a read-only nested .git does not let a new one be planted', async () => {
  const ws = fresh('ws');
  mkdirSync(join(ws, 'sub', '.git', 'hooks'), { recursive: true });
  writeFileSync(join(ws, 'sub', '.git', 'config'), '[core]\n');
  const before = tree(ws);
  const r = await runCommand({
    command: ['sh', '-c', 'mv sub sub2; mkdir -p sub/.git && printf "[core]\\n\\tfsmonitor = touch /tmp/pwned\\n" > sub/.git/config; cat sub/.git/config'],
    cwd: ws,
    sandboxSpec: WW(),
  });
  assert.doesNotMatch(r.stdout, /fsmonitor/, 'a planted config was read back inside the sandbox');
  assert.deepEqual(tree(ws), before, 'the host tree changed');
  assert.equal(readFileSync(join(ws, 'sub', '.git', 'config'), 'utf8'), '[core]\n');
  // writing beside it still works: the pin is read-write
  const ok = await runCommand({ command: ['sh', '-c', 'echo x > sub/file && mkdir -p sub/d/e && echo y > sub/d/e/f'], cwd: ws, sandboxSpec: WW() });
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.equal(readFileSync(join(ws, 'sub', 'd', 'e', 'f'), 'utf8'), 'y\n');
});

test('renaming the directory above the workspace (inside a writable root) does not let it be replaced', async () => {
  const outer = fresh('outer');
  const ws = join(outer, 'a', 'ws');
  mkdirSync(join(ws, '.git'), { recursive: true });
  writeFileSync(join(ws, '.git', 'config'), '[core]\n');
  const r = await runCommand({
    command: ['sh', '-c', `mv ${q(join(outer, 'a'))} ${q(join(outer, 'b'))}; mkdir -p ${q(join(ws, '.git', 'hooks'))} && echo evil > ${q(join(ws, '.git', 'hooks', 'post-checkout'))}; echo done`],
    cwd: ws,
    sandboxSpec: WW([outer]),
  });
  assert.equal(r.stdout, 'done\n');
  assert.ok(!existsSync(join(outer, 'b')), 'the workspace\'s parent was renamed on the host');
  assert.deepEqual(tree(join(outer, 'a')), ['ws/', 'ws/.git/', 'ws/.git/config']);
  // the outer root stays writable elsewhere
  const ok = await runCommand({ command: ['sh', '-c', `echo x > ${q(join(outer, 'free'))} && mkdir ${q(join(outer, 'a', 'new'))}`], cwd: ws, sandboxSpec: WW([outer]) });
  assert.equal(ok.exitCode, 0, ok.stderr);
});

test('warden exec: renaming the store\'s directory (in a writable /tmp) fails; the store stays where it is and verifies', () => {
  const top = fresh('st');
  const ws = join(top, 'ws');
  const home = join(top, 'home');
  mkdirSync(ws);
  mkdirSync(home);
  const store = join(top, 'db', 'events.db');
  mkdirSync(join(top, 'db'));
  const first = agentExec('true', { cwd: ws, home, store });
  assert.equal(first.status, 0, first.stderr);
  const r = agentExec(`mv ${q(join(top, 'db'))} ${q(join(top, 'db2'))}; mv ${q(top)} ${q(`${top}-moved`)}; mkdir -p ${q(join(top, 'db'))}; echo done`, { cwd: ws, home, store });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!existsSync(join(top, 'db2')), 'the store directory was renamed on the host');
  assert.ok(!existsSync(`${top}-moved`), 'the directory above the store was renamed on the host');
  const verify = spawnSync(process.execPath, [WARDEN, 'verify', '--store', store], { env: { ...process.env, WARDEN_LOG: 'silent' }, encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  const audit = spawnSync(process.execPath, [WARDEN, 'audit', '--json', '--store', store], { env: { ...process.env, WARDEN_LOG: 'silent' }, encoding: 'utf8' });
  assert.match(audit.stdout, /db2/, 'the attempt is in the store at its own path');
});

test('a sandboxed command cannot plant /tmp/.git, which every non-repository below /tmp would use', async (t) => {
  if (existsSync('/tmp/.git') && readdirSync('/tmp/.git').length > 0) {
    t.skip('/tmp/.git exists with content on this machine: not a place to experiment');
    return;
  }
  const ws = fresh('tg');
  const marker = join(base, 'fsmonitor-ran');
  const plant = [
    'git init -q --bare /tmp/.git',
    `git config -f /tmp/.git/config core.fsmonitor ${q(`touch ${marker}; false`)}`,
    'git config -f /tmp/.git/config core.bare false',
    'mkdir -p /tmp/.git/hooks && echo evil > /tmp/.git/hooks/post-checkout',
    'echo attempted',
  ].join('; ');
  const r = await runCommand({ command: ['sh', '-c', plant], cwd: ws, sandboxSpec: WW([], true) });
  assert.match(r.stdout, /attempted/);
  // on the host: nothing, or the empty directory the mask leaves
  assert.ok(!existsSync('/tmp/.git') || readdirSync('/tmp/.git').length === 0, `planted: ${existsSync('/tmp/.git') ? readdirSync('/tmp/.git').join(',') : ''}`);
  const notRepo = fresh('plain');
  const git = spawnSync('git', ['status'], { cwd: notRepo, encoding: 'utf8', env: { ...process.env, GIT_CEILING_DIRECTORIES: '' } });
  assert.match(git.stderr, /not a git repository/, 'git below /tmp is not inside a repository');
  assert.ok(!existsSync(marker), 'the planted fsmonitor ran on the host');
  // a second run sees it as an existing entry and keeps it read-only
  const again = await runCommand({ command: ['sh', '-c', 'git init -q --bare /tmp/.git 2>&1; touch /tmp/.git/x 2>&1; echo attempted'], cwd: ws, sandboxSpec: WW([], true) });
  assert.match(again.stdout, /attempted/);
  assert.ok(!existsSync('/tmp/.git') || readdirSync('/tmp/.git').length === 0);
});

/** What a command could plant in a home to run later, outside the sandbox. */
const STARTUP = [
  '.bashrc',
  '.profile',
  '.bash_profile',
  '.zshenv',
  '.gitconfig',
  '.config/autostart/evil.desktop',
  '.config/systemd/user/evil.service',
  '.config/git/config',
  '.ssh/authorized_keys',
  '.ssh/rc',
  '.local/bin/git',
  'bin/ls',
  '.pam_environment',
  '.xprofile',
];

function plantAttempts(home: string): string {
  return [
    ...STARTUP.map((rel) => `mkdir -p ${q(join(home, rel, '..'))} 2>/dev/null; echo evil >> ${q(join(home, rel))} && echo PLANTED ${rel}`),
    `mv ${q(home)} ${q(`${home}-moved`)} && echo PLANTED moved`,
    `mv ${q(join(home, '.bashrc'))} ${q(join(home, 'x'))} && echo PLANTED renamed`,
    'true',
  ].join('; ');
}

// warden's own state folder: warden itself (not the command) keeps its code cache there
// (src/cli/runBundle.ts), and every sandbox hides it. Anything else under ~/.local still counts.
const WARDEN_STATE = /^\.local\/(state\/(warden\/.*)?)?$/;

function assertHomeUnchanged(home: string, before: string[]) {
  assert.deepEqual(tree(home).filter((p) => !WARDEN_STATE.test(p)), before, 'the home changed on the host');
  assert.equal(readFileSync(join(home, '.bashrc'), 'utf8'), '# the person\'s own\n');
  assert.ok(!existsSync(`${home}-moved`));
}

function makeHome(dir: string): { home: string; before: string[] } {
  const home = join(dir, 'home');
  mkdirSync(join(home, '.config'), { recursive: true });
  writeFileSync(join(home, '.bashrc'), '# the person\'s own\n');
  return { home, before: tree(home) };
}

test('warden exec: $HOME under a writable /tmp: no start-up file can be created, changed or moved; the workspace stays writable', () => {
  const top = fresh('h');
  const { home, before } = makeHome(top);
  const ws = join(top, 'ws');
  mkdirSync(ws);
  const r = agentExec(`${plantAttempts(home)}; echo ok > inside.txt; echo ok > ${q(join(top, 'tmp-beside.txt'))}`, { cwd: ws, home, store: join(top, 's', 'events.db') });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /PLANTED/, r.stdout);
  assertHomeUnchanged(home, before);
  assert.equal(readFileSync(join(ws, 'inside.txt'), 'utf8'), 'ok\n');
  assert.equal(readFileSync(join(top, 'tmp-beside.txt'), 'utf8'), 'ok\n', '/tmp itself stays writable');
});

test('warden exec: a project below a $HOME that lies in a writable root stays writable, the home around it does not', () => {
  const top = fresh('hp');
  const { home, before } = makeHome(top);
  const ws = join(home, 'proj');
  mkdirSync(ws);
  const r = agentExec(`${plantAttempts(home)}; mkdir -p src && echo ok > src/a.txt`, { cwd: ws, home, store: join(top, 's', 'events.db') });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /PLANTED/, r.stdout);
  assert.equal(readFileSync(join(ws, 'src', 'a.txt'), 'utf8'), 'ok\n');
  assertHomeUnchanged(home, [...before, 'proj/', 'proj/src/', 'proj/src/a.txt'].sort());
});

test('the home as the workspace is read-only: nothing is planted, and a write there is a denial (it can be escalated)', async () => {
  const top = fresh('hw');
  const { home, before } = makeHome(top);
  const r = await runCommand({ command: ['sh', '-c', plantAttempts(home)], cwd: home, sandboxSpec: WW([], true), env: { ...process.env, HOME: home } });
  assert.doesNotMatch(r.stdout, /PLANTED/, r.stdout);
  assertHomeUnchanged(home, before);
  const w = await runCommand({ command: ['sh', '-c', 'echo x > notes.txt'], cwd: home, sandboxSpec: WW(), env: { ...process.env, HOME: home } });
  assert.notEqual(w.exitCode, 0);
  assert.equal(w.denial.denied, true, w.stderr);
  assert.match(w.denial.what ?? '', /^write to a read-only path: .*notes\.txt$/);
  // warden's own $HOME counts even when the command is handed another one
  const other = await runCommand({ command: ['sh', '-c', `echo evil >> ${q(join(home, '.profile'))}`], cwd: home, sandboxSpec: WW(), env: { ...process.env, HOME: '/nonexistent' } });
  assert.notEqual(other.exitCode, 0);
  assert.ok(!existsSync(join(home, '.profile')));
});

test('a patch into a $HOME that lies in a writable root asks; one into a project below it does not', () => {
  const top = fresh('hpatch');
  const { home } = makeHome(top);
  const ws = join(home, 'proj');
  mkdirSync(ws);
  const saved = process.env.HOME;
  process.env.HOME = home;
  try {
    const policy: RequestPolicy = { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true, hidden: [] };
    for (const rel of ['.config/autostart/evil.desktop', '.bashrc', 'bin/ls']) {
      const c = classifyPatch({ patch: `*** Begin Patch\n*** Add File: ${join(home, rel)}\n+evil\n*** End Patch`, cwd: ws, policy, platformSandbox: 'bwrap', approvedForSession: false });
      assert.equal(c.outcome, 'ask', `${rel}: ${c.reason}`);
    }
    const ok = classifyPatch({ patch: '*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch', cwd: ws, policy, platformSandbox: 'bwrap', approvedForSession: false });
    assert.equal(ok.outcome, 'auto-approve', ok.reason);
  } finally {
    process.env.HOME = saved;
  }
});

test('a writable directory swapped for a symlink after planning is not bound: the run does not start, the home stays untouched', async () => {
  // What a concurrent sandboxed command could do between the plan and bwrap's mounts, done here
  // deterministically: plan (paths), swap ws/y for a symlink to a home, then open the binds.
  const ws = fresh('race');
  const { home, before } = makeHome(fresh('racehome'));
  mkdirSync(join(ws, 'y', '.git'), { recursive: true });
  const { buildBwrapArgs } = await import('../../src/sandbox/bwrapArgs.ts');
  const { nodeFsProbe } = await import('../../src/sandbox/writableRoots.ts');
  const { openBindFds } = await import('../../src/sandbox/runCommand.ts');
  const plan = buildBwrapArgs({ spec: WW(), cwd: ws, command: ['true'], env: {}, probe: nodeFsProbe, bindFdBase: 5 });
  assert.ok(plan.rwBinds.includes(join(ws, 'y')), 'ws/y is pinned (it holds a .git)');
  assert.ok(plan.args.includes('--bind-fd'));
  const { renameSync, symlinkSync } = await import('node:fs');
  renameSync(join(ws, 'y'), join(ws, 'y-real'));
  // relative: bwrap resolves the destination inside its new root, where a relative link still leads home
  symlinkSync(relative(ws, home), join(ws, 'y'));
  const opened = openBindFds(plan.rwBinds);
  assert.equal(opened.changed, join(ws, 'y'));
  assert.deepEqual(opened.fds, []);
  // by path, bwrap would have bound the home read-write: what the fds prevent
  const byPath = spawnSync('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--bind', join(ws, 'y'), join(ws, 'y'), 'sh', '-c', `echo evil >> ${q(join(home, '.bashrc'))} && echo WROTE`], { encoding: 'utf8' });
  assert.match(byPath.stdout, /WROTE/, 'the swap does redirect a bind by path');
  writeFileSync(join(home, '.bashrc'), '# the person\'s own\n');
  assertHomeUnchanged(home, before);
  // and one that did not change opens, and binds the planned directory
  renameSync(join(ws, 'y'), join(ws, 'y-link'));
  renameSync(join(ws, 'y-real'), join(ws, 'y'));
  const ok = openBindFds(plan.rwBinds);
  assert.equal(ok.changed, null);
  const { closeSync } = await import('node:fs');
  for (const fd of ok.fds) closeSync(fd);
  const run = await runCommand({ command: ['sh', '-c', 'echo x > y/file && ls /proc/self/fd | wc -l'], cwd: ws, sandboxSpec: WW() });
  assert.equal(run.exitCode, 0, run.stderr);
  assert.ok(Number(run.stdout.trim()) <= 6, `the command inherited bind fds: ${run.stdout}`);
  assert.equal(readFileSync(join(ws, 'y', 'file'), 'utf8'), 'x\n');
});

test('an fd the caller left open reaches no command: warden closes what it inherits without close-on-exec, as sudo does', () => {
  const top = fresh('fd');
  const ws = join(top, 'ws');
  mkdirSync(ws);
  const outside = join(top, 'outside.txt');
  writeFileSync(outside, '');
  const fd = openSync(outside, 'a');
  try {
    for (const sandbox of ['workspace-write', 'danger-full-access']) {
      const r = spawnSync(
        process.execPath,
        [WARDEN, 'exec', '--approval', 'never', '--sandbox', sandbox, '--store', join(top, 's', 'events.db'), '--', 'sh', '-c', 'echo escaped > /proc/$$/fd/60; [ -e /proc/$$/fd/60 ] && echo fd60 is open; true'],
        // at 60: the low fds are overwritten by the ones warden passes bwrap (info, seccomp, binds)
        { cwd: ws, stdio: ['ignore', 'pipe', 'pipe', ...Array(57).fill('ignore'), fd], encoding: 'utf8', env: { ...process.env, WARDEN_LOG: 'silent' }, timeout: 120_000 },
      );
      assert.equal(readFileSync(outside, 'utf8'), '', `${sandbox}: the command wrote through the inherited fd`);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /fd60 is open/, `${sandbox}: fd 60 reached the command`);
    }
  } finally {
    closeSync(fd);
  }
});

// ---- red team, third round: what the sandbox shares with the host besides the file system

test('warden exec on a terminal: the command cannot push keys into the person\'s terminal (TIOCSTI) or take it as its controlling terminal', () => {
  const ws = fresh('tty');
  // Control first: bare, on the same kind of terminal, the attack works, so the test can fail.
  const probe = join(ws, 'sti.pl');
  writeFileSync(
    probe,
    [
      'print -t STDIN ? "ISATTY\\n" : "NOTTY\\n";',
      'my $c = "X";',
      'print ioctl(STDIN, 0x5412, $c) ? "INJECTED\\n" : "sti refused\\n";', // TIOCSTI
      'print ioctl(STDIN, 0x540E, 1) ? "CTTY-TAKEN\\n" : "ctty refused\\n";', // TIOCSCTTY, stealing
      'print ioctl(STDIN, 0x5412, $c) ? "INJECTED\\n" : "sti refused\\n";',
      'print open(T, "+<", "/dev/tty") ? "TTY-OPEN\\n" : "no tty\\n";',
    ].join('\n'),
  );
  const onTerminal = (argv: string[]) => spawnSync('script', onTerminalArgs(argv), { cwd: ws, env: { ...process.env, WARDEN_LOG: 'silent' }, encoding: 'utf8', timeout: 120_000, input: '' });
  const bare = onTerminal(['perl', probe]);
  assert.match(bare.stdout, /ISATTY[\s\S]*INJECTED/, `the control did not inject: ${bare.stdout}${bare.stderr}`);
  const r = onTerminal([process.execPath, WARDEN, 'exec', '--approval', 'never', '--store', join(ws, 'events.db'), '--', 'perl', probe]);
  assert.match(r.stdout, /ISATTY/, `the command did not get the terminal: ${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout, /INJECTED|CTTY-TAKEN|TTY-OPEN/);
  assert.equal((r.stdout.match(/sti refused/g) ?? []).length, 2, r.stdout);
});

test('host processes are out of sight: no other process\'s environ, cmdline, fds or root from /proc, and no signal reaches them', async () => {
  const marker = `WARDEN-REDTEAM-${process.pid}-${Date.now()}`;
  const host = spawn('sleep', ['300'], { env: { ...process.env, LEAK: marker }, stdio: 'ignore' });
  try {
    const r = await runCommand({
      command: [
        'sh',
        '-c',
        `for p in /proc/[0-9]*; do cat $p/environ $p/cmdline 2>/dev/null | tr '\\0' '\\n'; ls -l $p/fd/ $p/cwd $p/root 2>/dev/null; done; ls -d /proc/${host.pid} /proc/${process.pid} 2>/dev/null; kill -0 ${host.pid} ${process.pid} 2>/dev/null && echo SIG""NALLED; echo end`,
      ],
      cwd: fresh('proc'),
      sandboxSpec: WW(),
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /end\n$/);
    assert.ok(!r.stdout.includes(marker), 'a host process\'s environment was read');
    assert.ok(!r.stdout.includes(`/proc/${host.pid}\n`) && !r.stdout.includes(`/proc/${process.pid}\n`), r.stdout);
    assert.ok(!r.stdout.includes('SIGNALLED'), r.stdout);
  } finally {
    host.kill('SIGKILL');
  }
});

test('/dev/shm is the sandbox\'s own: a host file there is not seen, and nothing written there reaches the host', async () => {
  const name = `warden-redteam-${process.pid}-${++n}`;
  writeFileSync(join('/dev/shm', name), 'SHM-SECRET\n');
  try {
    const r = await runCommand({ command: ['sh', '-c', `cat /dev/shm/${name}; echo planted > /dev/shm/${name}-in; ls /dev/shm`], cwd: fresh('shm'), sandboxSpec: WW() });
    assert.ok(!r.stdout.includes('SHM-SECRET'), r.stdout);
    assert.ok(!existsSync(join('/dev/shm', `${name}-in`)), 'a file written to the sandbox\'s /dev/shm is on the host');
  } finally {
    rmSync(join('/dev/shm', name), { force: true });
  }
});

for (const network of [false, true]) {
  test(`a host's abstract Unix socket is unreachable ${network ? 'with' : 'without'} the network (its own namespace; seccomp with it)`, async () => {
    const name = `warden-redteam-${process.pid}-${++n}`;
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.end('HOST-SOCKET\n');
    });
    await new Promise<void>((ok) => server.listen(`\0${name}`, ok));
    try {
      // the control: the host reaches it
      const control = await new Promise<string>((ok) => {
        let out = '';
        spawn(process.execPath, ['-e', `require('net').connect('\\0${name}').on('data', (d) => process.stdout.write(d))`], { stdio: ['ignore', 'pipe', 'inherit'] })
          .on('close', () => ok(out))
          .stdout!.on('data', (d: Buffer) => (out += d.toString()));
      });
      assert.equal(control, 'HOST-SOCKET\n');
      connections = 0;
      const r = await runCommand({
        command: [process.execPath, '-e', `require('net').connect('\\0${name}').on('data', (d) => process.stdout.write(d)).on('error', (e) => { console.log('refused', e.code); })`],
        cwd: fresh('abstract'),
        sandboxSpec: { ...WW(), network },
      });
      assert.ok(!r.stdout.includes('HOST-SOCKET'), r.stdout);
      assert.match(r.stdout, /refused/, r.stdout + r.stderr);
      assert.equal(connections, 0);
    } finally {
      server.close();
    }
  });
}

test('a symlink to a secret, made inside the workspace or by the host before the run, reaches only the mask', async () => {
  const top = fresh('links');
  const home = join(top, 'home');
  const ws = join(top, 'ws');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(ws);
  writeFileSync(join(home, '.ssh', 'id_ed25519'), 'SSH-SECRET\n');
  writeFileSync(join(home, '.netrc'), 'NETRC-SECRET\n');
  symlinkSync(join(home, '.ssh', 'id_ed25519'), join(ws, 'key'));
  symlinkSync(join(home, '.ssh'), join(ws, 'sshdir'));
  const spec: SandboxSpec = { ...WW(), hidden: defaultHiddenPaths({ HOME: home }) };
  const r = await runCommand({
    command: ['sh', '-c', `cat key; cat sshdir/id_ed25519; ln -s ${q(join(home, '.netrc'))} n2 && cat n2; ln -s ../home/.ssh s2 && cat s2/id_ed25519; cat /proc/self/root${home}/.netrc`],
    cwd: ws,
    sandboxSpec: spec,
    env: { ...process.env, HOME: home },
  });
  assert.notEqual(r.exitCode, 0);
  assert.doesNotMatch(r.stdout, /SECRET/);
  assert.equal(r.denial.denied, true, r.stderr);
});

test('behind the domain proxy, a command that injects syscalls into bwrap\'s PID 1 reaches no Unix socket of the host', { skip: process.arch === 'x64' ? false : 'the injection fixture speaks x86-64 only' }, async () => {
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  assert.ok(python.startsWith('/'), 'python3 is needed for the injection fixture');
  const inject = join(REPO, 'test', 'fixtures', 'attack', 'inject-syscalls.py');
  const sock = join(fresh('pid1'), 'host.sock');
  const got: string[] = [];
  const server = createServer((s) => s.on('data', (d) => got.push(d.toString())));
  await new Promise<void>((ok) => server.listen(sock, ok));
  try {
    // The control: the same injection into a host process does reach the socket.
    const victim = spawn('sleep', ['60'], { stdio: 'ignore' });
    const control = await new Promise<string>((ok) => {
      let out = '';
      spawn(python, [inject, String(victim.pid), sock, 'CONTROL'], { stdio: ['ignore', 'pipe', 'inherit'] })
        .on('close', () => ok(out))
        .stdout!.on('data', (d: Buffer) => (out += d.toString()));
    });
    victim.kill('SIGKILL');
    assert.match(control, /^connect 0$/m, control);
    await waitFor(() => got.includes('CONTROL'));
    const r = await runCommand({
      command: ['sh', '-c', `grep Seccomp: /proc/1/status; ${q(python)} ${q(inject)} 1 ${q(sock)} ESCAPED`],
      cwd: fresh('pid1ws'),
      sandboxSpec: { ...WW(), domains: { allow: ['example.com'], deny: [] } },
    });
    assert.equal(r.error, undefined, r.error);
    assert.match(r.stdout, /^Seccomp:\s+2$/m, `bwrap's PID 1 carries no filter: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /^connect 0$/m, r.stdout + r.stderr);
    assert.deepEqual(got, ['CONTROL'], 'the host socket got a connection from inside the sandbox');
  } finally {
    server.close();
  }
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((ok) => setTimeout(ok, 10));
  assert.ok(cond(), 'timed out');
}

test('the person\'s kernel keyring is out of reach in every shape (keyrings are not namespaced)', { skip: process.arch === 'x64' ? false : 'the keyring probe uses x86-64 syscall numbers' }, async () => {
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  assert.ok(python.startsWith('/'), 'python3 is needed for the keyring probe');
  const name = `warden-redteam-${process.pid}-${++n}`;
  // add_key 248, keyctl 250: KEYCTL_SEARCH 10, KEYCTL_READ 11, KEYCTL_REVOKE 3; @u is -4
  const lib = 'import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); libc.syscall.restype = ctypes.c_long';
  const add = `${lib}; print(libc.syscall(248, b"user", b"${name}", b"KEYRING-SECRET", 14, -4))`;
  const read = `${lib}; k = libc.syscall(250, 10, -4, b"user", b"${name}", 0); b = ctypes.create_string_buffer(64); n = libc.syscall(250, 11, k, b, 64) if k > 0 else -1; print("key", k, b.value.decode(), ctypes.get_errno())`;
  const key = Number(spawnSync(python, ['-c', add], { encoding: 'utf8' }).stdout.trim());
  assert.ok(key > 0, 'the host could not add a key to its user keyring');
  try {
    // the control: outside the sandbox the key reads back
    assert.match(spawnSync(python, ['-c', read], { encoding: 'utf8' }).stdout, /KEYRING-SECRET/);
    const shapes: Array<[string, Partial<SandboxSpec>]> = [['network off', {}], ['network on', { network: true }], ['behind the proxy', { domains: { allow: ['example.com'], deny: [] } }]];
    for (const [label, extra] of shapes) {
      const r = await runCommand({ command: [python, '-c', read], cwd: fresh('keyring'), sandboxSpec: { ...WW(), ...extra } });
      assert.equal(r.error, undefined, r.error);
      assert.doesNotMatch(r.stdout, /KEYRING-SECRET/, `${label}: the key was read from inside`);
      assert.match(r.stdout, /^key -1  1$/m, `${label}: ${r.stdout}${r.stderr}`); // EPERM
    }
  } finally {
    spawnSync(python, ['-c', `${lib}; libc.syscall(250, 3, ${key})`]);
  }
});

test('a .git above the workspace, inside a writable /tmp, cannot be planted, and an existing one (a repository cloned below /tmp) cannot be written', async () => {
  // Red team: temp roots are masked only at their top, and not walked. With the workspace in
  // /tmp/…/a/ws (not a repository) a sandboxed `git init --bare ../.git` with `core.fsmonitor` ran
  // its command on the host at the person's next `git status` in the workspace (git's discovery
  // walks up); with the workspace a subdirectory of a repository below /tmp, ../.git/hooks was writable.
  const top = fresh('above');
  const ws = join(top, 'a', 'ws');
  mkdirSync(ws, { recursive: true });
  const marker = join(top, 'FSMONITOR-RAN');
  const plant = `git init -q --bare ../.git; git --git-dir=../.git config core.bare false; git --git-dir=../.git config core.fsmonitor ${q(`touch ${marker}; false`)}; echo ok > inside.txt`;
  const r = await runCommand({ command: ['sh', '-c', plant], cwd: ws, sandboxSpec: WW([], true) });
  assert.equal(readFileSync(join(ws, 'inside.txt'), 'utf8'), 'ok\n', r.stderr);
  const status = spawnSync('git', ['status'], { cwd: ws, encoding: 'utf8', env: { ...process.env, GIT_CEILING_DIRECTORIES: '' } });
  assert.ok(!existsSync(marker), 'the planted fsmonitor ran on the host');
  assert.match(status.stderr, /not a git repository/, status.stdout + status.stderr);
  assert.deepEqual(existsSync(join(top, 'a', '.git')) ? readdirSync(join(top, 'a', '.git')) : [], [], 'something was planted in ../.git');

  const repo = fresh('clone');
  spawnSync('git', ['init', '-q', repo]);
  const sub = join(repo, 'pkg');
  mkdirSync(sub);
  const config = readFileSync(join(repo, '.git', 'config'), 'utf8');
  const w = await runCommand({
    command: ['sh', '-c', 'echo "touch x" > ../.git/hooks/pre-commit; echo "[core]" >> ../.git/config; mv ../.git ../.git-moved; echo ok > inside.txt'],
    cwd: sub,
    sandboxSpec: WW([], true),
  });
  assert.equal(readFileSync(join(sub, 'inside.txt'), 'utf8'), 'ok\n', w.stderr);
  assert.ok(!existsSync(join(repo, '.git', 'hooks', 'pre-commit')), 'a hook was planted in the repository above the workspace');
  assert.equal(readFileSync(join(repo, '.git', 'config'), 'utf8'), config);
  assert.ok(!existsSync(join(repo, '.git-moved')));
});

test('a .git above the workspace inside a --writable-root cannot be created, and no mask is left behind', async () => {
  const top = fresh('aboveroot');
  const ws = join(top, 'a', 'ws');
  mkdirSync(ws, { recursive: true });
  const r = await runCommand({ command: ['sh', '-c', 'git init -q --bare ../.git; mkdir ../.git; echo ok > inside.txt; echo ok > ../beside.txt'], cwd: ws, sandboxSpec: WW([top]) });
  assert.equal(readFileSync(join(ws, 'inside.txt'), 'utf8'), 'ok\n', r.stderr);
  assert.equal(readFileSync(join(top, 'a', 'beside.txt'), 'utf8'), 'ok\n', 'the directory above stays writable');
  assert.ok(!existsSync(join(top, 'a', '.git')), 'a .git (or the mask\'s mount point) is left above the workspace');
});

test('behind the domain proxy, a host socket made after the plan is out of reach too: the command cannot trace bwrap\'s PID 1 or write its memory', { skip: process.arch === 'x64' ? false : 'the injection fixture speaks x86-64 only' }, async () => {
  // Red team: the masks of host sockets are planned before the run starts; PID 1 carries the
  // sockets-by-path program, so a command that injected syscalls into it (ptrace, or a write to
  // /proc/1/mem) reached a socket made later (an ssh-agent, a tmux server started meanwhile).
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  assert.ok(python.startsWith('/'), 'python3 is needed for the injection fixture');
  const inject = join(REPO, 'test', 'fixtures', 'attack', 'inject-syscalls.py');
  const dir = fresh('late');
  const sock = join(dir, 'late.sock');
  const go = join(dir, 'go');
  const got: string[] = [];
  const server = createServer((s) => s.on('data', (d) => got.push(d.toString())));
  const ws = fresh('latews');
  try {
    const run = runCommand({
      command: ['sh', '-c', `touch started; while [ ! -e ${q(go)} ]; do sleep 0.05; done; ${q(python)} ${q(inject)} 1 ${q(sock)} ESCAPED 2>&1; echo poke > /proc/1/mem 2>/dev/null && echo MEM-WRITTEN; echo end`],
      cwd: ws,
      sandboxSpec: { ...WW(), domains: { allow: ['example.com'], deny: [] } },
    });
    // the socket appears only once the command runs (its plan made, its masks mounted)
    await eventually(() => existsSync(join(ws, 'started')), 60_000, 'the command to start');
    await new Promise<void>((ok) => server.listen(sock, ok));
    writeFileSync(go, '');
    const r = await run;
    assert.equal(r.error, undefined, r.error);
    assert.match(r.stdout, /end\n$/, r.stderr);
    assert.doesNotMatch(r.stdout, /^connect 0$/m, r.stdout);
    assert.doesNotMatch(r.stdout, /MEM-WRITTEN/, r.stdout);
    assert.deepEqual(got, [], 'the late host socket got a connection from inside the sandbox');
  } finally {
    server.close();
  }
});

test('without the network a host datagram socket gets nothing from the sandbox (sendto needs no connect)', async () => {
  // Red team: the network-off filter refuses connect, but a datagram is sent with sendto(path):
  // a sandboxed command wrote into a host Unix datagram socket (journald's, syslog's, a notify socket).
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  assert.ok(python.startsWith('/'), 'python3 is needed for the datagram socket');
  const sock = join(fresh('dgram'), 'host-dgram.sock');
  const receiver = spawn(python, ['-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print('bound', flush=True)\nwhile True:\n  d=s.recv(100)\n  print(d.decode(), flush=True)\n  if d == b'END': break`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let heard = '';
  receiver.stdout!.on('data', (d: Buffer) => (heard += d.toString()));
  const send = (msg: string) => `${q(python)} -c "import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(sys.argv[2].encode(), sys.argv[1])" ${q(sock)} ${msg}`;
  try {
    await eventually(() => heard.includes('bound'), 30_000, 'the host socket');
    const r = await runCommand({ command: ['sh', '-c', `${send('FROM-SANDBOX')}; echo end`], cwd: fresh('dgramws'), sandboxSpec: WW([], true) });
    assert.match(r.stdout, /end\n$/, r.stderr);
    spawnSync('sh', ['-c', `${send('CONTROL')}; ${send('END')}`]);
    await eventually(() => heard.includes('END'), 30_000, 'the control datagrams');
    assert.match(heard, /CONTROL/);
    assert.doesNotMatch(heard, /FROM-SANDBOX/, 'the host datagram socket got a datagram from inside the sandbox');
  } finally {
    receiver.kill('SIGKILL');
  }
});
