/**
 * Per-domain escalation, below the kernel: a run the proxy refused a name no list mentions becomes a
 * domain question; a person's yes retries it in the same sandbox with that name approved (public
 * addresses only); "for this session" is a fold over the events; "always" names the domains, never a
 * command prefix. Real SQLite store, the real machine, effects and decider; only the process runner
 * and the person are scripted (the e2e test drives the real ones).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAddresses, decideHost, mergeDomainLists, type DomainLists } from '../../src/network/domainPolicy.ts';
import { withRefusals } from '../../src/sandbox/runCommand.ts';
import type { RunResult, CommandRun } from '../../src/sandbox/types.ts';
import type { NetworkUse } from '../../src/network/proxy.ts';
import { createEffects } from '../../src/requests/effects.ts';
import { askForDecision } from '../../src/requests/askForDecision.ts';
import type { PersonChannel } from '../../src/requests/personChannel.ts';
import { runRequest } from '../../src/requests/runRequest.ts';
import { decideOutOfBand } from '../../src/requests/outOfBandDecision.ts';
import { fold } from '../../src/projections/projection.ts';
import { sessionDomains, sessionDomainsProjection } from '../../src/projections/sessionDomains.projection.ts';
import { replayStream } from '../../src/machines/replay.ts';
import { escalatableDomains, planExecution, MAX_ESCALATED_DOMAINS } from '../../src/machines/approval.machine.ts';
import { questionOfDecideInput, questionOfSummary, questionText } from '../../src/present/question.ts';
import { requestsProjection } from '../../src/projections/requests.projection.ts';
import { timelineEntry } from '../../src/inspect/timeline.ts';
import type { Decision, DecisionSource } from '../../src/policy.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { classification, execRequest, runResult, tempSqliteStore } from '../support/fixtures.ts';

// ---- the policy: what a person's approval opens ----

const approvedOnly = (approved: string[], allow: string[] = [], deny: string[] = []): DomainLists => ({ allow, deny, approved });

// [lists, host, addresses, reachable?, why the row exists]
const approvedCases: Array<[DomainLists, string, string[], boolean, string]> = [
  [approvedOnly(['registry.test']), 'registry.test', ['93.184.216.34'], true, 'an approved name reaches its public address'],
  [approvedOnly(['registry.test']), 'REGISTRY.test.', ['93.184.216.34'], true, 'case and trailing dot are the same name'],
  [approvedOnly(['registry.test']), 'registry.test', ['127.0.0.1'], false, 'DNS rebinding: an approved name pointed at loopback stays refused'],
  [approvedOnly(['registry.test']), 'registry.test', ['169.254.169.254'], false, 'the cloud metadata address is never reached through an approval'],
  [approvedOnly(['registry.test']), 'registry.test', ['10.0.0.5'], false, 'nor the local network'],
  [approvedOnly(['registry.test'], ['127.0.0.1']), 'registry.test', ['127.0.0.1'], true, 'a listed address opens itself to an approved name'],
  [approvedOnly(['registry.test']), 'sub.registry.test', ['93.184.216.34'], false, 'an approval is exact: no subdomains'],
  [approvedOnly(['registry.test'], [], ['registry.test']), 'registry.test', ['93.184.216.34'], false, 'deny wins over an approval'],
  [approvedOnly(['registry.test'], [], ['*.test']), 'registry.test', ['93.184.216.34'], false, 'a deny wildcard wins over an approval'],
  [approvedOnly(['93.184.216.34']), '93.184.216.34', ['93.184.216.34'], false, 'an address is never approved as a name'],
  [approvedOnly(['registry.test'], ['registry.test']), 'registry.test', ['127.0.0.1'], true, 'an exact allow keeps its meaning beside an approval'],
];

for (const [lists, host, addresses, reachable, why] of approvedCases) {
  test(`approved ${lists.approved?.join(',')} allow ${lists.allow.join(',')} deny ${lists.deny.join(',')}: ${host} -> ${addresses.join(',')} ${reachable ? 'reached' : 'refused'} (${why})`, () => {
    const v = decideHost(lists, host);
    const got = v.ok && decideAddresses(lists, host, v.exact, addresses).ok;
    assert.equal(got, reachable);
  });
}

test('each refusal says its kind; only a name no list mentions is askable', () => {
  const lists: DomainLists = { allow: ['*.ok.test', '10.0.0.1'], deny: ['bad.test'] };
  const kind = (host: string, addresses: string[] = ['93.184.216.34']) => {
    const v = decideHost(lists, host);
    if (!v.ok) return v.kind;
    const a = decideAddresses(lists, host, v.exact, addresses);
    return a.ok ? 'ok' : a.kind;
  };
  assert.equal(kind('new.test'), 'not-allowed');
  assert.equal(kind('bad.test'), 'denied');
  assert.equal(kind('93.184.216.34'), 'address');
  assert.equal(kind('a.ok.test', ['127.0.0.1']), 'local-address');
  assert.equal(kind('a.ok.test', []), 'unresolved');
  assert.equal(kind('a b'), 'invalid');
  assert.equal(kind('a.ok.test'), 'ok');
});

test('mergeDomainLists: the union of every source; none at all stays none (no proxy)', () => {
  assert.equal(mergeDomainLists(undefined, undefined), undefined);
  assert.deepEqual(mergeDomainLists({ allow: ['a.test'], deny: [] }, { allow: ['a.test', 'b.test'], deny: ['c.test'], approved: ['d.test'] }), {
    allow: ['a.test', 'b.test'],
    deny: ['c.test'],
    approved: ['d.test'],
  });
  assert.deepEqual(mergeDomainLists({ allow: [], deny: [] }), { allow: [], deny: [] }, 'an empty table still turns the proxy on');
});

// ---- the run: which refusals make a domain denial ----

function outcome(over: Partial<RunResult> = {}): RunResult {
  return {
    sandboxType: 'bwrap',
    exitCode: 56,
    signal: null,
    timedOut: false,
    durationMs: 1,
    stdout: '',
    stderr: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    truncated: false,
    denial: { denied: false },
    ...over,
  };
}
const use = (...refused: NetworkUse['refused']): NetworkUse => ({ allowed: {}, refused });
const notAllowed = (host: string) => ({ host, reason: `${host} is not in the allowed domains`, kind: 'not-allowed' as const, count: 1 });

test('a failed run refused a new name: a denial naming it, with the name to ask about', () => {
  const o = withRefusals(outcome(), use(notAllowed('registry.test')));
  assert.deepEqual(o.denial, { denied: true, what: 'network access to registry.test refused: registry.test is not in the allowed domains', domains: ['registry.test'] });
});

test('a denied name, an address, a local answer: a denial, but nothing to ask about as a domain', () => {
  for (const kind of ['denied', 'address', 'local-address', 'protocol', 'unreachable'] as const) {
    const o = withRefusals(outcome(), use({ host: 'x.test', reason: 'no', kind, count: 1 }));
    assert.equal(o.denial.denied, true, kind);
    assert.equal(o.denial.domains, undefined, kind);
  }
});

test('the askable names come first in the denial, every one of them listed', () => {
  const o = withRefusals(outcome(), use({ host: 'bad.test', reason: 'denied', kind: 'denied', count: 1 }, notAllowed('a.test'), notAllowed('b.test')));
  assert.match(o.denial.what ?? '', /^network access to a\.test refused/);
  assert.deepEqual(o.denial.domains, ['a.test', 'b.test']);
});

test('no denial when the command succeeded anyway, timed out, or the sandbox denied something else', () => {
  assert.equal(withRefusals(outcome({ exitCode: 0 }), use(notAllowed('a.test'))).denial.denied, false);
  assert.equal(withRefusals(outcome({ timedOut: true, exitCode: null, signal: 'SIGKILL' }), use(notAllowed('a.test'))).denial.denied, false);
  const fs = withRefusals(outcome({ denial: { denied: true, what: 'write to a read-only path: /etc/x' } }), use(notAllowed('a.test')));
  assert.deepEqual(fs.denial, { denied: true, what: 'write to a read-only path: /etc/x' }, 'a retry with the name allowed would still fail: not a domain question');
  const net = withRefusals(outcome({ denial: { denied: true, what: 'network connection blocked' } }), use(notAllowed('a.test')));
  assert.deepEqual(net.denial.domains, ['a.test'], "the proxy's refusal replaces the output heuristics' network guess");
});

test('a command cannot bury one name among hundreds: the question asks about the first few', () => {
  const names = Array.from({ length: 50 }, (_, i) => `n${i}.test`);
  const d = escalatableDomains(runResult({ exitCode: 1, denial: { denied: true, what: 'x', domains: names } }));
  assert.equal(d?.length, MAX_ESCALATED_DOMAINS);
  assert.equal(escalatableDomains(runResult({ exitCode: 1, denial: { denied: true, what: 'x' } })), null);
  assert.equal(escalatableDomains(runResult({ exitCode: 0, denial: { denied: false, domains: ['a.test'] } })), null);
});

test('planExecution: a domain approval keeps the sandbox and adds only the names; a fail-closed answer adds nothing', () => {
  const request = execRequest({ command: ['curl', 'http://registry.test/'] });
  const c = classification.sandboxed();
  const base = { request, classification: c, escalation: 'network access to registry.test refused', escalatedDomains: ['registry.test'] };
  assert.deepEqual(planExecution({ ...base, decision: { decision: 'approved', source: 'user' } }), { sandboxType: 'bwrap', mode: 'workspace-write', domains: ['registry.test'] });
  assert.deepEqual(planExecution({ ...base, decision: { decision: 'approved', source: 'client' } }), { sandboxType: 'bwrap', mode: 'workspace-write', domains: ['registry.test'] });
  assert.deepEqual(planExecution({ ...base, decision: { decision: 'denied', source: 'timeout' } }), { sandboxType: 'bwrap', mode: 'workspace-write' });
  // an ordinary denial still means "without the sandbox"
  assert.deepEqual(planExecution({ ...base, escalatedDomains: null, decision: { decision: 'approved', source: 'user' } }), { sandboxType: 'none', mode: null });
});

// ---- the whole request: machine, effects, decider, store ----

interface Scripted {
  runs: CommandRun[];
  asked: Array<{ offered: Decision[]; title: string; choices: string[] }>;
}

/** Effects as the runtime builds them, with the person and the process runner scripted. */
function harness(store: import('../../src/events/eventStore.ts').EventStore, answers: Decision[], opts: { source?: DecisionSource; always?: string[][] } = {}) {
  const seen: Scripted = { runs: [], asked: [] };
  const channel: PersonChannel = {
    ask: async (input) => {
      const q = questionOfDecideInput(input, '/rules.toml');
      seen.asked.push({ offered: input.offered, title: q.title, choices: q.choices.map((c) => c.label) });
      const decision = answers.shift() ?? 'denied';
      return { decision, source: opts.source ?? 'user', user: 'tester' };
    },
  };
  const effects = createEffects({
    classifier: { exec: () => classification.sandboxed(), patch: () => classification.sandboxed() },
    platformSandbox: 'bwrap',
    approvedForSession: () => false,
    networkFor: async (sessionId) => {
      const approved = sessionDomains(fold(sessionDomainsProjection, await store.readSession(sessionId)), sessionId);
      return approved.length > 0 ? { allow: [], deny: [], approved } : undefined;
    },
    // The proxy's verdict for registry.test, as the real runner would report it.
    run: async (req) => {
      seen.runs.push(req);
      const lists = req.sandboxSpec?.domains;
      const reached = lists !== undefined && decideHost(lists, 'registry.test').ok;
      if (reached) return { ...outcome({ exitCode: 0 }), network: { allowed: { 'registry.test': 1 }, refused: [] } };
      return withRefusals(outcome(), use(notAllowed('registry.test')));
    },
    patchCommand: ['true'],
    decide: askForDecision({ store, channel, timeoutMs: null, onDomainsAlwaysApproved: async (d) => void opts.always?.push(d) }),
  });
  return { effects, seen };
}

