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
import { decideOutOfBand } from '../../requests/outOfBandDecision.ts';
import { localProbe, ownerIsGone } from '../../requests/recovery.ts';
import { followProjection } from '../../projections/liveProjection.ts';
import { pendingProjection, pendingRequests, type PendingDoc } from '../../projections/pending.projection.ts';
import type { RequestSummary } from '../../projections/requests.projection.ts';
import { appendAllowRule, appendApprovedDomains, defaultRulesPath } from '../../safety/ruleFile.ts';
import { isSubcommandPrefix } from '../../safety/ruleMatch.ts';
import { DECISIONS, type AskReason, type Decision } from '../../policy.ts';
import type { EventStore } from '../../events/eventStore.ts';
import { ConfigError } from '../../errors.ts';
import { isEndingEvent } from '../../events/lifecycle.ts';
import { logger } from '../../log.ts';
import { addStoreOption, openStoreFromFlags, setupLogging } from '../options.ts';
import { currentUser, keyReader, keyToDecision } from '../ttyChannel.ts';
import { colourWanted, makeStyle, type Style } from '../../present/ansi.ts';
import { diffStat, diffText } from '../../safety/patch/unifiedDiff.ts';
import { ASK_REASON_LABELS, DECISION_DONE, DECISION_SHORT, decisionText, stateLabel, surfaceShort } from '../../present/labels.ts';
import { DECISION_KEYS, questionOfSummary } from '../../present/question.ts';
import { choiceLines, questionLines } from '../../present/terminal.ts';
import { clip, commandText, describeRequest } from '../../present/text.ts';

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
  return describeRequest({ kind: s.kind, command: s.command, files: s.files ?? s.classification?.files ?? null });
}

export function age(fromIso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function ownerGone(s: RequestSummary): boolean {
  return ownerIsGone(s.request.origin, s.requestedAt, localProbe());
}

export function listJson(s: RequestSummary, now: number, rulesPath: string | null = null) {
  const q = questionOfSummary(s, rulesPath);
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
    ask_reason_label: s.askReason ? (ASK_REASON_LABELS[s.askReason as AskReason] ?? s.askReason) : null,
    message: s.askMessage,
    offered: s.offered,
    choices: q.choices.map((c) => ({ key: c.key, decision: c.decision, label: c.label })),
    classification_reason: s.classification?.reason ?? null,
    dangerous: q.dangerous,
    where: q.where,
    asked_by: q.asker,
    origin: s.request.origin,
    owner_gone: ownerGone(s),
    diff: q.diff ? { stat: diffStat(q.diff), added: q.diff.added, removed: q.diff.removed, text: diffText(q.diff), shown: s.shown } : null,
  };
}

/** The waiting list: columns that matter first, fitted to the terminal's width. */
export function renderList(rows: RequestSummary[], cursor: number, now: number, width = 100, style: Style = makeStyle(false)): string[] {
  const lines = [style.bold(`warden approve: ${rows.length} request(s) waiting for a decision`), ''];
  const whoW = 14;
  const whyW = 20;
  const whatW = Math.max(20, width - (4 + 3 + 1 + 5 + 1 + whoW + 1 + whyW + 1));
  if (rows.length === 0) lines.push('  nothing is waiting; this view updates live');
  else lines.push(style.dim(`    ${clip('#', 3, { pad: true })} ${clip('age', 5, { pad: true })} ${clip('what', whatW, { pad: true })} ${clip('asked by', whoW, { pad: true })} why asked`));
  rows.forEach((s, i) => {
    const gone = ownerGone(s) ? ' (its process is gone)' : '';
    const why = s.askReason ? (ASK_REASON_LABELS[s.askReason as AskReason] ?? s.askReason) : '';
    const dangerous = s.classification?.dangerous === true;
    const text = clip(what(s), whatW, { pad: true });
    lines.push(
      `  ${i === cursor ? '›' : ' '} ${clip(String(i + 1), 3, { pad: true })} ${clip(age(s.requestedAt, now), 5, { pad: true })} ${dangerous ? style.red(text) : text} ${clip(surfaceShort(s.request.origin), whoW, { pad: true })} ${dangerous ? style.red(why) : why}${gone}`,
    );
  });
  lines.push('', style.dim('  [1-9] or [up/down]+[enter] details   [q] quit'));
  return lines;
}

export interface DetailView {
  highlighted: Decision | null;
  hint: string;
}

