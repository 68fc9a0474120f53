/**
 * The bwrap argv as a policy: given a described file system (a fake FsProbe), which mounts appear and
 * in which order. The real-bwrap behaviour is in test/e2e/sandbox.bwrap.e2e.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { buildBwrapArgs, type BwrapInput } from '../../src/sandbox/bwrapArgs.ts';
import { planWritableRoots, parseGitdirPointer, PERSISTENCE_NAMES, type FsProbe, type PathKind } from '../../src/sandbox/writableRoots.ts';
import type { SandboxSpec } from '../../src/sandbox/types.ts';

type Node = { kind: 'dir' } | { kind: 'file'; text?: string } | { kind: 'symlink'; to: string };

/** A list without the persistence-name entries (they have their own tests below). */
const gw = (xs: string[]) => xs.filter((x) => !(PERSISTENCE_NAMES as readonly string[]).includes(posix.basename(x)));

/** An in-memory tree: every listed path exists; parents of listed paths are directories. */
function fakeFs(entries: Record<string, Node>): FsProbe {
  const nodes = new Map<string, Node>(Object.entries(entries));
  for (const p of [...nodes.keys()]) {
    for (let d = posix.dirname(p); ; d = posix.dirname(d)) {
      if (!nodes.has(d)) nodes.set(d, { kind: 'dir' });
      if (d === '/') break;
    }
  }
  const resolveLinks = (path: string, depth = 0): string | null => {
    if (depth > 20) return null;
    const parts = path.split('/').filter(Boolean);
    let cur = '/';
    for (const part of parts) {
      const next = posix.join(cur, part);
      const n = nodes.get(next);
      if (!n) return null;
      if (n.kind === 'symlink') {
        const r = resolveLinks(posix.resolve(cur, n.to), depth + 1);
        if (r === null) return null;
        cur = r;
      } else cur = next;
    }
    return cur;
  };
  return {
    kind(path): PathKind {
      const parent = resolveLinks(posix.dirname(path));
      if (parent === null) return 'missing';
      const n = nodes.get(posix.join(parent, posix.basename(path)));
      return n ? n.kind : 'missing';
    },
    realpath: (path) => resolveLinks(path),
    readText(path) {
      const r = resolveLinks(path);
      const n = r === null ? undefined : nodes.get(r);
      return n?.kind === 'file' ? (n.text ?? '') : null;
    },
    list(path) {
      const r = resolveLinks(path);
      if (r === null || nodes.get(r)?.kind !== 'dir') return null;
      return [...nodes].filter(([p]) => p !== '/' && posix.dirname(p) === r).map(([p, n]) => ({ name: posix.basename(p), kind: n.kind }));
    },
  };
}

const WW: SandboxSpec = { mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: true };
const RO: SandboxSpec = { mode: 'read-only', writableRoots: [], network: false, tmpWrite: true };

function build(spec: SandboxSpec, fs: Record<string, Node>, over: Partial<BwrapInput> = {}) {
  return buildBwrapArgs({ spec, cwd: '/ws', command: ['true'], env: {}, probe: fakeFs(fs), ...over });
}

/** The args as [flag, ...operands] groups, for readable assertions. */
function mounts(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--bind' || a === '--ro-bind') out.push(`${a} ${args[i + 1]} ${args[i + 2]}`), (i += 2);
  }
  return out;
}

test('read-only: / read-only, fresh /dev and /proc, namespaces, no writable binds', () => {
  const plan = build(RO, { '/ws': { kind: 'dir' }, '/tmp': { kind: 'dir' } });
  const a = plan.args;
  for (const flag of ['--unshare-pid', '--unshare-net', '--die-with-parent', '--new-session', '--unshare-ipc']) {
    assert.ok(a.includes(flag), flag);
  }
  assert.deepEqual(a.slice(a.indexOf('--cap-drop'), a.indexOf('--cap-drop') + 2), ['--cap-drop', 'ALL']);
  assert.deepEqual(mounts(a), ['--ro-bind / /']);
  assert.ok(a.join(' ').includes('--dev /dev --proc /proc'));
  assert.deepEqual(a.slice(-4), ['--chdir', '/ws', '--', 'true']);
  assert.deepEqual(plan.writableRoots, []);
});

test('network on: no --unshare-net', () => {
  assert.ok(!build({ ...RO, network: true }, { '/ws': { kind: 'dir' } }).args.includes('--unshare-net'));
});