const curl = (cwd = '/tmp') =>
  execRequest({ command: ['curl', 'http://registry.test/'], cwd, policy: { ...execRequest().policy, domains: { allow: ['other.test'], deny: [] } } });

test('refused → asked about the domain → yes for this session → retried in the sandbox with it → the next command of the session reaches it without asking', async () => {
  const t = tempSqliteStore();
  try {
    const { effects, seen } = harness(t.store, ['approved_for_session']);
    const first = await runRequest({ store: t.store, sessionId: 's1', request: curl(), effects });
    assert.equal(first.finalState, 'completed');
    assert.equal(first.context.execution?.exitCode, 0);
    assert.equal(seen.asked.length, 1);
    assert.equal(seen.asked[0]!.title, 'Let this command reach registry.test?');
    assert.deepEqual(seen.asked[0]!.offered, ['approved', 'approved_for_session', 'approved_always', 'denied', 'abort']);
    assert.match(seen.asked[0]!.choices[1]!, /allow registry\.test for this session/);
    // the retry: the same sandbox (not bare), the flag's lists kept, the name approved (public only)
    const retry = seen.runs[1]!;
    assert.equal(retry.sandboxSpec?.mode, 'workspace-write');
    assert.deepEqual(retry.sandboxSpec?.domains, { allow: ['other.test'], deny: [], approved: ['registry.test'] });
    const types = first.events.map((e) => e.type);
    assert.deepEqual(types, ['ApprovalRequested', 'Classified', 'DecisionRecorded', 'SandboxRunStarted', 'SandboxRunFinished', 'Escalated', 'DecisionRequested', 'DecisionRecorded', 'ExecutionStarted', 'ExecutionFinished']);
    const esc = first.events.find((e) => e.type === 'Escalated')!;
    assert.deepEqual(esc.type === 'Escalated' && esc.data.domains, ['registry.test']);
    const asked = first.events.find((e) => e.type === 'DecisionRequested')!;
    assert.equal(asked.type === 'DecisionRequested' && asked.data.reason, 'network-domain');
    const started = first.events.find((e) => e.type === 'ExecutionStarted')!;
    assert.deepEqual(started.type === 'ExecutionStarted' && started.data, { sandbox: 'bwrap', mode: 'workspace-write', domains: ['registry.test'] });
    // the record replays: the machine announces the same events from the stored ones
    assert.ok(replayStream(first.events).ok, JSON.stringify(replayStream(first.events).problems));
    // warden approve and the inspector build the question from the record: the same domain question
    const summary = fold(requestsProjection, first.events).byId.get(first.requestId)!;
    const fromRecord = questionOfSummary(summary, '/rules.toml');
    assert.equal(fromRecord.title, 'Let this command reach registry.test?');
    // the same choices; out of band, "always" also says the asking process writes its own rules file
    fromRecord.choices.forEach((c, i) => assert.ok(c.label.startsWith(seen.asked[0]!.choices[i]!.replace(/\)$/, '')), `${c.label} / ${seen.asked[0]!.choices[i]}`));
    assert.match(fromRecord.where, /in the workspace-write sandbox .*network off except registry\.test/);
    assert.equal(fromRecord.unsandboxed, false, 'a yes keeps the sandbox');
    // the MCP elicitation message (plain text) names the domains and the choices about them
    const text = questionText(fromRecord, { maxDiffLines: 10 });
    assert.match(text, /Domains asked about: registry\.test \(a yes reaches their public addresses only\)/);
    assert.match(text, /- Yes, always allow registry\.test \(writes it to the \[network\] table of \/rules\.toml/);
    // the inspector's timeline says what was asked, refused and opened
    const lines = first.events.flatMap((e) => timelineEntry(e).details).join('\n');
    assert.match(lines, /refused registry\.test ×1: registry\.test is not in the allowed domains/);
    assert.match(lines, /asks about domains: registry\.test/);
    assert.match(lines, /with domains approved for this retry: registry\.test/);
    assert.match(lines, /connections: registry\.test ×1/);

    // a different command, same session: the classification carries the approval, nobody is asked
    const second = await runRequest({ store: t.store, sessionId: 's1', request: curl('/var'), effects });
    assert.equal(second.finalState, 'completed');
    assert.equal(seen.asked.length, 1, 'not asked again');
    assert.equal(second.events.some((e) => e.type === 'Escalated'), false);
    const classified = second.events.find((e) => e.type === 'Classified')!;
    assert.deepEqual(classified.type === 'Classified' && classified.data.domains, { allow: [], deny: [], approved: ['registry.test'] });

    // another session is asked again
    const other = await runRequest({ store: t.store, sessionId: 's2', request: curl(), effects });
    assert.equal(seen.asked.length, 2);
    assert.equal(other.finalState, 'rejected');
  } finally {
    await t.cleanup();
  }
});

