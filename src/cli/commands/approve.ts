/**
 * `warden approve`: the requests waiting for a person across every process on the store, decided
 * from this terminal. Interactive by default (list, details, keys y / a / A / n / esc as in
 * `warden exec`, q quits), live through the store's subscribe; `--list [--json]` and
 * `--decide ID --decision D` are the same for scripts. A decision is appended to the request's
 * stream at the version where the question stands (decideOutOfBand), so a request decided elsewhere
 * first cannot be decided twice; the waiting process picks the decision up through subscribe.
 * I/O: reads and appends to the store, reads the terminal, may append to the rules file.
 */
import type { Command } from 'commander';
import { ReadStream } from 'node:tty';
import { quote } from 'shell-quote';
import { decideOutOfBand } from '../../requests/outOfBandDecision.ts';
import { localProbe, ownerIsGone } from '../../requests/recovery.ts';
import { followProjection } from '../../projections/liveProjection.ts';
import { pendingProjection, pendingRequests, type PendingDoc } from '../../projections/pending.projection.ts';
import type { RequestSummary } from '../../projections/requests.projection.ts';
import { appendAllowRule } from '../../safety/rules.ts';
import { DECISIONS, type Decision } from '../../policy.ts';
import type { EventStore } from '../../events/eventStore.ts';
import { ConfigError } from '../../errors.ts';
import { isEndingEvent } from '../../events/lifecycle.ts';
import { logger } from '../../log.ts';
import { addStoreOption, openStoreFromFlags, setupLogging } from '../options.ts';
import { currentUser, keyToDecision } from '../ttyChannel.ts';

interface ApproveFlags {
  store?: string;
  logLevel?: string;
  rules?: string;
  list?: boolean;
  json?: boolean;
  decide?: string;
  decision?: string;
}

const VIA = 'warden approve';

export function what(s: RequestSummary): string {
  if (s.kind === 'exec') return quote(s.command ?? []);
  const files = s.files ?? s.classification?.files ?? [];
  return files.length > 0 ? `patch: ${files.map((f) => `${f.kind} ${f.path}${f.moveTo ? ` -> ${f.moveTo}` : ''}`).join(', ')}` : 'patch';
}

