/**
 * The inspector's HTTP server (node:http, 127.0.0.1 only): the page and its two static files, a JSON
 * API cut into pages server-side, a server-sent-events feed of compact deltas, and the decide
 * endpoint, which records a decision exactly as `warden approve` does (`decideOutOfBand`). Every
 * request passes access.ts first. No asset comes from anywhere but this process.
 * I/O: listens on a port, reads and appends to the store.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { EventStore } from '../events/eventStore.ts';
import type { StoredEvent } from '../events/types.ts';
import { DECISIONS, DECISION_SOURCES, type Decision } from '../policy.ts';
import { approvalMachine, WAITING_STATES } from '../machines/approval.machine.ts';
import { decideOutOfBand, openQuestion } from '../requests/outOfBandDecision.ts';
import { logger } from '../log.ts';
import { peerDeciders } from './peer.ts';
import { COOKIE, HEADER, checkAccess, newToken } from './access.ts';
import { buildChartGraph } from './chartGraph.ts';
import { layoutChart, renderChartSvg } from './chartLayout.ts';
import { LiveRequests, toRow, type Filters } from './liveRequests.ts';
import { buildTimeline } from './timeline.ts';
import { labelTables, stateLabel } from '../present/labels.ts';
import { questionOfSummary, type Question } from '../present/question.ts';
import { cutDiff, diffStat } from '../safety/patch/unifiedDiff.ts';
import type { RequestSummary } from '../projections/requests.projection.ts';

export interface InspectServer {
  url: string;
  token: string;
  port: number;
  live: LiveRequests;
  close(): Promise<void>;
}

export interface InspectOptions {
  store: EventStore;
  port?: number;
  /** Delta throttle for the live feed. */
  throttleMs?: number;
  /** Who the decisions are recorded as (default: the OS user running the inspector). */
  user?: string;
}