test('"no" leaves the name refused, in this request and the next of the session; "once" opens it for the retry only', async () => {
  const t = tempSqliteStore();
  try {
    const { effects, seen } = harness(t.store, ['denied', 'approved', 'denied']);
    const no = await runRequest({ store: t.store, sessionId: 's', request: curl(), effects });
    assert.equal(no.finalState, 'rejected');
    assert.equal(seen.runs.length, 1, 'nothing ran after the no');
    const once = await runRequest({ store: t.store, sessionId: 's', request: curl(), effects });
    assert.equal(once.finalState, 'completed');
    assert.equal(seen.asked.length, 2, 'asked again after a no');
    const after = await runRequest({ store: t.store, sessionId: 's', request: curl(), effects });
    assert.equal(seen.asked.length, 3, 'a yes once is not a yes for the session');
    assert.equal(after.finalState, 'rejected');
    assert.deepEqual(sessionDomains(fold(sessionDomainsProjection, await t.store.readSession('s')), 's'), []);
  } finally {
    await t.cleanup();
  }
});

test('"always" records the domains, never a command prefix, and hands them to the rules file', async () => {
  const t = tempSqliteStore();
  try {
    const always: string[][] = [];
    const { effects } = harness(t.store, ['approved_always'], { always });
    const r = await runRequest({ store: t.store, sessionId: 's', request: curl(), effects });
    assert.equal(r.finalState, 'completed');
    const d = r.events.filter((e) => e.type === 'DecisionRecorded').at(-1)!;
    assert.ok(d.type === 'DecisionRecorded');
    assert.deepEqual(d.data.ruleDomains, ['registry.test']);
    assert.equal(d.data.rulePrefix, undefined, 'no command rule from a domain question');
    assert.deepEqual(always, [['registry.test']]);
  } finally {
    await t.cleanup();
  }
});

