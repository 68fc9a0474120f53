/**
 * Who may decide out of band (src/requests/deciderCheck.ts), as a case table: a decider whose
 * ancestry holds the owner of an unfinished request, or whose namespaces differ from the owner's,
 * or whose identity is incomplete, is refused; a pid reused by a younger process, an owner on
 * another host, and a process outside every owner are not. Then with real processes: a child of
 * this process deciding while this process owns a waiting request is refused and a DecisionRefused
 * is recorded on a stream of its own; the same child deciding for a request owned by a process it
 * does not descend from is accepted and the decision records it. Plus the /proc parsers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { judgeDecider, type RunningOwner } from '../../src/requests/deciderCheck.ts';
import { parseStat, processMark, readDecider, readSelfDecider, ttyName } from '../../src/requests/processIdentity.ts';
import { decideOutOfBand } from '../../src/requests/outOfBandDecision.ts';
import { clientSocketInodes, peerDeciders } from '../../src/inspect/peer.ts';
import { streamRuleViolations } from '../../src/machines/streamRules.ts';
import { replayAll } from '../../src/machines/replay.ts';
import type { Decider, ProcessMark } from '../../src/events/types.ts';
import { tempSqliteStore } from '../support/fixtures.ts';

const NS = { pidNs: 'pid:[4026531836]', userNs: 'user:[4026531837]' };
const mark = (start: number, extra: Partial<ProcessMark> = {}): ProcessMark => ({ start, boot: 'boot-1', ...NS, ...extra });

function decider(chain: Array<[pid: number, start: number]>, extra: Partial<Decider> = {}): Decider {
  return {
    pid: chain[0]?.[0] ?? 0,
    host: 'here',
    user: 'ann',
    uid: 1000,
    tty: '/dev/pts/1',
    found: 'self',
    mark: mark(chain[0]?.[1] ?? 0),
    chain: chain.map(([pid, start]) => ({ pid, comm: `p${pid}`, start })),
    ...extra,
  };
}

const owner = (pid: number, proc: ProcessMark | undefined, extra: Partial<RunningOwner> = {}): RunningOwner => ({
  requestId: `req-${pid}`,
  pid,
  host: 'here',
  surface: 'mcp',
  requestedAt: '2026-01-01T00:00:10.000Z',
  proc,
  ...extra,
});

// chain of the decider: 300 (start 900) <- 200 (start 500) <- 1 (start 0)
const CHAIN: Array<[number, number]> = [
  [300, 900],
  [200, 500],
  [1, 0],
];

const CASES: Array<[name: string, d: Decider, owners: RunningOwner[], refused: RegExp | null]> = [
  ['no running request: anyone outside decides', decider(CHAIN), [], null],
  ['an owner that is not an ancestor', decider(CHAIN), [owner(250, mark(400))], null],
  ['an ancestor with the owner pid and start time: a command warden runs', decider(CHAIN), [owner(200, mark(500))], /descends from pid 200 \(mcp\)/],
  ['the decider is the owner itself', decider(CHAIN), [owner(300, mark(900))], /descends from pid 300/],
  // pid 200 was reused by a process started later than the owner: not the owner
  ['same pid, another start time: a reused pid', decider(CHAIN), [owner(200, mark(450))], null],
  ['same pid and start, another boot: a reused pid after a reboot', decider(CHAIN), [owner(200, mark(500, { boot: 'boot-0' }))], null],
  // bwrap's pid namespace: the sandbox is pid 1 and warden does not appear in its /proc
  ['another pid namespace than the owner', decider([[5, 10], [1, 9]], { mark: mark(10, { pidNs: 'pid:[4026532999]' }) }), [owner(200, mark(500))], /another pid namespace/],
  ['another user namespace than the owner', decider(CHAIN, { mark: mark(900, { userNs: 'user:[4026532111]' }) }), [owner(250, mark(400))], /another user namespace/],
  ['an owner on another host is skipped', decider(CHAIN, { mark: mark(900, { pidNs: 'pid:[1]' }) }), [owner(200, mark(500), { host: 'elsewhere' })], null],
  ['a hole in the chain: refused whoever runs', decider(CHAIN, { problem: 'cannot read /proc/200/stat' }), [], /cannot establish/],
  ['no mark: refused', decider(CHAIN, { mark: null }), [], /cannot establish/],
  ['an empty chain: refused', decider([], { mark: mark(1) }), [], /cannot establish/],
  // old records without a mark: the pid alone (fail closed), unless it provably started after the request
  ['old record, pid in the chain, no boot time known', decider(CHAIN), [owner(200, undefined)], /descends from pid 200/],
  ['old record, the ancestor started long after the request', decider(CHAIN), [owner(200, undefined, { requestedAt: '2026-01-01T00:00:00.000Z' })], null],
  // the MCP client that started warden serve: its own tools (a built-in shell) are the agent's
  ['an ancestor with the launcher\'s pid and start time: the client\'s own tool', decider(CHAIN), [owner(250, mark(400), { launcher: { pid: 200, comm: 'codex', proc: mark(500) } })], /descends from pid 200 \(codex\), the client that started pid 250 \(mcp\)/],
  ['the launcher\'s pid reused by a younger process: not the client', decider(CHAIN), [owner(250, mark(400), { launcher: { pid: 200, comm: 'codex', proc: mark(450) } })], null],
  ['the launcher\'s pid and start from another boot: not the client', decider(CHAIN), [owner(250, mark(400), { launcher: { pid: 200, comm: 'codex', proc: mark(500, { boot: 'boot-0' }) } })], null],
  ['a launcher that is not an ancestor', decider(CHAIN), [owner(250, mark(400), { launcher: { pid: 240, comm: 'codex', proc: mark(300) } })], null],
  ['one refusing owner among several is enough', decider(CHAIN), [owner(250, mark(400)), owner(1, mark(0))], /descends from pid 1/],
];

for (const [name, d, owners, refused] of CASES) {
  test(`judgeDecider: ${name}`, () => {
    // boot at midnight: pid 200 started 5 s after boot; requests come at 00:00:10 (or 00:00:00)
    const boot = Date.parse('2026-01-01T00:00:00.000Z');
    const v = judgeDecider(d, owners, name.includes('no boot time') ? null : boot);
    if (refused === null) assert.deepEqual(v, { ok: true });
    else {
      assert.equal(v.ok, false);
      assert.match((v as { reason: string }).reason, refused);
    }
  });
}

test('parseStat reads a command name with spaces and parentheses; ttyName decodes pts and ttys', () => {
  const s = parseStat(42, '42 (my (odd) name) S 7 42 42 34817 42 4194304 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0');
  assert.deepEqual(s, { pid: 42, comm: 'my (odd) name', state: 'S', ppid: 7, ttyNr: 34817, start: 12345 });
  assert.equal(parseStat(1, 'garbage'), null);
  assert.equal(ttyName(0), null);
  assert.equal(ttyName(34817), '/dev/pts/1'); // major 136, minor 1
  assert.equal(ttyName((136 << 8) | 0 | (1 << 20)), '/dev/pts/256');
  assert.equal(ttyName((4 << 8) | 2), '/dev/tty2');
});

test('the identity of this process reaches pid 1 and carries its mark', () => {
  const me = readSelfDecider();
  assert.equal(me.problem, undefined);
  assert.equal(me.pid, process.pid);
  assert.equal(me.chain[0]!.pid, process.pid);
  assert.equal(me.chain.at(-1)!.pid, 1);
  assert.equal(me.chain[1]!.pid, process.ppid);
  assert.deepEqual(me.mark, processMark(process.pid));
  assert.equal(me.uid, process.getuid!());
  assert.equal(readDecider(2 ** 22 + 7, 'self').problem?.startsWith('cannot read'), true);
});

test('clientSocketInodes finds the client end of a loopback connection in tcp and tcp6 tables', () => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  const tcp = [
    header,
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0',
    '   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 20 4 30 10 -1',
    '   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0 20 4 30 10 -1',
  ].join('\n');
  const tcp6 = [header, '   0: 0000000000000000FFFF00000100007F:D432 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000 0 0 444 1'].join('\n');
  assert.deepEqual(clientSocketInodes([tcp, tcp6], 0xd431, 0x1f90), ['222']);
  assert.deepEqual(clientSocketInodes([tcp, tcp6], 0xd432, 0x1f90), ['444']);
  assert.deepEqual(clientSocketInodes([tcp, tcp6], 0xd433, 0x1f90), []);
});

test('a peer warden cannot find is one identity with a problem (refused)', () => {
  const [peer, ...rest] = peerDeciders(1, 2);
  assert.equal(rest.length, 0);
  assert.equal(peer!.found, 'socket');
  assert.match(peer!.problem ?? '', /no connection/);
  assert.equal(judgeDecider(peer!, []).ok, false);
  assert.match(peerDeciders(undefined, 2)[0]!.problem ?? '', /no peer port/);
});

/** A waiting request whose origin names `pid` with its real mark. */
async function waitingRequest(store: ReturnType<typeof tempSqliteStore>['store'], id: string, pid: number) {
  const proc = processMark(pid)!;
  assert.ok(proc, 'the owner has a mark');
  await store.append(id, 0, [
    {
      type: 'ApprovalRequested',
      sessionId: 's',
      data: {
        kind: 'exec',
        command: ['touch', 'x'],
        cwd: '/',
        withEscalatedPermissions: false,
        policy: { approval: 'untrusted', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true },
        origin: { surface: 'test-owner', pid, host: hostname(), proc },
      },
    },
    {
      type: 'Classified',
      sessionId: 's',
      data: { outcome: 'ask', sandbox: 'bwrap', knownSafe: false, dangerous: false, commands: [['touch', 'x']], reason: 'asks', askReason: 'not-known-safe' },
    },
    { type: 'DecisionRequested', sessionId: 's', data: { reason: 'not-known-safe', message: 'run it?', offered: ['approved', 'denied'] } },
  ]);
}