const PAGE_DIR = new URL('./page/', import.meta.url);
const ASSETS: Record<string, { file: string; type: string }> = {
  '/static/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/static/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // the page URL carries the token: never send it onwards
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const BODY_MAX = 4096;
/** Diff lines sent to the page; a longer patch ends with a line counting what was left out. */
const DIFF_LINES = 400;

/** The question (or, once decided, the patch) as the page shows it: the same facts `warden approve` prints. */
function questionView(s: RequestSummary): (Omit<Question, 'diff'> & { diff: { stat: string; lines: Array<{ kind: string; text: string }> } | null }) {
  // The inspector records `approved_always` like `warden approve`: the process that asked writes the rule.
  const q = questionOfSummary(s, null);
  return { ...q, diff: q.diff ? { stat: diffStat(q.diff), lines: cutDiff(q.diff, DIFF_LINES).lines } : null };
}
const HEARTBEAT_MS = 15_000;

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_MAX) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function filtersFrom(q: URLSearchParams): Filters {
  const f: Filters = {};
  const session = q.get('session');
  const outcome = q.get('outcome');
  const source = q.get('source');
  const text = q.get('text');
  if (session) f.session = session;
  if (outcome) f.outcome = outcome;
  if (source) f.source = source;
  if (text) f.text = text.slice(0, 200);
  return f;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** Starts the server; resolves once it listens and the store has been folded up to its head. */
export async function startInspectServer(opts: InspectOptions): Promise<InspectServer> {
  const { store } = opts;
  const token = newToken();
  const user = opts.user ?? osUser();
  const graph = buildChartGraph(approvalMachine, WAITING_STATES);
  const chartSvg = renderChartSvg(await layoutChart(graph));
  const html = readFileSync(new URL('index.html', PAGE_DIR), 'utf8');
  const assets = new Map(Object.entries(ASSETS).map(([path, a]) => [path, { body: readFileSync(new URL(a.file, PAGE_DIR)), type: a.type }]));
  const live = new LiveRequests(store, opts.throttleMs ?? 250);
  const log = logger().child({ component: 'inspect' });
  const streams = new Set<ServerResponse>();
  let port = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error }, 'inspect request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const access = checkAccess(token, port, {
      method: req.method ?? 'GET',
      path: url.pathname,
      host: req.headers.host,
      origin: req.headers.origin,
      cookie: req.headers.cookie,
      header: typeof req.headers[HEADER] === 'string' ? req.headers[HEADER] : undefined,
      queryToken: url.searchParams.get('token'),
    });
    if (!access.ok) {
      log.warn({ path: url.pathname, status: access.status, why: access.why }, 'inspect request refused');
      send(res, access.status, 'text/plain; charset=utf-8', `${access.status}: ${access.why}. Open the URL printed by \`warden inspect\`.\n`);
      return;
    }
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') {
      // The token moves from the URL into an HttpOnly cookie scoped to this origin.
      send(res, 200, 'text/html; charset=utf-8', html, { 'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` });
      return;
    }
    const asset = req.method === 'GET' ? assets.get(path) : undefined;
    if (asset) return send(res, 200, asset.type, asset.body);
    if (req.method === 'GET' && path === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
    if (req.method === 'GET' && path === '/api/chart') return json(res, 200, { svg: chartSvg, graph });
    if (req.method === 'GET' && path === '/api/summary') {
      await live.ready();
      return json(res, 200, {
        store: store.location,
        user,
        position: live.position,
        total: live.total,
        counts: live.counts(),
        sessions: live.sessions().slice(0, 500),
        states: graph.nodes.map((n) => ({ id: n.id, label: stateLabel(n.id) })),
        sources: DECISION_SOURCES,
        labels: labelTables(),
      });
    }
    if (req.method === 'GET' && path === '/api/requests') {
      await live.ready();
      const q = url.searchParams;
      return json(res, 200, live.page(filtersFrom(q), Number(q.get('offset') ?? 0), Number(q.get('limit') ?? 100)));
    }
    if (req.method === 'GET' && path === '/api/events') return openFeed(req, res);
    const one = /^\/api\/requests\/([^/]+)$/.exec(path);
    const decide = /^\/api\/requests\/([^/]+)\/decide$/.exec(path);
    const rawId = (one ?? decide)?.[1];
    let id: string | null = null;
    try {
      id = rawId === undefined ? null : decodeURIComponent(rawId);
    } catch {
      return json(res, 400, { error: 'malformed request id' });
    }
    if (req.method === 'GET' && one && id) return detail(res, id);
    if (req.method === 'POST' && decide && id) return decideRequest(req, res, id);
    json(res, 404, { error: 'not found' });
  }

  /** The request's own events and the refusals recorded for it on streams of their own, in order. */
  async function withRefusals(events: StoredEvent[]): Promise<StoredEvent[]> {
    const id = events[0]!.stream;
    const refusals = (await store.readSession(events[0]!.sessionId)).filter((e) => e.type === 'DecisionRefused' && e.data.requestId === id);
    return [...events, ...refusals].sort((a, b) => a.position - b.position);
  }

  async function detail(res: ServerResponse, id: string): Promise<void> {
    const events = await store.read(id);
    if (events.length === 0) return json(res, 404, { error: `no request ${id}` });
    await live.ready();
    const s = live.get(id);
    const question = openQuestion(events);
    json(res, 200, {
      row: s ? toRow(s) : null,
      states: s?.states ?? [],
      reason: s?.reason ?? null,
      classification: s?.classification ? { outcome: s.classification.outcome, reason: s.classification.reason } : null,
      question: question ? { message: question.message, reason: question.reason, offered: question.offered } : null,
      // the question in the shared words (title, danger, where it runs, who asks, choices) and a patch's diff
      view: s ? questionView(s) : null,
      timeline: buildTimeline(await withRefusals(events)),
    });
  }

  async function decideRequest(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return json(res, 415, { error: 'send JSON' });
    let text: string;
    try {
      text = await readBody(req);
    } catch {
      return json(res, 413, { error: `body over ${BODY_MAX} bytes` });
    }
    let decision: unknown;
    try {
      decision = (JSON.parse(text) as { decision?: unknown } | null)?.decision;
    } catch {
      return json(res, 400, { error: 'malformed body' });
    }
    if (typeof decision !== 'string' || !(DECISIONS as readonly string[]).includes(decision)) {
      return json(res, 400, { error: `unknown decision ${JSON.stringify(decision)}` });
    }
    // judged by who sent it: the process at the other end of this connection (peer.ts)
    const deciders = peerDeciders(req.socket.remotePort, port);
    const result = await decideOutOfBand(store, id, decision as Decision, { user, via: 'warden inspect', deciders });
    if (!result.ok && result.reason === 'refused') {
      log.warn({ requestId: id, decision, reason: result.message }, 'decision from the inspector refused');
      return json(res, 403, { ok: false, reason: 'refused', error: result.message });
    }
    if (result.ok) {
      log.info({ requestId: id, decision, user }, 'decision recorded from the inspector');
      return json(res, 200, { ok: true, decision: result.recorded });
    }
    const status = result.reason === 'unknown-request' ? 404 : result.reason === 'not-offered' ? 400 : 409;
    const message = result.reason === 'already-decided' || result.reason === 'not-pending' ? 'already decided' : result.message;
    json(res, status, { ok: false, reason: result.reason, error: message, detail: result.message });
  }

  function openFeed(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write(`retry: 2000\n\nevent: hello\ndata: ${JSON.stringify({ position: live.position, counts: live.counts(), total: live.total })}\n\n`);
    streams.add(res);
    const off = live.onDelta((delta) => {
      res.write(`event: delta\ndata: ${JSON.stringify(delta)}\n\n`);
    });
    const beat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    beat.unref();
    const done = () => {
      off();
      clearInterval(beat);
      streams.delete(res);
    };
    req.on('close', done);
    res.on('error', done);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  await live.ready();

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    port,
    live,
    async close() {
      live.close();
      for (const s of streams) s.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