test('out of band (warden approve, the inspector): "always" on a domain question names the domains', async () => {
  const t = tempSqliteStore();
  try {
    // a channel that never answers: the question stays open for decideOutOfBand
    const effects = harness(t.store, []).effects;
    const never: PersonChannel = { ask: (_i, signal) => new Promise((_ok, fail) => signal.addEventListener('abort', () => fail(new Error('stopped')))) };
    const e2 = { ...effects, decide: askForDecision({ store: t.store, channel: never, timeoutMs: null }) };
    const pending = runRequest({ store: t.store, sessionId: 's', requestId: 'oob', request: curl(), effects: e2 });
    for (;;) {
      const events = await t.store.read('oob');
      if (events.some((e) => e.type === 'DecisionRequested')) break;
      await new Promise((ok) => setImmediate(ok));
    }
    const result = await decideOutOfBand(t.store, 'oob', 'approved_always', { user: 'root', via: 'warden approve' });
    assert.ok(result.ok);
    assert.deepEqual(result.recorded.ruleDomains, ['registry.test']);
    assert.equal(result.recorded.rulePrefix, undefined);
    assert.equal((await pending).finalState, 'completed');
  } finally {
    await t.cleanup();
  }
});

// ---- the projection, case by case ----

let position = 0;
function ev(stream: string, sessionId: string, type: string, data: unknown): StoredEvent {
  position += 1;
  return { type, data, stream, sessionId, version: 1, position, time: '', prevHash: '', hash: '' } as StoredEvent;
}
const escalated = (stream: string, session = 's') => ev(stream, session, 'Escalated', { denial: 'x', domains: ['a.test'] });
const decided = (stream: string, decision: Decision, source: DecisionSource, session = 's') => ev(stream, session, 'DecisionRecorded', { decision, source });

