/**
 * `warden audit`: what was asked, decided and run, one row per request, folded from the store by
 * the requests projection. For an auditor: the request id, the time with its zone (local, or
 * `--utc`), how it ended in the shared words, who decided and through what, and why it was
 * rejected; filters `--since/--until/--outcome/--decided-by/--command/--session`; `--format
 * table|jsonl|csv` (`--json` is jsonl) and, for the table, a summary line of counts by outcome.
 * Every filter value is checked against its list first: an unknown outcome or source is an error,
 * never a filter that silently matches nothing (or everything). The store is only read: a missing
 * file is an error, a read-only one is opened read-only.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors.ts';
import { DECISION_SOURCES } from '../../policy.ts';
import { OUTCOME_FILTERS, decidedVia, deciderText, decisionText, outcome, surfaceShort } from '../../present/labels.ts';
import { clip, commandText, describeRequest } from '../../present/text.ts';
import { fold } from '../../projections/projection.ts';
import { auditRow, requestsProjection, type RequestSummary } from '../../projections/requests.projection.ts';
import { addStoreOption, openStoreFromFlags, setupLogging } from '../options.ts';

interface AuditFlags {
  session?: string;
  json?: boolean;
  format?: string;
  since?: string;
  until?: string;
  outcome?: string;
  decidedBy?: string;
  command?: string;
  utc?: boolean;
  store?: string;
  logLevel?: string;
}

export const FORMATS = ['table', 'jsonl', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

const what = (s: RequestSummary) => describeRequest({ kind: s.kind, command: s.command, files: s.files });
const col = (text: string, width: number) => clip(text, width, { pad: true });

// ---------------- times ----------------

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * A `--since`/`--until` value as epoch ms. Accepted, and nothing else:
 * | form                          | meaning                                        |
 * | `30m`, `2h`, `7d`, `1w`, `45s` | that long before now                           |
 * | `2026-12-02`                  | midnight starting that day (local, or UTC with --utc) |
 * | `2026-12-02 10:30[:15]` or with `T` | that time (local, or UTC with --utc)     |
 * | any of those ending in `Z` or `+01:00` | that time in that zone                |
 * Anything else (`yesterday`, `5 min`, `12/02`) is an error: a filter that guessed would hide or
 * show the wrong rows in an audit.
 */
export function parseWhen(value: string, flag: string, opts: { now: number; utc: boolean }): number {
  const v = value.trim();
  const rel = /^(\d+)([smhdw])$/.exec(v);
  if (rel) return opts.now - Number(rel[1]) * UNITS[rel[2]!]!;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(v);
  if (!m) {
    throw new ConfigError(`${flag} '${value}': give a time as 2026-12-02, 2026-12-02T10:30, 2026-12-02 10:30:00Z, or a span back from now (30m, 2h, 7d)`);
  }
  const [, y, mo, d, h = '00', mi = '00', sec = '00', ms = '0', zone] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), Number(ms.padEnd(3, '0'))] as const;
  let t: number;
  let fields: number[];
  if (zone) {
    // read the wall-clock fields back in the zone given, to catch 2026-02-31 rolling into March
    const sign = zone === 'Z' ? 0 : zone.startsWith('-') ? -1 : 1;
    const offMin = zone === 'Z' ? 0 : sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    t = Date.UTC(...parts) - offMin * 60_000;
    const d = new Date(t + offMin * 60_000);
    fields = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  } else if (opts.utc) {
    t = Date.UTC(...parts);
    const d = new Date(t);
    fields = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  } else {
    t = new Date(...parts).getTime();
    const d = new Date(t);
    fields = [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()];
  }
  // Date rolls 2026-02-31 over into March and 25:00 into the next day: a time that does not
  // exist (or, locally, falls in a daylight-saving gap) is an error, not some other moment.
  if (!Number.isFinite(t) || fields.some((x, i) => x !== parts[i]) || parts[5] > 59) {
    throw new ConfigError(`${flag} '${value}' is not a real date and time`);
  }
  return t;
}

const two = (n: number) => String(n).padStart(2, '0');

/** `2026-12-02 10:26:32 +01:00` in the local zone, or `2026-12-02 09:26:32Z` with `utc`. */
export function formatTime(iso: string, utc: boolean): string {
  const d = new Date(iso);
  if (utc) return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
  const off = -d.getTimezoneOffset();
  const zone = `${off >= 0 ? '+' : '-'}${two(Math.floor(Math.abs(off) / 60))}:${two(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone}`;
}

// ---------------- filters ----------------