export function age(fromIso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function clip(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

function ownerGone(s: RequestSummary): boolean {
  return ownerIsGone(s.request.origin, s.requestedAt, localProbe());
}

export function listJson(s: RequestSummary, now: number) {
  return {
    request_id: s.requestId,
    session_id: s.sessionId,
    age_ms: now - Date.parse(s.requestedAt),
    kind: s.kind,
    command: s.command,
    files: s.files ?? s.classification?.files ?? null,
    cwd: s.cwd,
    justification: s.justification,
    ask_reason: s.askReason,
    message: s.askMessage,
    offered: s.offered,
    classification_reason: s.classification?.reason ?? null,
    origin: s.request.origin,
    owner_gone: ownerGone(s),
  };
}

export function renderList(rows: RequestSummary[], cursor: number, now: number): string[] {
  const lines = [`warden approve: ${rows.length} request(s) waiting for a decision`, ''];
  if (rows.length === 0) lines.push('  nothing is waiting; this view updates live');
  else lines.push(`    ${clip('#', 3)} ${clip('age', 6)} ${clip('command or files', 40)} ${clip('cwd', 28)} why asked`);
  rows.forEach((s, i) => {
    const gone = ownerGone(s) ? ' (its process is gone)' : '';
    lines.push(`  ${i === cursor ? '>' : ' '} ${clip(String(i + 1), 3)} ${clip(age(s.requestedAt, now), 6)} ${clip(what(s), 40)} ${clip(s.cwd, 28)} ${s.askReason ?? ''}${gone}`);
  });
  lines.push('', '  [1-9] or [up/down]+[enter] details   [q] quit');
  return lines;
}

export function renderDetail(s: RequestSummary, stillPending: boolean, now: number): string[] {
  const o = s.request.origin;
  const lines = [`request ${s.requestId}  session ${s.sessionId}`, `  asked ${age(s.requestedAt, now)} ago by ${o.surface} (pid ${o.pid} on ${o.host}${o.user ? `, ${o.user}` : ''})`, ''];
  if (s.kind === 'exec') lines.push(`  command:        ${quote(s.command ?? [])}`);
  for (const f of s.files ?? s.classification?.files ?? []) lines.push(`  ${f.kind.padEnd(15)} ${f.path}${f.moveTo ? ` -> ${f.moveTo}` : ''}`);
  lines.push(`  cwd:            ${s.cwd}`);
  lines.push(`  justification:  ${s.justification ?? '-'}`);
  lines.push(`  why asked:      ${s.askMessage ?? s.askReason ?? '-'}`);
  lines.push(`  classification: ${s.classification ? `${s.classification.outcome}: ${s.classification.reason}` : '-'}`);
  if (ownerGone(s)) lines.push('  note:           the process that asked is gone; recovery will deny this on the next start');
  lines.push('');
  if (!stillPending) {
    const by = s.decision ? `${s.decision} (${s.decisionSource}${s.decidedBy ? ` ${s.decidedBy}` : ''})` : s.state;
    lines.push(`  no longer waiting: already decided elsewhere: ${by}`, '  [b] back   [q] quit');
    return lines;
  }
  const keys = ['[y] approve', '[a] approve for this session'];
  const prefix = s.classification?.proposedPrefix;
  if (s.offered?.includes('approved_always') && prefix) keys.push(`[A] always allow \`${quote(prefix)}\``);
  keys.push('[n] deny', '[esc] abort', '[b] back', '[q] quit');
  lines.push(`  ${keys.join('  ')}`);
  return lines;
}

/** Why a request cannot be decided, in words a person acts on; reads the stream. */
async function whyNot(store: EventStore, requestId: string, fallback: string): Promise<string> {
  const events = await store.read(requestId);
  const asked = events.findLastIndex((e) => e.type === 'DecisionRequested');
  const answer = events.slice(asked + 1).find((e) => e.type === 'DecisionRecorded');
  if (asked >= 0 && answer?.type === 'DecisionRecorded') {
    const d = answer.data;
    return `request ${requestId} was already decided: ${d.decision} (${d.source}${d.user ? ` ${d.user}` : ''}${d.reason ? `, ${d.reason}` : ''})`;
  }
  const end = events.at(-1);
  if (end && isEndingEvent(end)) return `request ${requestId} is not waiting for a decision: it ended (${end.type})`;
  return fallback;
}

/** Decides one request; returns the line to show and whether it worked. */
export async function decide(store: EventStore, requestId: string, decision: Decision, rulesPath?: string): Promise<{ ok: boolean; line: string }> {
  const result = await decideOutOfBand(store, requestId, decision, { user: currentUser(), via: VIA });
  if (!result.ok) {
    const line = result.reason === 'already-decided' || result.reason === 'not-pending' ? await whyNot(store, requestId, result.message) : result.message;
    return { ok: false, line: result.reason === 'already-decided' && !/already decided/.test(line) ? `${line} (already decided elsewhere)` : line };
  }
  if (result.recorded.decision === 'approved_always' && result.recorded.rulePrefix && rulesPath) {
    appendAllowRule(rulesPath, result.recorded.rulePrefix);
  }
  return { ok: true, line: `${decision}: request ${requestId} (recorded as ${currentUser()} via ${VIA})` };
}

/** A request id or a unique prefix of one among `ids`. */
function resolveId(given: string, ids: Iterable<string>): string {
  const matches = [...ids].filter((id) => id === given || id.startsWith(given));
  if (matches.includes(given)) return given;
  return matches.length === 1 ? matches[0]! : given;
}

async function interactive(store: EventStore, flags: ApproveFlags): Promise<void> {
  const tty = process.stdin as ReadStream;
  const out = process.stdout;
  let view: 'list' | 'detail' = 'list';
  let cursor = 0;
  let selected: RequestSummary | null = null;
  let status = '';
  let busy = false;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  const draw = () => {
    const now = Date.now();
    const doc: PendingDoc = live.doc;
    const rows = pendingRequests(doc);
    cursor = Math.min(cursor, Math.max(0, rows.length - 1));
    let lines: string[];
    if (view === 'detail' && selected) {
      const current = doc.requests.byId.get(selected.requestId) ?? selected;
      lines = renderDetail(current, doc.open.has(selected.requestId), now);
    } else {
      lines = renderList(rows, cursor, now);
    }
    if (status) lines.push('', status);
    out.write(`\x1b[2J\x1b[H${lines.join('\n')}\n`);
  };
  const live = followProjection(store, pendingProjection, () => scheduleDraw());
  let drawPending = false;
  const scheduleDraw = () => {
    if (drawPending) return;
    drawPending = true;
    setImmediate(() => {
      drawPending = false;
      draw();
    });
  };
  await live.caughtUp();
  const ticker = setInterval(draw, 1000);

  const onKey = async (chunk: Buffer) => {
    const key = chunk.toString('utf8');
    if (key === 'q' || key === '\x03') return finish();
    if (busy) return;
    const rows = pendingRequests(live.doc);
    if (view === 'list') {
      if (key === '\x1b[A' || key === 'k') cursor = Math.max(0, cursor - 1);
      else if (key === '\x1b[B' || key === 'j') cursor = Math.min(rows.length - 1, cursor + 1);
      else if (/^[1-9]$/.test(key) && rows[Number(key) - 1]) {
        selected = rows[Number(key) - 1]!;
        view = 'detail';
      } else if ((key === '\r' || key === '\n') && rows[cursor]) {
        selected = rows[cursor]!;
        view = 'detail';
      }
      status = '';
      return draw();
    }
    if (key === 'b' || key === '\x7f' || key === '\x1b[D') {
      view = 'list';
      status = '';
      return draw();
    }
    if (!selected) return;
    if (!live.doc.open.has(selected.requestId)) return draw();
    const decision = keyToDecision(key, selected.offered ?? []);
    if (!decision) return;
    busy = true;
    try {
      const r = await decide(store, selected.requestId, decision, flags.rules);
      status = r.ok ? r.line : `cannot decide: ${r.line}`;
    } catch (error) {
      status = `cannot decide: ${(error as Error).message}`;
    } finally {
      busy = false;
    }
    view = 'list';
    draw();
  };

  tty.setRawMode(true);
  tty.resume();
  tty.on('data', (chunk: Buffer) => void onKey(chunk));
  tty.on('end', () => finish());
  draw();
  try {
    await done;
  } finally {
    clearInterval(ticker);
    live.close();
    tty.setRawMode(false);
    tty.pause();
    out.write('\n');
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('approve')
    .description('decide the requests waiting for a person, across every process on the store')
    .option('--list', 'print the waiting requests and exit')
    .option('--json', 'with --list: one JSON object per request')
    .option('--decide <request-id>', 'decide this request (id or unique prefix) and exit')
    .option('--decision <decision>', `with --decide: ${DECISIONS.join(' | ')}`)
    .option('--rules <file>', 'also store an always-allow rule here when deciding approved_always');
  addStoreOption(cmd);
  cmd.action(async (flags: ApproveFlags) => {
    setupLogging(flags);
    if (flags.decide !== undefined && !DECISIONS.includes(flags.decision as Decision)) {
      throw new ConfigError(`--decide needs --decision ${DECISIONS.join('|')}${flags.decision ? `, got '${flags.decision}'` : ''}`);
    }
    if (flags.decide === undefined && flags.decision !== undefined) throw new ConfigError('--decision goes with --decide REQUEST_ID');
    const store = await openStoreFromFlags(flags);
    try {
      if (flags.decide !== undefined) {
        let id = flags.decide;
        if ((await store.read(id)).length === 0) {
          // not a full id: look for a unique prefix among the requests (folds the store once)
          const live = followProjection(store, pendingProjection);
          await live.caughtUp();
          id = resolveId(flags.decide, live.doc.requests.byId.keys());
          live.close();
        }
        const r = await decide(store, id, flags.decision as Decision, flags.rules);
        if (r.ok) process.stdout.write(`${r.line}\n`);
        else process.stderr.write(`warden: ${r.line}\n`);
        process.exitCode = r.ok ? 0 : 1;
        return;
      }
      if (flags.list) {
        const live = followProjection(store, pendingProjection);
        await live.caughtUp();
        const now = Date.now();
        const rows = pendingRequests(live.doc);
        live.close();
        if (flags.json) for (const s of rows) process.stdout.write(`${JSON.stringify(listJson(s, now))}\n`);
        else process.stdout.write(`${renderList(rows, -1, now).slice(0, -2).join('\n')}\n`);
        return;
      }
      if (!(process.stdin.isTTY && process.stdin instanceof ReadStream)) {
        throw new ConfigError('warden approve needs a terminal; use --list / --decide ID --decision D in scripts');
      }
      await interactive(store, flags);
    } catch (error) {
      logger().debug({ err: error }, 'approve failed');
      throw error;
    } finally {
      await store.close();
    }
  });
}
