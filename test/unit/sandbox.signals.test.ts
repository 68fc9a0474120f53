/**
 * Where a forwarded signal goes (src/sandbox/signals.ts): the groups below bwrap's that hold its
 * descendants, never bwrap's own (bwrap would die without passing it on) and never warden's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signalTargets, parseStat } from '../../src/sandbox/signals.ts';

const p = (pid: number, ppid: number, pgid: number) => ({ pid, ppid, pgid });

test('under bwrap: the command\'s session group, not bwrap\'s', () => {
  // warden 100 (group 90) -> bwrap 200 (group 200) -> init 201 (group 201, --new-session) -> sh 202 -> sleep 203 (own group: a job)
  const procs = [p(100, 1, 90), p(200, 100, 200), p(201, 200, 201), p(202, 201, 201), p(203, 202, 203), p(300, 1, 300)];
  assert.deepEqual(signalTargets(p(200, 100, 200), procs, 90), { groups: [201, 203], pids: [] });
});

test('nothing below bwrap yet: bwrap\'s group is the only way to end the run', () => {
  assert.deepEqual(signalTargets(p(200, 100, 200), [p(100, 1, 90), p(200, 100, 200)], 90), { groups: [200], pids: [] });
});

test('never warden\'s own group, nor init\'s', () => {
  const procs = [p(200, 100, 90), p(201, 200, 90), p(202, 201, 1)];
  assert.deepEqual(signalTargets(p(200, 100, 90), procs, 90), { groups: [], pids: [201] });
});

test('a cycle in a racy /proc listing does not loop', () => {
  const procs = [p(201, 202, 201), p(202, 201, 202), p(200, 100, 200)];
  assert.deepEqual(signalTargets(p(200, 100, 200), [...procs, p(203, 200, 203)], 90), { groups: [203], pids: [] });
});

test('a bare run\'s pid namespace (no new session): its processes one by one, bwrap spared', () => {
  // bwrap 200 (group 200) -> init 201 -> sh 202 -> sleep 203, all in bwrap's group; a job 204 in its own
  const procs = [p(200, 100, 200), p(201, 200, 200), p(202, 201, 200), p(203, 202, 200), p(204, 202, 204)];
  assert.deepEqual(signalTargets(p(200, 100, 200), procs, 90), { groups: [204], pids: [201, 202, 203] });
});

test('/proc/<pid>/stat with spaces and parentheses in the name', () => {
  assert.deepEqual(parseStat('4242 (a b) c)) S 17 4242 4242 0 -1'), { pid: 4242, ppid: 17, pgid: 4242 });
  assert.equal(parseStat('garbage'), null);
});