export interface AuditFilter {
  session?: string;
  since?: number;
  until?: number;
  outcomes?: string[];
  /** Each a decision source kind, `none`, or `user:NAME` / `NAME` (the recorded decider, exactly). */
  decidedBy?: string[];
  command?: string;
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((x) => x.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
}

export function parseFilter(flags: AuditFlags, now: number): AuditFilter {
  const utc = flags.utc === true;
  const f: AuditFilter = {};
  if (flags.session) f.session = flags.session;
  if (flags.since !== undefined) f.since = parseWhen(flags.since, '--since', { now, utc });
  if (flags.until !== undefined) f.until = parseWhen(flags.until, '--until', { now, utc });
  const outcomes = list(flags.outcome);
  if (outcomes) {
    const unknown = outcomes.filter((o) => !Object.hasOwn(OUTCOME_FILTERS, o));
    if (unknown.length > 0) throw new ConfigError(`--outcome ${unknown.join(',')}: not an outcome; choose from ${Object.keys(OUTCOME_FILTERS).join(', ')}`);
    f.outcomes = outcomes;
  }
  const who = list(flags.decidedBy);
  if (who) f.decidedBy = who;
  if (flags.command !== undefined && flags.command !== '') f.command = flags.command.toLowerCase();
  return f;
}

function decidedByMatches(s: RequestSummary, who: string): boolean {
  if (who === 'none') return s.decisionSource === null;
  if ((DECISION_SOURCES as readonly string[]).includes(who)) return s.decisionSource === who;
  // a name: the recorded decider exactly (`root`, `mcp:claude-code`); `user:NAME` forces a person
  if (who.startsWith('user:')) return s.decisionSource === 'user' && s.decidedBy === who.slice(5);
  return s.decidedBy === who;
}

export function matchesFilter(s: RequestSummary, f: AuditFilter): boolean {
  if (f.session && s.sessionId !== f.session) return false;
  const at = Date.parse(s.requestedAt);
  if (f.since !== undefined && at < f.since) return false;
  if (f.until !== undefined && at >= f.until) return false;
  if (f.outcomes) {
    const facts = { state: s.state, final: s.final, kind: s.kind, exitCode: s.exitCode, timedOut: s.timedOut, interrupted: s.interrupted, decision: s.decision };
    if (!f.outcomes.some((o) => OUTCOME_FILTERS[o]!(facts))) return false;
  }
  if (f.decidedBy && !f.decidedBy.some((w) => decidedByMatches(s, w))) return false;
  if (f.command) {
    const hay = `${what(s)}\n${(s.command ?? []).join(' ')}`.toLowerCase();
    if (!hay.includes(f.command)) return false;
  }
  return true;
}

// ---------------- rows ----------------

function outcomeOf(s: RequestSummary) {
  return outcome({ state: s.state, final: s.final, kind: s.kind, exitCode: s.exitCode, timedOut: s.timedOut, interrupted: s.interrupted });
}

function decisionOf(s: RequestSummary): string {
  return decisionText({ decision: s.decision, source: s.decisionSource, user: s.decidedBy, reason: s.decisionReason });
}

/** The summary's counting bucket: one per way a request can stand, so the counts add up to the rows. */
export function bucket(s: RequestSummary): string {
  if (s.state === 'completed') return s.exitCode !== null && s.exitCode !== 0 ? 'exited non-zero' : s.kind === 'patch' ? 'applied' : 'completed';
  if (s.state === 'failed') return s.interrupted ? 'interrupted' : s.timedOut ? 'timed out' : 'failed';
  if (s.state === 'rejected') return s.decision === 'denied' && s.decisionSource === 'user' ? 'denied by a person' : 'rejected';
  if (s.state === 'aborted') return 'aborted';
  if (s.state === 'awaitingDecision') return 'waiting for a person';
  return 'in progress';
}

export function summaryLine(rows: RequestSummary[]): string {
  const counts = new Map<string, number>();
  for (const s of rows) counts.set(bucket(s), (counts.get(bucket(s)) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${n} ${k}`);
  return `${rows.length} request${rows.length === 1 ? '' : 's'}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

export function renderTable(rows: RequestSummary[], opts: { utc?: boolean } = {}): string {
  const utc = opts.utc === true;
  const timeW = utc ? 20 : 26;
  const header = `${col('time', timeW)} ${col('request', 8)} ${col('session', 16)} ${col('outcome', 20)} ${col('decided', 38)} ${col('why', 40)} command`;
  const lines = rows.map((s) =>
    [
      col(formatTime(s.requestedAt, utc), timeW),
      // the id's first 8 characters: `warden replay` and `warden approve` take such a prefix
      col(s.requestId.slice(0, 8), 8),
      col(s.sessionId, 16),
      col(outcomeOf(s).label, 20),
      col(decisionOf(s) || '-', 38),
      col(s.reason ?? '-', 40),
      clip(what(s), 4000),
    ].join(' '),
  );
  // A refused decision is not part of the request's outcome, but it is the line to read first.
  const refused = rows.flatMap((s) =>
    s.refusals.map((r) => `${col(formatTime(r.time, utc), timeW)} REFUSED ${r.decision} via ${r.via} for request ${s.requestId.slice(0, 8)}: ${r.reason}; attempted by ${deciderText(r.by)}`),
  );
  return [header, ...lines, ...(refused.length > 0 ? ['', `${refused.length} decision(s) refused:`, ...refused] : []), '', summaryLine(rows)].join('\n') + '\n';
}

/** One JSON object per request: the DESIGN.md audit row plus the same words the table shows. */
export function jsonRow(s: RequestSummary) {
  const o = s.request.origin;
  const shown = outcomeOf(s);
  return {
    ...auditRow(s),
    // `result` and `succeeded` as before this row grew its other words (scripts read them)
    result: shown.label,
    succeeded: s.final ? shown.tone === 'ok' : null,
    outcome_label: shown.label,
    decision_text: decisionOf(s) || null,
    decided_via: s.decisionSource === 'user' ? decidedVia(s.decisionReason) : null,
    asked_by: surfaceShort(o),
    origin: { surface: o.surface, pid: o.pid, host: o.host, ...(o.user ? { user: o.user } : {}), ...(o.client ? { client: o.client } : {}) },
    policy: { approval: s.request.policy.approval, sandbox: s.request.policy.sandbox, network: s.request.policy.network },
    sandbox_used: s.classification?.sandbox ?? null,
    justification: s.justification,
    /** The process that made an out-of-band decision (user, uid, tty, pid, ancestry). */
    decider: s.decider,
  };
}

export const CSV_COLUMNS = [
  'requested_at',
  'request_id',
  'session_id',
  'kind',
  'what',
  'cwd',
  'outcome',
  'outcome_label',
  'exit_code',
  'decision',
  'decision_source',
  'decided_by',
  'decided_via',
  'reason',
  'asked_by',
  'finished_at',
] as const;

/**
 * One CSV cell (RFC 4180 quoting). A cell an agent chose that starts like a formula (`=`, `+`,
 * `-`, `@`, tab, CR) gets a leading `'`: a command such as `=HYPERLINK(...)` must not run as a
 * formula in the auditor's spreadsheet.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(s: RequestSummary): string {
  const o = outcomeOf(s);
  const cells: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
    requested_at: s.requestedAt,
    request_id: s.requestId,
    session_id: s.sessionId,
    kind: s.kind,
    what: s.kind === 'exec' ? commandText(s.command ?? []) : what(s),
    cwd: s.cwd,
    outcome: s.state,
    outcome_label: o.label,
    exit_code: s.exitCode,
    decision: s.decision,
    decision_source: s.decisionSource,
    decided_by: s.decidedBy,
    decided_via: s.decisionSource === 'user' ? decidedVia(s.decisionReason) : null,
    reason: s.reason,
    asked_by: surfaceShort(s.request.origin),
    finished_at: s.finishedAt,
  };
  return CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',');
}

export function formatOf(flags: AuditFlags): Format {
  if (flags.json && flags.format !== undefined && flags.format !== 'jsonl') throw new ConfigError(`--json is --format jsonl; it cannot be combined with --format ${flags.format}`);
  if (flags.json) return 'jsonl';
  const f = flags.format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(f)) throw new ConfigError(`--format '${f}': choose table, jsonl or csv`);
  return f as Format;
}

export function register(program: Command): void {
  const cmd = program
    .command('audit')
    .description('list what was asked, decided and run (one row per request, oldest first)')
    .option('--session <id>', 'only this session')
    .option('--since <when>', 'only requests made at or after WHEN (2026-12-02, 2026-12-02T10:30, ...Z or +01:00, or 30m / 2h / 7d ago)')
    .option('--until <when>', 'only requests made before WHEN (same forms as --since)')
    .option('--outcome <names>', `only these outcomes, comma-separated: ${Object.keys(OUTCOME_FILTERS).join(', ')}`)
    .option('--decided-by <who>', `only decisions by these, comma-separated: a source (${DECISION_SOURCES.join(', ')}), none, or a decider's name (root, user:NAME, mcp:CLIENT)`)
    .option('--command <text>', 'only requests whose command or patch files contain TEXT (any case)')
    .option('--format <format>', 'table (default), jsonl (one JSON object per line) or csv')
    .option('--json', 'the same as --format jsonl')
    .option('--utc', 'times in UTC (default: local time with its zone)');
  addStoreOption(cmd);
  cmd.action(async (flags: AuditFlags) => {
    setupLogging(flags);
    // every flag is checked before the store is opened: a typo fails at once
    const format = formatOf(flags);
    const filter = parseFilter(flags, Date.now());
    const store = await openStoreFromFlags(flags);
    try {
      const doc = fold(requestsProjection, await store.readAll(1));
      const rows = [...doc.byId.values()].filter((s) => matchesFilter(s, filter));
      if (format === 'jsonl') {
        for (const s of rows) process.stdout.write(`${JSON.stringify(jsonRow(s))}\n`);
      } else if (format === 'csv') {
        process.stdout.write(`${CSV_COLUMNS.join(',')}\n`);
        for (const s of rows) process.stdout.write(`${csvRow(s)}\n`);
      } else {
        process.stdout.write(renderTable(rows, { utc: flags.utc === true }));
      }
    } finally {
      await store.close();
    }
  });
}