// [events, approved names of session s, why the row exists]
const projectionCases: Array<[StoredEvent[], string[], string]> = [
  [[escalated('r1'), decided('r1', 'approved_for_session', 'user')], ['a.test'], 'a person approved it for the session'],
  [[escalated('r1'), decided('r1', 'approved_for_session', 'client')], ['a.test'], "an MCP client's answer counts as the person's"],
  [[escalated('r1'), decided('r1', 'approved_always', 'user')], ['a.test'], 'always includes this session'],
  [[escalated('r1'), decided('r1', 'approved', 'user')], [], 'once is for the retry only'],
  [[escalated('r1'), decided('r1', 'denied', 'user')], [], 'no'],
  [[escalated('r1'), decided('r1', 'approved_for_session', 'timeout')], [], 'a forged fail-closed approval opens nothing'],
  [[escalated('r1'), decided('r1', 'approved_for_session', 'session-cache')], [], 'only a person answers a question'],
  [[ev('r1', 's', 'Escalated', { denial: 'x' }), decided('r1', 'approved_for_session', 'user')], [], 'a command question opens no domain'],
  [[escalated('r1', 'other'), decided('r1', 'approved_for_session', 'user', 'other')], [], 'another session'],
  [[escalated('r1'), decided('r2', 'approved_for_session', 'user')], [], 'an answer in another stream'],
  [[escalated('r1'), ev('r1', 's', 'Rejected', { reason: 'x' }), decided('r1', 'approved_for_session', 'user')], [], 'nothing after the stream ended'],
];

for (const [events, names, why] of projectionCases) {
  test(`sessionDomains: ${why}`, () => {
    assert.deepEqual(sessionDomains(fold(sessionDomainsProjection, events), 's'), names);
  });
}