test('real processes: a child of an owner cannot decide; the refusal is recorded on its own stream; an outsider decides', async () => {
  const t = tempSqliteStore();
  // a live process the deciding processes below do not descend from (a child of this one)
  const sibling = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => sibling.once('spawn', r));
    // this process owns req-self; a child of this process decides
    await waitingRequest(t.store, 'req-self', process.pid);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    try {
      const asChild = readDecider(child.pid!, 'socket');
      const refused = await decideOutOfBand(t.store, 'req-self', 'approved', { user: 'ann', via: 'test', deciders: [asChild] });
      assert.equal(refused.ok, false);
      assert.ok(!refused.ok && refused.reason === 'refused');
      assert.match(refused.message, new RegExp(`descends from pid ${process.pid} \\(test-owner\\)`));
      const all = await t.store.readAll(1);
      const refusal = all.find((e) => e.type === 'DecisionRefused')!;
      assert.ok(refusal.type === 'DecisionRefused');
      assert.match(refusal.stream, /^refused-/);
      assert.equal(refusal.sessionId, 's');
      assert.equal(refusal.data.by.pid, child.pid);
      assert.deepEqual(refusal.data.by.chain.slice(0, 2).map((l) => l.pid), [child.pid, process.pid]);
      // the request did not move, the record still keeps the stream rules, and replay skips the refusal
      assert.equal((await t.store.read('req-self')).length, 3);
      assert.deepEqual(streamRuleViolations([refusal]), []);
      assert.deepEqual(replayAll(all).map((r) => r.requestId), ['req-self']);
    } finally {
      child.kill();
    }
    // the same kind of decider for a request owned by a process it does not descend from: accepted
    const t2 = tempSqliteStore();
    try {
      await waitingRequest(t2.store, 'req-sibling', sibling.pid!);
      const ok = await decideOutOfBand(t2.store, 'req-sibling', 'approved', { user: 'ann', via: 'test' });
      assert.equal(ok.ok, true, ok.ok ? '' : ok.message);
      assert.ok(ok.ok);
      assert.equal(ok.recorded.decider?.pid, process.pid);
      assert.equal(ok.recorded.decider?.found, 'self');
    } finally {
      await t2.cleanup();
    }
  } finally {
    sibling.kill();
    await t.cleanup();
  }
});