test('a program that opens no socket (the patch helper) gets no network namespace, and everything else the same', () => {
  const fs: Record<string, Node> = { '/ws': { kind: 'dir' }, '/tmp': { kind: 'dir' }, '/ws/.git': { kind: 'dir' }, '/home/p/.ssh': { kind: 'dir' } };
  const spec = { ...WW, hidden: ['/home/p/.ssh'] };
  const command = build(spec, fs);
  const helper = build(spec, fs, { opensNoSockets: true });
  assert.ok(command.args.includes('--unshare-net'));
  assert.deepEqual(helper.args, command.args.filter((a) => a !== '--unshare-net'));
  assert.deepEqual(helper.hides, command.hides);
  assert.deepEqual(helper.masks, command.masks);
});

test('workspace-write: cwd, extra roots, /tmp and $TMPDIR bound read-write, then protections masked', () => {
  const plan = build(
    { ...WW, writableRoots: ['/data', 'rel'] },
    { '/ws/rel': { kind: 'dir' }, '/data': { kind: 'dir' }, '/tmp': { kind: 'dir' }, '/scratch': { kind: 'dir' } },
    { env: { TMPDIR: '/scratch' } },
  );
  assert.deepEqual(plan.writableRoots, ['/ws', '/tmp', '/data', '/ws/rel', '/scratch']);
  const m = mounts(plan.args);
  const firstRo = m.findIndex((x, i) => i > 0 && x.startsWith('--ro-bind'));
  assert.ok(m.slice(1, firstRo).every((x) => x.startsWith('--bind ')), 'all writable binds before the protections');
  assert.ok(m.includes('--ro-bind /dev/null /ws/.git'));
  assert.ok(m.includes('--ro-bind /dev/null /ws/.warden'));
  assert.ok(!m.includes('--ro-bind /dev/null /tmp/.git'), 'shared temp roots get no masks');
  assert.ok(m.includes('--ro-bind /dev/null /ws/rel/.warden'));
  assert.deepEqual(gw(plan.masks).sort(), ['/data/.git', '/data/.warden', '/ws/.git', '/ws/.warden', '/ws/rel/.git', '/ws/rel/.warden']);
});

test('an existing /tmp/.git is still protected; a temp dir that is also cwd gets masks', () => {
  const plan = build(WW, { '/tmp/.git': { kind: 'dir' } }, { cwd: '/tmp' });
  assert.ok(mounts(plan.args).includes('--ro-bind /tmp/.git /tmp/.git'));
  assert.deepEqual(gw(plan.masks), ['/tmp/.warden']);
  const other = build(WW, { '/ws': { kind: 'dir' }, '/tmp/.git': { kind: 'dir' } });
  assert.ok(mounts(other.args).includes('--ro-bind /tmp/.git /tmp/.git'));
  assert.ok(!other.masks.includes('/tmp/.warden'));
});

test('no tmp write: neither /tmp nor $TMPDIR is bound', () => {
  const plan = build({ ...WW, tmpWrite: false }, { '/ws': { kind: 'dir' }, '/tmp': { kind: 'dir' }, '/s': { kind: 'dir' } }, { env: { TMPDIR: '/s' } });
  assert.deepEqual(plan.writableRoots, ['/ws']);
});

test('a root that is a symlink binds its real target; duplicates collapse; missing roots are skipped', () => {
  const plan = build(
    { ...WW, writableRoots: ['/link', '/real', '/gone'], tmpWrite: false },
    { '/ws': { kind: 'dir' }, '/link': { kind: 'symlink', to: '/real' }, '/real': { kind: 'dir' } },
  );
  assert.deepEqual(plan.writableRoots, ['/ws', '/real']);
  assert.deepEqual(plan.skipped, ['/gone']);
  assert.ok(!plan.args.includes('/link'));
});

test('an existing .git dir and .warden dir are re-bound read-only onto themselves', () => {
  const plan = build({ ...WW, tmpWrite: false }, { '/ws/.git/hooks': { kind: 'dir' }, '/ws/.warden': { kind: 'dir' } });
  assert.deepEqual(gw(mounts(plan.args)), ['--ro-bind / /', '--bind /ws /ws', '--ro-bind /ws/.git /ws/.git', '--ro-bind /ws/.warden /ws/.warden']);
  assert.deepEqual(gw(plan.masks), []);
});

