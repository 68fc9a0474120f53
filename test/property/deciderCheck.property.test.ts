/**
 * Laws of the decider check (src/requests/deciderCheck.ts) over arbitrary process trees and
 * owner sets: a decider whose chain holds an owner (same pid, start and boot, same namespaces) is
 * always refused; more owners never turn a refusal into an acceptance; an owner order never
 * matters; and a decider with a problem or in other namespaces than a local owner is always refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { judgeDecider, type RunningOwner } from '../../src/requests/deciderCheck.ts';
import type { Decider, ProcessMark } from '../../src/events/types.ts';

const NS = fc.constantFrom('pid:[4026531836]', 'pid:[4026532500]');
const USERNS = fc.constantFrom('user:[4026531837]', 'user:[4026532600]');
const BOOT = fc.constantFrom('boot-a', 'boot-b');
const HOST = fc.constantFrom('here', 'there');

const markArb: fc.Arbitrary<ProcessMark> = fc.record({ start: fc.integer({ min: 0, max: 1000 }), boot: BOOT, pidNs: NS, userNs: USERNS });

const chainArb = fc
  .uniqueArray(fc.integer({ min: 2, max: 60 }), { minLength: 1, maxLength: 8 })
  .chain((pids) => fc.tuple(fc.constant(pids), fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: pids.length, maxLength: pids.length })))
  // starts decrease up the chain, ending at pid 1
  .map(([pids, starts]) => {
    const sorted = [...starts].sort((a, b) => b - a);
    return [...pids.map((pid, i) => ({ pid, comm: `p${pid}`, start: sorted[i]! })), { pid: 1, comm: 'init', start: 0 }];
  });

const deciderArb: fc.Arbitrary<Decider> = fc.record({ chain: chainArb, mark: markArb, host: HOST, problem: fc.option(fc.constant('hole'), { nil: undefined }) }).map(({ chain, mark, host, problem }) => ({
  pid: chain[0]!.pid,
  host,
  user: 'u',
  uid: 1,
  tty: null,
  found: 'self' as const,
  mark: { ...mark, start: chain[0]!.start },
  chain,
  ...(problem === undefined ? {} : { problem }),
}));

const ownerArb: fc.Arbitrary<RunningOwner> = fc.record({
  pid: fc.integer({ min: 1, max: 60 }),
  host: HOST,
  proc: fc.option(markArb, { nil: undefined }),
  requestedAt: fc.constant('2026-01-01T00:00:10.000Z'),
}).map((o) => ({ ...o, requestId: `r${o.pid}`, surface: 'mcp' }));

const BOOT_MS = Date.parse('2026-01-01T00:00:00.000Z');

test('a decider whose chain holds a local owner with the same mark is refused', () => {
  fc.assert(
    fc.property(deciderArb, fc.nat(), fc.array(ownerArb, { maxLength: 4 }), (d, pick, others) => {
      const link = d.chain[pick % d.chain.length]!;
      const owner: RunningOwner = { requestId: 'x', pid: link.pid, host: d.host, surface: 'mcp', requestedAt: '2026-01-01T00:00:10.000Z', proc: { ...d.mark!, start: link.start } };
      assert.equal(judgeDecider(d, [...others, owner], BOOT_MS).ok, false);
    }),
  );
});

test('more owners never turn a refusal into an acceptance, and their order does not matter', () => {
  fc.assert(
    fc.property(deciderArb, fc.array(ownerArb, { maxLength: 5 }), fc.array(ownerArb, { maxLength: 3 }), (d, owners, more) => {
      const before = judgeDecider(d, owners, BOOT_MS).ok;
      const after = judgeDecider(d, [...owners, ...more], BOOT_MS).ok;
      if (!before) assert.equal(after, false);
      assert.equal(judgeDecider(d, [...owners].reverse(), BOOT_MS).ok, before);
    }),
  );
});

test('a decider with a problem, or in other namespaces than a local marked owner, is refused', () => {
  fc.assert(
    fc.property(deciderArb, ownerArb, (d, o) => {
      const v = judgeDecider(d, [o], BOOT_MS);
      if (d.problem !== undefined) assert.equal(v.ok, false);
      if (o.host === d.host && o.proc && (o.proc.pidNs !== d.mark!.pidNs || o.proc.userNs !== d.mark!.userNs)) assert.equal(v.ok, false);
      // accepted only when no local owner is in the chain under its mark
      if (v.ok) {
        const local = o.host === d.host;
        const inChain = d.chain.some((l) => l.pid === o.pid && (!o.proc || (o.proc.start === l.start && o.proc.boot === d.mark!.boot)));
        assert.ok(!(local && inChain && o.proc), 'a marked local owner in the chain was accepted');
      }
    }),
  );
});