export function renderDetail(
  s: RequestSummary,
  stillPending: boolean,
  now: number,
  opts: { rulesPath: string | null; width?: number; rows?: number; style?: Style; view?: DetailView } = { rulesPath: null },
): string[] {
  const style = opts.style ?? makeStyle(false);
  const width = opts.width || 100;
  const q = questionOfSummary(s, opts.rulesPath);
  // one row: the ids are long, and a wrapped header would break mid-word at the screen edge
  const lines = [style.dim(clip(`request ${s.requestId} · session ${s.sessionId} · asked ${age(s.requestedAt, now)} ago`, width - 1))];
  lines.push(...questionLines(q, style, { width, maxDiffLines: Math.max(12, (opts.rows ?? 40) - 22) }));
  if (s.justification && !q.justification) lines.push(`  justification: ${s.justification}`);
  if (ownerGone(s)) lines.push(style.yellow('  note: the process that asked is gone; recovery will deny this on the next start'), '');
  if (!stillPending) {
    const by = s.decision ? decisionText({ decision: s.decision, source: s.decisionSource, user: s.decidedBy, reason: s.decisionReason }) : stateLabel(s.state);
    lines.push(`  no longer waiting: already decided elsewhere: ${by}`, '  [b] back   [q] quit');
    return lines;
  }
  const view = opts.view ?? { highlighted: q.defaultDecision, hint: '' };
  lines.push(...choiceLines(q, style, view.highlighted, width), '');
  if (view.hint) lines.push(`  ${style.yellow(view.hint)}`);
  lines.push(style.dim(`  Enter: ${view.highlighted ? DECISION_SHORT[view.highlighted] : '-'} · Up/Down: move · b: back · q: quit`));
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

/**
 * Records this person's answer to one waiting request (out of band), writes an always-allow rule or
 * domains to their rules file, and returns the line to show and whether it worked.
 */
async function answerWaitingRequest(store: EventStore, requestId: string, decision: Decision, rulesPath?: string): Promise<{ ok: boolean; line: string }> {
  const result = await decideOutOfBand(store, requestId, decision, { user: currentUser(), via: VIA });
  if (!result.ok) {
    const line = result.reason === 'already-decided' || result.reason === 'not-pending' ? await whyNot(store, requestId, result.message) : result.message;
    return { ok: false, line: result.reason === 'already-decided' && !/already decided/.test(line) ? `${line} (already decided elsewhere)` : line };
  }
  let rule = '';
  if (result.recorded.decision === 'approved_always' && result.recorded.rulePrefix && rulesPath) {
    appendAllowRule(rulesPath, result.recorded.rulePrefix);
    const p = result.recorded.rulePrefix;
    rule = `; allow rule ${isSubcommandPrefix(p) ? `\`${commandText(p)} …\`` : `exactly \`${commandText(p)}\``} written to ${rulesPath}`;
  }
  if (result.recorded.decision === 'approved_always' && result.recorded.ruleDomains && rulesPath) {
    appendApprovedDomains(rulesPath, result.recorded.ruleDomains);
    rule = `; ${result.recorded.ruleDomains.join(', ')} written to the [network] table of ${rulesPath}`;
  }
  const d = result.recorded.decider;
  const from = d ? `, pid ${d.pid}${d.tty ? ` on ${d.tty}` : ''}` : '';
  return { ok: true, line: `${decision}: request ${requestId} (${DECISION_DONE[decision]}, recorded as ${currentUser()} via ${VIA}${from}${rule})` };
}

/** A request id or a unique prefix of one among `ids`. */
function resolveId(given: string, ids: Iterable<string>): string {
  const matches = [...ids].filter((id) => id === given || id.startsWith(given));
  if (matches.includes(given)) return given;
  return matches.length === 1 ? matches[0]! : given;
}

async function interactive(store: EventStore, rulesPath: string): Promise<void> {
  const tty = process.stdin as ReadStream;
  const out = process.stdout;
  const style = makeStyle(colourWanted(out));
  let view: 'list' | 'detail' = 'list';
  let detailView: DetailView = { highlighted: null, hint: '' };
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
      lines = renderDetail(current, doc.open.has(selected.requestId), now, { rulesPath, width: out.columns || 100, rows: out.rows || 40, style, view: detailView });
    } else {
      lines = renderList(rows, cursor, now, out.columns || 100, style);
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
  const open = (s: RequestSummary) => {
    selected = s;
    view = 'detail';
    detailView = { highlighted: questionOfSummary(s, rulesPath).defaultDecision, hint: '' };
  };

  const onKey = async (key: string) => {
    if (key === 'q' || key === '\x03') return finish();
    if (busy) return;
    const rows = pendingRequests(live.doc);
    if (view === 'list') {
      if (key === '\x1b[A' || key === 'k') cursor = Math.max(0, cursor - 1);
      else if (key === '\x1b[B' || key === 'j') cursor = Math.min(rows.length - 1, cursor + 1);
      else if (/^[1-9]$/.test(key) && rows[Number(key) - 1]) open(rows[Number(key) - 1]!);
      else if ((key === '\r' || key === '\n') && rows[cursor]) open(rows[cursor]!);
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
    const offered = selected.offered ?? [];
    let decision = keyToDecision(key, offered);
    if (!decision && (key === '\r' || key === '\n')) decision = detailView.highlighted;
    if (!decision) {
      const at = offered.indexOf(detailView.highlighted ?? 'denied');
      if (['\x1b[A', 'k', '\x1b[B', 'j', '\t'].includes(key) && offered.length > 0) {
        const step = key === '\x1b[A' || key === 'k' ? -1 : 1;
        detailView = { highlighted: offered[(at + step + offered.length) % offered.length]!, hint: '' };
      } else {
        const keys = offered.map((d) => DECISION_KEYS[d]).join(', ');
        detailView = { ...detailView, hint: `${clip(key.startsWith('\x1b') && key.length > 1 ? 'that key' : key, 8)} is not a choice: press ${keys}, Enter for the highlighted one, b to go back` };
      }
      return draw();
    }
    busy = true;
    try {
      const r = await answerWaitingRequest(store, selected.requestId, decision, rulesPath);
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
  // As in the exec prompt: a read may hold several keys (tmux, a paste) and an arrow key may come
  // split; only moves are taken from a multi-key read, and a lone Esc waits for the rest of it.
  const MOVES = new Set(['\x1b[A', '\x1bOA', 'k', '\x1b[B', '\x1bOB', 'j', '\t']);
  const reader = keyReader((read) => {
    const keys = read.map((k) => (k === '\x1bOA' ? '\x1b[A' : k === '\x1bOB' ? '\x1b[B' : k));
    if (keys.length === 1) return void onKey(keys[0]!);
    if (keys.length > 1 && keys.every((k) => MOVES.has(k))) {
      void (async () => {
        for (const k of keys) await onKey(k);
      })();
      return;
    }
    if (view === 'detail') {
      detailView = { ...detailView, hint: 'several keys at once (a paste?), so nothing was chosen: press one key' };
      draw();
    }
  });
  tty.on('data', reader.onData);
  tty.on('end', () => finish());
  draw();
  try {
    await done;
  } finally {
    clearInterval(ticker);
    reader.stop();
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
    .option('--rules <file>', 'your rules file, where an always-allow decision also stores its rule (default $XDG_CONFIG_HOME/warden/rules.toml)');
  addStoreOption(cmd);
  cmd.action(async (flags: ApproveFlags) => {
    setupLogging(flags);
    if (flags.decide !== undefined && !DECISIONS.includes(flags.decision as Decision)) {
      throw new ConfigError(`--decide needs --decision ${DECISIONS.join('|')}${flags.decision ? `, got '${flags.decision}'` : ''}`);
    }
    if (flags.decide === undefined && flags.decision !== undefined) throw new ConfigError('--decision goes with --decide REQUEST_ID');
    // an always-allow decision from here writes the approver's own rules file, named before the key is pressed
    const rulesPath = flags.rules ?? defaultRulesPath();
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
        const r = await answerWaitingRequest(store, id, flags.decision as Decision, rulesPath);
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
        if (flags.json) for (const s of rows) process.stdout.write(`${JSON.stringify(listJson(s, now, rulesPath))}\n`);
        else process.stdout.write(`${renderList(rows, -1, now, process.stdout.columns ?? 120, makeStyle(colourWanted(process.stdout))).slice(0, -2).join('\n')}\n`);
        return;
      }
      if (!(process.stdin.isTTY && process.stdin instanceof ReadStream)) {
        throw new ConfigError('warden approve needs a terminal; use --list / --decide ID --decision D in scripts');
      }
      await interactive(store, rulesPath);
    } catch (error) {
      logger().debug({ err: error }, 'approve failed');
      throw error;
    } finally {
      await store.close();
    }
  });
}