test('a .git file protects itself and its gitdir target (relative pointer)', () => {
  const plan = build(
    { ...WW, writableRoots: ['/main'], tmpWrite: false },
    { '/ws/.git': { kind: 'file', text: 'gitdir: ../main/.git/worktrees/ws\n' }, '/main/.git/worktrees/ws': { kind: 'dir' } },
  );
  const m = mounts(plan.args);
  assert.ok(m.includes('--ro-bind /ws/.git /ws/.git'));
  assert.ok(m.includes('--ro-bind /main/.git/worktrees/ws /main/.git/worktrees/ws'));
  assert.ok(m.includes('--ro-bind /main/.git /main/.git'));
});

test('a gitdir target outside every writable root needs no mount (it is read-only already)', () => {
  const plan = build({ ...WW, tmpWrite: false }, { '/ws/.git': { kind: 'file', text: 'gitdir: /elsewhere/g' }, '/elsewhere/g': { kind: 'dir' } });
  assert.ok(!mounts(plan.args).some((m) => m.includes('/elsewhere')));
});

test('a missing gitdir target inside a writable root is masked when its parent exists', () => {
  const plan = build({ ...WW, tmpWrite: false }, { '/ws/.git': { kind: 'file', text: 'gitdir: sub/g' }, '/ws/sub': { kind: 'dir' } });
  assert.ok(plan.masks.includes('/ws/sub/g'));
  assert.deepEqual(plan.writableRoots, ['/ws']);
});

test('a missing gitdir target whose parent is missing too demotes the root (fail closed)', () => {
  const plan = build({ ...WW, tmpWrite: false }, { '/ws/.git': { kind: 'file', text: 'gitdir: a/b/g' } });
  assert.deepEqual(plan.writableRoots, []);
  assert.equal(plan.demoted[0]?.root, '/ws');
});

test('a symlinked .git demotes its root to read-only and keeps its target read-only where writable', () => {
  const plan = build(
    { ...WW, writableRoots: ['/other'], tmpWrite: false },
    { '/ws/.git': { kind: 'symlink', to: '/other/realgit' }, '/other/realgit': { kind: 'dir' } },
  );
  assert.deepEqual(plan.writableRoots, ['/other']);
  assert.match(plan.demoted[0]!.reason, /\/ws\/\.git is a symlink/);
  assert.ok(mounts(plan.args).includes('--ro-bind /other/realgit /other/realgit'));
  assert.ok(!mounts(plan.args).includes('--bind /ws /ws'));
});

test('a dangling .warden symlink demotes its root too (its target could be created)', () => {
  const plan = build({ ...WW, tmpWrite: false }, { '/ws/.warden': { kind: 'symlink', to: '/nowhere/x' } });
  assert.deepEqual(plan.writableRoots, []);
});

test('a writable root inside a protected path stays covered by the protection (mounted later)', () => {
  const plan = build({ ...WW, writableRoots: ['/ws/.git/hooks'], tmpWrite: false }, { '/ws/.git/hooks': { kind: 'dir' } });
  const m = mounts(plan.args);
  assert.ok(m.indexOf('--ro-bind /ws/.git /ws/.git') > m.indexOf('--bind /ws/.git/hooks /ws/.git/hooks'));
});

test('danger-full-access plans no writable roots (runCommand runs it bare)', () => {
  const r = planWritableRoots({ ...WW, mode: 'danger-full-access' }, '/ws', {}, fakeFs({ '/ws': { kind: 'dir' } }));
  assert.deepEqual(r.roots, []);
});

test('parseGitdirPointer', () => {
  assert.equal(parseGitdirPointer('gitdir: /a/b\n', '/ws'), '/a/b');
  assert.equal(parseGitdirPointer('gitdir: ../x', '/ws/sub'), '/ws/x');
  assert.equal(parseGitdirPointer('nonsense', '/ws'), null);
});

test('the info fd and an empty command', () => {
  assert.ok(build(RO, {}, { infoFd: 3 }).args.join(' ').includes('--info-fd 3 --chdir /ws -- true'));
  assert.throws(() => build(RO, {}, { command: [] }), TypeError);
});

test('the seccomp fd is passed with the network on too (Unix sockets stay blocked, issue #13)', () => {
  assert.ok(build(RO, {}, { seccompFd: 4 }).args.join(' ').includes('--seccomp 4 --chdir'));
  assert.ok(build({ ...RO, network: true }, {}, { seccompFd: 4 }).args.join(' ').includes('--seccomp 4 --chdir'));
});

/** The hide operations of an argv, in order. */
function hideOps(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--tmpfs') out.push(`tmpfs ${args[i + 1]}`);
    if (args[i] === '--ro-bind' && args[i + 1] === '/d/decoy') out.push(`decoy ${args[i + 2]}`);
  }
  return out;
}

