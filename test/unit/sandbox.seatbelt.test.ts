/**
 * The generated Seatbelt profile for each policy (macOS is not available here to run it, so the text
 * and the invocation are what we can check).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSeatbeltProfile, seatbeltArgv, SEATBELT_BASE_POLICY } from '../../src/sandbox/seatbelt.ts';
import type { FsProbe } from '../../src/sandbox/writableRoots.ts';
import type { SandboxSpec } from '../../src/sandbox/types.ts';

// macOS-like: /tmp and /var are links into /private; /ws has a .git dir; nothing else exists.
const links: Record<string, string> = { '/tmp': '/private/tmp', '/var/folders/t': '/private/var/folders/t' };
const dirs = new Set(['/ws', '/ws/.git', '/private/tmp', '/private/var/folders/t', '/extra']);
const probe: FsProbe = {
  kind: (p) => (p in links ? 'symlink' : dirs.has(p) ? 'dir' : 'missing'),
  realpath: (p) => (p in links ? links[p]! : dirs.has(p) ? p : null),
  readText: () => null,
};

const RO: SandboxSpec = { mode: 'read-only', writableRoots: [], network: false, tmpWrite: true };
const WW: SandboxSpec = { mode: 'workspace-write', writableRoots: ['/extra'], network: false, tmpWrite: true };

test('read-only: deny default, reads allowed, no write rule but /dev/null, no network', () => {
  const { profile, params } = buildSeatbeltProfile(RO, '/ws', {}, probe);
  assert.ok(profile.startsWith('(version 1)'));
  assert.match(profile, /\(deny default\)/);
  assert.match(profile, /\(allow file-read\*\)/);
  assert.match(profile, /\(allow process-exec\)/);
  assert.match(profile, /\(allow signal \(target same-sandbox\)\)/);
  assert.match(profile, /\(path "\/dev\/null"\)/);
  assert.doesNotMatch(profile, /\(allow file-write\*\s*\n\s*\(/);
  assert.doesNotMatch(profile, /network-outbound|system-socket/);
  assert.deepEqual(params, []);
  assert.equal(profile, SEATBELT_BASE_POLICY);
});

test('workspace-write: a write rule per canonical root minus protected subpaths, as parameters', () => {
  const { profile, params } = buildSeatbeltProfile(WW, '/ws', { TMPDIR: '/var/folders/t' }, probe);
  const p = Object.fromEntries(params);
  assert.equal(p.WRITABLE_ROOT_0, '/ws');
  assert.equal(p.WRITABLE_ROOT_0_RO_0, '/ws/.git');
  assert.equal(p.WRITABLE_ROOT_0_RO_1, '/ws/.warden'); // protected before it exists
  assert.equal(p.WRITABLE_ROOT_1, '/extra');
  assert.equal(p.WRITABLE_ROOT_2, '/private/tmp'); // canonicalised
  assert.equal(p.WRITABLE_ROOT_3, '/private/var/folders/t');
  assert.ok(!Object.values(p).includes('/tmp'));
  assert.match(
    profile,
    /\(allow file-write\*\n  \(require-all \(subpath \(param "WRITABLE_ROOT_0"\)\) \(require-not \(subpath \(param "WRITABLE_ROOT_0_RO_0"\)\)\) \(require-not \(subpath \(param "WRITABLE_ROOT_0_RO_1"\)\)\) \(require-not/,
  );
  // Paths never appear in the profile text itself.
  assert.ok(!profile.includes('/ws'));
  assert.doesNotMatch(profile, /network-outbound/);
});

test('network on: outbound/inbound, system-socket and the DNS/TLS mach services are appended', () => {
  const { profile } = buildSeatbeltProfile({ ...RO, network: true }, '/ws', {}, probe);
  assert.match(profile, /\(allow network-outbound\)/);
  assert.match(profile, /\(allow network-inbound\)/);
  assert.match(profile, /\(allow system-socket\)/);
  assert.match(profile, /com\.apple\.SystemConfiguration\.DNSConfiguration/);
  assert.ok(profile.indexOf('network-outbound') > profile.indexOf('(deny default)'));
});

test('no tmp write: /tmp and $TMPDIR are not writable roots', () => {
  const { params } = buildSeatbeltProfile({ ...WW, tmpWrite: false }, '/ws', { TMPDIR: '/var/folders/t' }, probe);
  assert.ok(!params.some(([, v]) => v.startsWith('/private')));
});

test('a symlinked .git demotes its root to read-only, as under bwrap (the one model: demotedRoots)', () => {
  const p2: FsProbe = {
    kind: (p) => (p === '/ws/.git' ? 'symlink' : p === '/ws' || p === '/g' ? 'dir' : 'missing'),
    realpath: (p) => (p === '/ws/.git' ? '/g' : p === '/ws' || p === '/g' ? p : null),
    readText: () => null,
  };
  const { params, profile } = buildSeatbeltProfile({ ...WW, writableRoots: [], tmpWrite: false }, '/ws', {}, p2);
  // Before, the profile excluded the link and its target but left /ws writable, so the link itself
  // could be replaced by a real .git with hooks; bwrap already kept such a root read-only.
  assert.deepEqual(params, []);
  assert.doesNotMatch(profile, /allow file-write\*\n/);
});

test('the person\'s home inside a writable root is excluded from it; a root that is the home is read-only', () => {
  const p3: FsProbe = {
    kind: (p) => (['/tmp', '/tmp/h', '/tmp/h/proj', '/ws'].includes(p) ? 'dir' : 'missing'),
    realpath: (p) => (['/tmp', '/tmp/h', '/tmp/h/proj', '/ws'].includes(p) ? p : null),
    readText: () => null,
  };
  const values = buildSeatbeltProfile({ ...WW, writableRoots: ['/tmp'], tmpWrite: false }, '/ws', { homes: ['/tmp/h'] }, p3).params.map(([, v]) => v);
  assert.ok(values.includes('/tmp/h'), 'the home is a require-not of /tmp');
  const asHome = buildSeatbeltProfile({ ...WW, writableRoots: [], tmpWrite: false }, '/tmp/h', { homes: ['/tmp/h'] }, p3).params;
  assert.deepEqual(asHome, []);
  const below = buildSeatbeltProfile({ ...WW, writableRoots: ['/tmp'], tmpWrite: false }, '/tmp/h/proj', { homes: ['/tmp/h'] }, p3).params.map(([, v]) => v);
  assert.ok(below.includes('/tmp/h/proj') && below.includes('/tmp/h'), 'a project below the home keeps its own rule');
});

test('the sandbox-exec invocation', () => {
  const prof = buildSeatbeltProfile(WW, '/ws', {}, probe);
  const argv = seatbeltArgv(prof, ['ls', '-la']);
  assert.equal(argv[0], '/usr/bin/sandbox-exec');
  assert.equal(argv[1], '-p');
  assert.equal(argv[2], prof.profile);
  assert.ok(argv.includes('-DWRITABLE_ROOT_0=/ws'));
  assert.deepEqual(argv.slice(argv.indexOf('--')), ['--', 'ls', '-la']);
  assert.throws(() => seatbeltArgv(prof, []), TypeError);
});

test('hidden paths are denied to reads and writes, after the allow rules', () => {
  const { profile, params } = buildSeatbeltProfile({ ...RO, hidden: ['/Users/u/.ssh'] }, '/ws', {}, probe);
  assert.deepEqual(params.filter(([k]) => k.startsWith('HIDDEN_')), [['HIDDEN_0', '/Users/u/.ssh']]);
  assert.ok(profile.lastIndexOf('(deny file-read* file-write* (subpath (param "HIDDEN_0")))') > profile.indexOf('(allow file-read*)'));
});
