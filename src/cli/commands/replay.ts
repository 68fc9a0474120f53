/**
 * `warden replay [SESSION | REQUEST | --all] [--json]`: rebuilds each request's actor from the
 * store with the pure machine (nothing runs, nobody is asked) and prints the timeline a person can
 * follow. Exit 1 naming the request and the first divergent event when a replay differs or a record
 * breaks the machine's rules; 0 otherwise. I/O: reads the store.
 */
import type { Command } from 'commander';
import { commandText } from '../../present/text.ts';
import { replayAll, type ReplayResult, type ReplayStep } from '../../machines/replay.ts';
import type { StoredEvent } from '../../events/types.ts';
import { addStoreOption, openStoreFromFlags, setupLogging } from '../options.ts';
import { ConfigError } from '../../errors.ts';

interface ReplayFlags {
  all?: boolean;
  json?: boolean;
  store?: string;
  logLevel?: string;
}

function what(first: StoredEvent | undefined): string {
  if (!first || first.type !== 'ApprovalRequested') return '?';
  const d = first.data;
  return d.kind === 'exec' ? commandText(d.command ?? []) : 'apply a patch';
}

function detail(s: ReplayStep): string {
  const parts: string[] = [];
  if (s.decision) parts.push(`${s.decision} (${s.source}${s.user ? ` ${s.user}` : ''})`);
  if (s.exitCode !== undefined) parts.push(`exit ${s.exitCode === null ? '-' : s.exitCode}`);
  if (s.reason) parts.push(s.reason);
  if (s.by !== 'machine') parts.push(`[${s.by}]`);
  return parts.join('  ');
}

const short = (v: unknown) => {
  const text = JSON.stringify(v);
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
};

export function renderTimeline(r: ReplayResult, first: StoredEvent | undefined): string {
  const lines = [`request ${r.requestId}  session ${r.sessionId}  ${what(first)}${first?.type === 'ApprovalRequested' ? `  in ${first.data.cwd}` : ''}`];
  for (const s of r.steps) {
    lines.push(`  ${s.time.replace('T', ' ').slice(0, 23)}  v${String(s.version).padEnd(3)} ${s.state.padEnd(17)} ${s.type.padEnd(19)} ${detail(s)}`.trimEnd());
  }
  lines.push(`  states: ${r.states.join(' > ')}`);
  if (r.ok) {
    lines.push(r.final ? `  replay: ok, ${r.interrupted ? 'interrupted' : r.state}` : `  replay: ok so far, still open in ${r.state}${r.pending.length ? ` (owes ${r.pending.map((e) => e.type).join(', ')})` : ''}`);
  } else {
    const p = r.problems[0]!;
    lines.push(`  replay: ${p.kind === 'rule' ? `BREAKS RULE ${p.rule}` : 'DIVERGES'} at event ${p.index}: ${p.message}`);
    if (p.expected) lines.push(`    expected: ${p.expected.type} ${short(p.expected.data)}`);
    if (p.found) lines.push(`    found:    ${p.found.type} ${short(p.found.data)}`);
  }
  return lines.join('\n') + '\n';
}

function stepJson(r: ReplayResult, s: ReplayStep) {
  return {
    kind: 'step',
    request_id: r.requestId,
    session_id: r.sessionId,
    index: s.index,
    version: s.version,
    position: s.position,
    time: s.time,
    state: s.state,
    event: s.type,
    by: s.by,
    decision: s.decision ?? null,
    decision_source: s.source ?? null,
    decided_by: s.user ?? null,
    exit_code: s.exitCode ?? null,
    reason: s.reason ?? null,
  };
}

function resultJson(r: ReplayResult) {
  return {
    kind: 'result',
    request_id: r.requestId,
    session_id: r.sessionId,
    ok: r.ok,
    final: r.final,
    interrupted: r.interrupted,
    state: r.state,
    states: r.states,
    pending: r.pending.map((e) => e.type),
    problems: r.problems,
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('replay')
    .description('replay stored requests through the machine (nothing runs) and check they reproduce the record')
    .argument('[session]', 'session id (or a request id) to replay')
    .option('--all', 'replay every request in the store')
    .option('--json', 'one JSON object per step, then one per request result');
  addStoreOption(cmd);
  cmd.action(async (target: string | undefined, flags: ReplayFlags) => {
    setupLogging(flags);
    if (!target && !flags.all) throw new ConfigError('give a SESSION (or request id) to replay, or --all');
    if (target && flags.all) throw new ConfigError('give either a SESSION or --all, not both');
    const store = await openStoreFromFlags(flags);
    try {
      const all = await store.readAll(1);
      let events = target ? all.filter((e) => e.sessionId === target || e.stream === target) : all;
      // a request id's first characters (as `warden audit` prints them and `approve --decide` takes
      // them), when they name exactly one request; two or more is an error, never a guess
      if (target && events.length === 0 && target.length >= 6) {
        const ids = [...new Set(all.filter((e) => e.stream.startsWith(target)).map((e) => e.stream))];
        if (ids.length > 1) throw new ConfigError(`'${target}' is the start of ${ids.length} request ids; give more of it`);
        if (ids.length === 1) events = all.filter((e) => e.stream === ids[0]);
      }
      if (target && events.length === 0) throw new ConfigError(`no session or request '${target}' in ${store.location}`);
      const firsts = new Map<string, StoredEvent>();
      for (const e of events) if (!firsts.has(e.stream)) firsts.set(e.stream, e);
      const results = replayAll(events);
      for (const r of results) {
        if (flags.json) {
          process.stdout.write(r.steps.map((s) => `${JSON.stringify(stepJson(r, s))}\n`).join(''));
          process.stdout.write(`${JSON.stringify(resultJson(r))}\n`);
        } else {
          process.stdout.write(renderTimeline(r, firsts.get(r.requestId)));
        }
      }
      const bad = results.filter((r) => !r.ok);
      for (const r of bad) {
        const p = r.problems[0]!;
        process.stderr.write(`warden: request ${r.requestId}: ${p.kind === 'rule' ? `breaks rule ${p.rule}` : 'replay diverges'} at event ${p.index}: ${p.message}\n`);
      }
      if (!flags.json) process.stdout.write(`${results.length} request(s) replayed, ${bad.length} with problems\n`);
      process.exitCode = bad.length > 0 ? 1 : 0;
    } finally {
      await store.close();
    }
  });
}