test('hidden paths: existing dirs get a mode-000 read-only tmpfs, files the decoy, missing ones nothing; last, in every mode', () => {
  const fs = {
    '/ws': { kind: 'dir' },
    '/h/.ssh/id': { kind: 'file' },
    '/h/.netrc': { kind: 'file' },
    '/h/.aws': { kind: 'symlink', to: '/secrets/aws' },
    '/secrets/aws/credentials': { kind: 'file' },
    '/d/decoy': { kind: 'file' },
  } satisfies Record<string, Node>;
  const hidden = ['/h/.ssh', '/h/.netrc', '/h/.aws', '/h/.missing', '/h/.ssh/id', 'relative'];
  for (const spec of [RO, { ...WW, tmpWrite: false }]) {
    const plan = build({ ...spec, hidden }, fs, { decoy: '/d/decoy', infoFd: 3 });
    assert.deepEqual(hideOps(plan.args), ['tmpfs /h/.ssh', 'tmpfs /secrets/aws', 'decoy /h/.netrc', 'tmpfs /d'], spec.mode);
    const a = plan.args.join(' ');
    assert.ok(a.includes('--perms 0000 --tmpfs /h/.ssh --remount-ro /h/.ssh'));
    assert.ok(a.indexOf('--tmpfs /h/.ssh') > a.lastIndexOf('--bind '), 'after every writable bind');
    assert.ok(a.indexOf('--tmpfs /d') < a.indexOf('--info-fd'));
    assert.deepEqual(plan.hides.dirs, ['/h/.ssh', '/secrets/aws']);
    assert.deepEqual(plan.hides.files, ['/h/.netrc']);
  }
});

test('a hidden directory that holds the workspace or a writable root is reported, not masked; its files still are', () => {
  const fs = { '/state/ws': { kind: 'dir' }, '/state/events.db': { kind: 'file' }, '/root2': { kind: 'dir' }, '/d/decoy': { kind: 'file' } } satisfies Record<string, Node>;
  const plan = build(
    { ...WW, tmpWrite: false, writableRoots: ['/root2'], hidden: ['/state', '/state/events.db', '/'] },
    fs,
    { cwd: '/state/ws', decoy: '/d/decoy' },
  );
  assert.deepEqual(hideOps(plan.args), ['decoy /state/events.db', 'tmpfs /d']);
  assert.deepEqual(plan.hides.notHidden.map((x) => x.path), ['/state', '/']);
});

test('hidden files without a decoy are a programming error, not a silent no-op', () => {
  assert.throws(() => build({ ...RO, hidden: ['/h/f'] }, { '/h/f': { kind: 'file' } }), TypeError);
});

test('persistence names: existing ones re-bound read-only, missing ones masked, at the top of every writable root', () => {
  const plan = build({ ...WW, tmpWrite: false }, { '/ws/.bashrc': { kind: 'file' }, '/ws/.vscode/tasks.json': { kind: 'file' } });
  const m = mounts(plan.args);
  assert.ok(m.includes('--ro-bind /ws/.bashrc /ws/.bashrc'));
  assert.ok(m.includes('--ro-bind /ws/.vscode /ws/.vscode'));
  for (const name of PERSISTENCE_NAMES.filter((n) => n !== '.bashrc' && n !== '.vscode')) assert.ok(plan.masks.includes(`/ws/${name}`), name);
});

test('below a root: existing protected names, .git dirs and files, and git-looking directories are found at any depth', () => {
  const plan = build(
    { ...WW, tmpWrite: false },
    {
      '/ws/a/b/.envrc': { kind: 'file' },
      '/ws/sub/.git/config': { kind: 'file' },
      '/ws/mod/.git': { kind: 'file', text: 'gitdir: ../.mod-gitdir\n' },
      '/ws/.mod-gitdir/HEAD': { kind: 'file' },
      '/ws/vendor/x/HEAD': { kind: 'file', text: 'ref: refs/heads/main' },
      '/ws/vendor/x/objects': { kind: 'dir' },
      '/ws/vendor/x/refs': { kind: 'dir' },
      '/ws/vendor/y/HEAD': { kind: 'file' }, // no objects/refs: not a repository
      '/ws/deep/a/b/c/d/.claude/settings.json': { kind: 'file' },
      '/ws/link': { kind: 'symlink', to: '/elsewhere' },
      '/elsewhere/.bashrc': { kind: 'file' },
    },
  );
  const ro = plan.readOnly;
  for (const p of ['/ws/a/b/.envrc', '/ws/sub/.git', '/ws/mod/.git', '/ws/.mod-gitdir', '/ws/vendor/x', '/ws/deep/a/b/c/d/.claude']) assert.ok(ro.includes(p), p);
  assert.ok(!ro.includes('/ws/vendor/y'));
  assert.ok(!ro.some((p) => p.startsWith('/elsewhere')), 'symlinks are not walked');
  assert.deepEqual(plan.writableRoots, ['/ws']);
});

