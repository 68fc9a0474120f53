/**
 * The inspector's read model: the requests projection folded server-side and kept live with
 * `followProjection`, plus the small indexes the page needs (arrival order for newest-first pages,
 * counts per state, sessions). Pages are cut here with the filters applied, so the browser never
 * receives the whole log; changes are batched into compact deltas at most every `throttleMs`.
 * I/O: reads the store through its subscription.
 */
import { clip, describeRequest } from '../present/text.ts';
import { decisionText, outcome, type Tone } from '../present/labels.ts';
import type { EventStore } from '../events/eventStore.ts';
import type { StoredEvent } from '../events/types.ts';
import { isFinalState } from '../machines/approval.machine.ts';
import { followProjection, type LiveProjection } from '../projections/liveProjection.ts';
import type { Projection } from '../projections/projection.ts';
import { requestsProjection, type RequestSummary, type RequestsDoc } from '../projections/requests.projection.ts';

/** One line of the request list; small on purpose (a page of 100 is a few tens of KB). */
export interface RequestRow {
  id: string;
  session: string;
  kind: 'exec' | 'patch';
  what: string;
  cwd: string;
  state: string;
  final: boolean;
  decision: string | null;
  source: string | null;
  decidedBy: string | null;
  /** Decisions warden refused for this request because a command it runs tried to make them. */
  refused: number;
  exitCode: number | null;
  requestedAt: string;
  finishedAt: string | null;
  /** How it ended or stands, in the shared words, with a tone (a non-zero exit is a failure). */
  outcome: { label: string; tone: Tone };
  decisionText: string;
}

export interface SessionRow {
  id: string;
  requests: number;
  pending: number;
  live: number;
  lastAt: string;
}

export interface Filters {
  session?: string;
  /** A state name, or `live` (not final) / `final`. */
  outcome?: string;
  /** A decision source, or `none` (no decision recorded). */
  source?: string;
  /** Substring of the command / patch description or the request id. */
  text?: string;
}

export interface RequestPage {
  rows: RequestRow[];
  /** Rows matching the filters (all pages). */
  total: number;
  offset: number;
  limit: number;
  position: number;
}

export interface Delta {
  position: number;
  counts: Record<string, number>;
  total: number;
  changed: RequestRow[];
  /** True when more requests changed than a delta carries: the page should refetch what it shows. */
  more: boolean;
  sessions: SessionRow[];
}

export const MAX_PAGE = 200;
export const DELTA_ROWS = 100;
const WHAT_MAX = 300;

export function describe(s: RequestSummary): string {
  return clip(describeRequest({ kind: s.kind, command: s.command, files: s.files }), WHAT_MAX);
}

export function toRow(s: RequestSummary): RequestRow {
  return {
    id: s.requestId,
    session: s.sessionId,
    kind: s.kind,
    what: describe(s),
    cwd: s.cwd,
    state: s.state,
    final: s.final,
    decision: s.decision,
    source: s.decisionSource,
    decidedBy: s.decidedBy,
    refused: s.refusals.length,
    exitCode: s.exitCode,
    requestedAt: s.requestedAt,
    finishedAt: s.finishedAt,
    outcome: outcome({ state: s.state, final: s.final, kind: s.kind, exitCode: s.exitCode, timedOut: s.timedOut, interrupted: s.interrupted }),
    decisionText: decisionText({ decision: s.decision, source: s.decisionSource, user: s.decidedBy, reason: s.decisionReason }),
  };
}

/** What the text filter searches: the request id and its description, lower-cased. */
export function searchText(s: RequestSummary): string {
  return `${s.requestId}\n${describe(s)}`.toLowerCase();
}

/** Whether a summary passes the filters; pure. `text` is searchText(s), passed in when cached. */
export function matches(s: RequestSummary, f: Filters, text?: string): boolean {
  if (f.session && s.sessionId !== f.session) return false;
  if (f.outcome) {
    if (f.outcome === 'live') {
      if (s.final) return false;
    } else if (f.outcome === 'final') {
      if (!s.final) return false;
    } else if (s.state !== f.outcome) return false;
  }
  if (f.source) {
    if (f.source === 'none' ? s.decisionSource !== null : s.decisionSource !== f.source) return false;
  }
  if (f.text) {
    if (!(text ?? searchText(s)).includes(f.text.toLowerCase())) return false;
  }
  return true;
}

interface SessionAcc {
  requests: number;
  pending: number;
  live: number;
  lastAt: string;
}

export class LiveRequests {
  private readonly live: LiveProjection<RequestsDoc>;
  /** Request ids in order of arrival (first event position): newest-first pages walk it backwards. */
  private readonly order: string[] = [];
  /** The state each request was counted under, to move it between counts. */
  private readonly counted = new Map<string, string>();
  /** searchText per request, so a text filter over 100,000 requests does not re-quote every command. */
  private readonly texts = new Map<string, string>();
  private readonly stateCounts = new Map<string, number>();
  private readonly sessionAcc = new Map<string, SessionAcc>();
  /** Requests touched by events not yet indexed. */
  private changed = new Set<string>();
  /** Requests indexed but not yet sent in a delta (a page request indexes without sending). */
  private unsent = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(d: Delta) => void>();

  constructor(
    store: EventStore,
    private readonly throttleMs = 250,
  ) {
    const changed = () => this.changed;
    // The requests projection, noting which request each event touched.
    const tracking: Projection<RequestsDoc> = {
      ...requestsProjection,
      evolve(doc: RequestsDoc, e: StoredEvent) {
        const next = requestsProjection.evolve(doc, e);
        changed().add(e.type === 'DecisionRefused' ? e.data.requestId : e.stream);
        return next;
      },
    };
    this.live = followProjection(store, tracking, () => this.schedule());
  }

  /** Resolves once everything stored when called has been folded and indexed. */
  async ready(): Promise<void> {
    await this.live.caughtUp();
    this.flush();
  }

  /** Resolves once everything stored when called has been folded (not yet sent as a delta). */
  async caughtUp(): Promise<void> {
    await this.live.caughtUp();
  }

  get position(): number {
    return this.live.position;
  }

  get(id: string): RequestSummary | undefined {
    return this.live.doc.byId.get(id);
  }

  counts(): Record<string, number> {
    return Object.fromEntries(this.stateCounts);
  }

  get total(): number {
    return this.order.length;
  }

  sessions(): SessionRow[] {
    return [...this.sessionAcc].map(([id, a]) => ({ id, ...a })).sort((a, b) => (a.lastAt < b.lastAt ? 1 : a.lastAt > b.lastAt ? -1 : 0));
  }

  /** Newest first, filters applied here; `limit` is capped at MAX_PAGE. */
  page(filters: Filters, offset = 0, limit = 100): RequestPage {
    this.index();
    const lim = Math.max(1, Math.min(MAX_PAGE, Math.floor(limit) || 100));
    const off = Math.max(0, Math.floor(offset) || 0);
    const rows: RequestRow[] = [];
    let total = 0;
    const byId = this.live.doc.byId;
    const unfiltered = !filters.session && !filters.outcome && !filters.source && !filters.text;
    if (unfiltered) {
      // No filter: the page is a slice of the arrival order, no scan.
      total = this.order.length;
      for (let i = total - 1 - off; i >= 0 && rows.length < lim; i--) rows.push(toRow(byId.get(this.order[i]!)!));
    } else {
      for (let i = this.order.length - 1; i >= 0; i--) {
        const s = byId.get(this.order[i]!)!;
        if (!matches(s, filters, this.texts.get(s.requestId))) continue;
        if (total >= off && rows.length < lim) rows.push(toRow(s));
        total++;
      }
    }
    return { rows, total, offset: off, limit: lim, position: this.live.position };
  }

  /** Receives a delta after each throttled batch of changes. */
  onDelta(listener: (d: Delta) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.live.close();
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.throttleMs);
  }

  /** Brings the indexes up to date with the changes folded so far. */
  private index(): void {
    if (this.changed.size === 0) return;
    const ids = [...this.changed];
    this.changed = new Set();
    for (const id of ids) {
      // re-insert so the set stays in order of the latest change
      this.unsent.delete(id);
      this.unsent.add(id);
    }
    const byId = this.live.doc.byId;
    for (const id of ids) {
      const s = byId.get(id);
      if (!s) continue; // events of a stream whose request was never announced
      const before = this.counted.get(id);
      let acc = this.sessionAcc.get(s.sessionId);
      if (!acc) this.sessionAcc.set(s.sessionId, (acc = { requests: 0, pending: 0, live: 0, lastAt: s.requestedAt }));
      if (before === undefined) {
        this.order.push(id);
        acc.requests++;
      } else {
        this.stateCounts.set(before, (this.stateCounts.get(before) ?? 1) - 1);
        if (before === 'awaitingDecision') acc.pending--;
        if (!isFinalState(before)) acc.live--;
      }
      this.counted.set(id, s.state);
      this.texts.set(id, searchText(s));
      this.stateCounts.set(s.state, (this.stateCounts.get(s.state) ?? 0) + 1);
      if (s.state === 'awaitingDecision') acc.pending++;
      if (!s.final) acc.live++;
      const last = s.finishedAt ?? s.requestedAt;
      if (last > acc.lastAt) acc.lastAt = last;
    }
  }

  private flush(): void {
    this.index();
    if (this.unsent.size === 0) return;
    const ids = [...this.unsent];
    this.unsent = new Set();
    if (this.listeners.size === 0) return;
    const byId = this.live.doc.byId;
    // The most recent changes matter most to a person watching.
    const recent = ids.slice(-DELTA_ROWS);
    const touchedSessions = new Set(ids.map((id) => byId.get(id)?.sessionId).filter((x): x is string => !!x));
    const delta: Delta = {
      position: this.live.position,
      counts: this.counts(),
      total: this.order.length,
      changed: recent.map((id) => byId.get(id)).filter((s): s is RequestSummary => !!s).map(toRow),
      more: ids.length > DELTA_ROWS,
      sessions: [...touchedSessions].slice(0, DELTA_ROWS).map((id) => ({ id, ...this.sessionAcc.get(id)! })),
    };
    for (const l of this.listeners) {
      try {
        l(delta);
      } catch {
        // a listener that throws (a closed response) must not stop the others
      }
    }
  }
}