test('core.hooksPath: its target is protected, relative to the worktree', () => {
  const plan = build({ ...WW, tmpWrite: false }, { '/ws/.git/config': { kind: 'file', text: '[core]\n\thooksPath = tools/hooks\n' }, '/ws/tools/hooks/pre-commit': { kind: 'file' } });
  assert.ok(plan.readOnly.includes('/ws/tools/hooks'));
});

test('a root that itself looks like a git directory is read-only as a whole', () => {
  const plan = build({ ...WW, tmpWrite: false }, { '/ws/HEAD': { kind: 'file' }, '/ws/objects': { kind: 'dir' }, '/ws/refs': { kind: 'dir' } });
  assert.ok(plan.readOnly.includes('/ws'));
});

test('pins: every directory between a root and a mount inside it is bound onto itself, outer first, read-write', () => {
  const p = build({ ...WW, writableRoots: ['/tmp/a'] }, { '/ws/sub/deep/.git': { kind: 'dir' }, '/tmp/a/b/c/x': { kind: 'file' } }, { cwd: '/tmp/a/b/ws', probe: fakeFs({ '/tmp/a/b/ws/sub/deep/.git': { kind: 'dir' } }) });
  const m = mounts(p.args);
  // the workspace's parent inside the root /tmp/a, and the nested .git's parents inside the workspace
  assert.deepEqual(p.pins, ['/tmp/a/b', '/tmp/a/b/ws/sub', '/tmp/a/b/ws/sub/deep']);
  const at = (s: string) => m.indexOf(s);
  assert.ok(at('--bind /tmp/a /tmp/a') < at('--bind /tmp/a/b /tmp/a/b'));
  assert.ok(at('--bind /tmp/a/b /tmp/a/b') < at('--bind /tmp/a/b/ws /tmp/a/b/ws'));
  assert.ok(at('--bind /tmp/a/b/ws/sub/deep /tmp/a/b/ws/sub/deep') < at('--ro-bind /tmp/a/b/ws/sub/deep/.git /tmp/a/b/ws/sub/deep/.git'));
  // nothing to pin when mounts sit at a root's top
  assert.deepEqual(build(WW, { '/ws/.git': { kind: 'dir' } }).pins, []);
});

test('a home inside a writable root is re-bound read-only after it, a root below the home after that; a root that is the home is demoted', () => {
  const fs = { '/tmp/h/proj/a': { kind: 'file' } as Node, '/tmp/h/.bashrc': { kind: 'file' } as Node };
  const inside = build(WW, fs, { cwd: '/tmp/h/proj', env: { homes: ['/tmp/h'] } });
  const m = mounts(inside.args);
  assert.deepEqual(inside.islands, ['/tmp/h']);
  assert.ok(m.indexOf('--bind /tmp /tmp') < m.indexOf('--ro-bind /tmp/h /tmp/h'));
  assert.ok(m.indexOf('--ro-bind /tmp/h /tmp/h') < m.indexOf('--bind /tmp/h/proj /tmp/h/proj'));
  const asHome = build({ ...WW, tmpWrite: false }, fs, { cwd: '/tmp/h', env: { homes: ['/tmp/h'] } });
  assert.deepEqual(asHome.writableRoots, []);
  assert.match(asHome.demoted[0]?.reason ?? '', /home directory/);
  // a missing home inside a root demotes that root (it could be created, start-up files and all)
  const missing = build(WW, { '/ws/a': { kind: 'file' }, '/tmp/other': { kind: 'file' } }, { env: { homes: ['/tmp/nohome'] } });
  assert.deepEqual(missing.writableRoots, ['/ws']);
  assert.match(missing.demoted.find((d) => d.root === '/tmp')?.reason ?? '', /missing/);
  // a home outside every root changes nothing
  assert.deepEqual(build(WW, { '/ws/a': { kind: 'file' }, '/home/u/x': { kind: 'file' } }, { env: { homes: ['/home/u'] } }).islands, []);
});
