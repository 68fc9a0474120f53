// warden inspect, the page. Plain browser JavaScript served by the inspector itself (no CDN, no
// build). Everything from the store is untrusted text (commands come from agents): it is only ever
// placed with textContent, never as HTML. The chart SVG is rendered by the server from the machine
// definition; this script only toggles classes on it.
'use strict';

const PAGE_SIZE = 100;
// The machine's final states, read from the chart's graph (the server derives it from the machine).
const FINAL = new Set();
const $ = (id) => document.getElementById(id);

const ui = {
  filters: { session: '', outcome: '', source: '', text: '' },
  offset: 0,
  rows: [],
  total: 0,
  counts: {},
  sessions: new Map(),
  selected: null,
  detail: null,
  notice: null,
  replay: null,
  stateEls: new Map(),
  edgeEls: [],
  // the shared words (src/present/labels.ts), sent by the server: the page keeps no copy of its own
  labels: { states: {}, decisions: {}, choices: {}, sources: {}, askReasons: {}, transitions: {} },
};

// A phone or a narrow split window: one column, a tapped row opens its detail below the list.
const narrow = () => window.matchMedia('(max-width: 900px)').matches;

function stateWord(state) {
  return ui.labels.states[state] ?? state;
}

/** A decision source in a few words ("nobody, in time"), for the filter. */
function sourceWord(source) {
  return (ui.labels.sources[source] ?? source).replace(/ \(.*\)$/, '');
}

async function api(path, init) {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  return { status: res.status, ok: res.ok, body };
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  const t = d.toLocaleTimeString([], { hour12: false });
  if (today) return t;
  const sameYear = d.getFullYear() === new Date().getFullYear();
  const day = `${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  return `${sameYear ? day : `${d.getFullYear()}-${day}`} ${t}`;
}

/** A full local time with its zone, for the facts a person may quote. */
function fmtFullTime(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString([], { hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
}

function fmtPreciseTime(iso) {
  const d = new Date(iso);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

// ---------------- the chart ----------------

async function loadChart() {
  const { body } = await api('/api/chart');
  const holder = $('chart');
  holder.innerHTML = body.svg; // server-rendered from the machine definition, XML-escaped there
  for (const g of holder.querySelectorAll('g.state')) ui.stateEls.set(g.dataset.state, g);
  ui.edgeEls = [...holder.querySelectorAll('g.edge')];
  for (const node of body.graph.nodes) if (node.kind === 'final') FINAL.add(node.id);
}

function compactCount(n) {
  if (n < 10000) return String(n);
  if (n < 1e6) return `${(n / 1000).toFixed(n < 1e5 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

function renderCounts() {
  for (const [state, g] of ui.stateEls) {
    const n = ui.counts[state] || 0;
    const badge = g.querySelector('.count');
    const label = compactCount(n);
    badge.querySelector('text').textContent = label;
    // the pill grows with the number, centred where the server put its text
    const w = Math.max(28, 14 + label.length * 8);
    const rect = badge.querySelector('rect');
    rect.setAttribute('width', String(w));
    rect.setAttribute('x', String(-12 - w / 2));
    badge.classList.toggle('zero', n === 0);
    g.classList.toggle('has-live', n > 0 && !FINAL.has(state));
    g.querySelector('title').textContent = `${stateWord(state)} (${state}): ${n} request${n === 1 ? '' : 's'}`;
  }
  renderStateChips();
  const waiting = ui.counts.awaitingDecision || 0;
  const banner = $('pending-banner');
  banner.hidden = waiting === 0;
  banner.textContent = `${waiting} waiting for a person`;
}

/**
 * The chart as a phone can read it: one chip per state with its count, in the chart's order;
 * tapping one lists the requests in that state. (Hidden on a wide screen, where the chart is legible.)
 */
function renderStateChips() {
  const box = $('state-chips');
  box.replaceChildren();
  for (const state of ui.stateEls.keys()) {
    const n = ui.counts[state] || 0;
    const classes = ['chip', n > 0 ? 'has' : 'none', state === 'awaitingDecision' ? 'wait' : '', FINAL.has(state) ? 'final' : 'live', ui.filters.outcome === state ? 'selected' : ''];
    box.append(
      el('button', { type: 'button', class: classes.join(' ').replace(/\s+/g, ' ').trim(), 'data-state': state, title: state, onclick: () => setFilter('outcome', ui.filters.outcome === state ? '' : state) },
        el('span', { class: 'chip-name', text: stateWord(state) }), ' ', el('b', { text: compactCount(n) })),
    );
  }
}

function clearChartMarks() {
  for (const g of ui.stateEls.values()) g.classList.remove('current', 'visited');
  for (const e of ui.edgeEls) {
    e.classList.remove('hot');
    e.querySelector('path').setAttribute('marker-end', 'url(#arrow)');
  }
  $('chart').querySelector('svg').classList.remove('replaying');
}

function markEdge(from, to) {
  const e = ui.edgeEls.find((x) => x.dataset.source === from && x.dataset.target === to);
  if (!e) return;
  e.classList.add('hot');
  e.querySelector('path').setAttribute('marker-end', 'url(#arrow-hot)');
}

/** The selected request's current state (live), or the replay's step. */
function renderChartSelection() {
  clearChartMarks();
  if (ui.replay) {
    const { states, index } = ui.replay;
    $('chart').querySelector('svg').classList.add('replaying');
    for (let i = 0; i <= index; i++) {
      ui.stateEls.get(states[i])?.classList.add(i === index ? 'current' : 'visited');
      if (i > 0) markEdge(states[i - 1], states[i]);
    }
    return;
  }
  const row = ui.detail?.row;
  if (row) ui.stateEls.get(row.state)?.classList.add('current');
}

// ---------------- sessions ----------------

function renderSessions() {
  const box = $('sessions');
  box.replaceChildren();
  const list = [...ui.sessions.values()].sort((a, b) => (a.lastAt < b.lastAt ? 1 : -1));
  box.append(
    el('button', { type: 'button', class: ui.filters.session === '' ? 'selected' : '', onclick: () => setFilter('session', '') },
      el('span', { class: 'sid', text: 'all sessions' }),
      el('span', { class: 'meta', text: `${list.length} session${list.length === 1 ? '' : 's'}` })),
  );
  for (const s of list.slice(0, 300)) {
    const meta = el('span', { class: 'meta' }, `${s.requests} request${s.requests === 1 ? '' : 's'}`);
    if (s.pending > 0) meta.append(' · ', el('b', { text: `${s.pending} waiting` }));
    else if (s.live > 0) meta.append(` · ${s.live} live`);
    meta.append(` · ${fmtTime(s.lastAt)}`);
    box.append(
      el('button', { type: 'button', title: s.id, 'data-session': s.id, class: ui.filters.session === s.id ? 'selected' : '', onclick: () => setFilter('session', ui.filters.session === s.id ? '' : s.id) },
        el('span', { class: 'sid', text: s.id }), meta),
    );
  }
}

// ---------------- request list ----------------

function query() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(ui.filters)) if (v) q.set(k, v);
  q.set('offset', String(ui.offset));
  q.set('limit', String(PAGE_SIZE));
  return q.toString();
}

async function loadPage() {
  const { body } = await api(`/api/requests?${query()}`);
  if (!body) return;
  ui.rows = body.rows;
  ui.total = body.total;
  renderRows();
}

function rowEl(r, flash) {
  // Columns that matter first: what ran and how it ended, then who decided; the session and the
  // directory ride under the command, so nothing sits behind a sideways scroll.
  const tr = el('tr', { 'data-id': r.id, 'data-state': r.state, tabindex: '0', class: [r.id === ui.selected ? 'selected' : '', flash ? 'flash' : ''].join(' ').trim(), onclick: () => select(r.id), onkeydown: (e) => e.key === 'Enter' && select(r.id) },
    el('td', { class: 'when', title: fmtFullTime(r.requestedAt), text: fmtTime(r.requestedAt) }),
    // the shared outcome words and tone: a run that exited non-zero is a failure, not a green "completed"
    el('td', { class: 'state' }, el('span', { class: `pill s-${r.state} tone-${r.outcome?.tone ?? 'plain'}`, title: `${r.state}${r.exitCode === null ? '' : `, exit code ${r.exitCode}`}`, text: r.outcome?.label ?? stateWord(r.state) })),
    el('td', { class: 'cmd' }, el('span', { class: 'what', title: r.what, text: r.what }), el('span', { class: 'where', title: `${r.session} · ${r.cwd}`, text: `${r.session} · ${r.cwd}` })),
    // a refused self-decision is the thing to look at first, so the row says so beside the decision
    el('td', { class: 'dec', text: r.refused > 0 ? `${r.decisionText || ''}${r.decisionText ? ' · ' : ''}${r.refused} decision(s) refused` : r.decisionText }),
  );
  return tr;
}

function renderRows(flashIds) {
  const body = $('rows');
  body.replaceChildren(...ui.rows.map((r) => rowEl(r, flashIds?.has(r.id))));
  $('rows-empty').hidden = ui.rows.length > 0;
  const from = ui.total === 0 ? 0 : ui.offset + 1;
  $('page-info').textContent = `${from}–${ui.offset + ui.rows.length} of ${ui.total.toLocaleString()}`;
  $('prev').disabled = ui.offset === 0;
  $('next').disabled = ui.offset + ui.rows.length >= ui.total;
  $('total').textContent = `${ui.total.toLocaleString()} matching`;
}

function matchesFilters(r) {
  const f = ui.filters;
  if (f.session && r.session !== f.session) return false;
  if (f.outcome === 'live' && r.final) return false;
  if (f.outcome === 'final' && !r.final) return false;
  if (f.outcome && f.outcome !== 'live' && f.outcome !== 'final' && r.state !== f.outcome) return false;
  if (f.source === 'none' && r.source !== null) return false;
  if (f.source && f.source !== 'none' && r.source !== f.source) return false;
  if (f.text && !r.id.toLowerCase().includes(f.text.toLowerCase()) && !r.what.toLowerCase().includes(f.text.toLowerCase())) return false;
  return true;
}

function setFilter(key, value) {
  ui.filters[key] = value;
  ui.offset = 0;
  syncFilterInputs();
  renderSessions();
  renderStateChips();
  void loadPage();
}

function syncFilterInputs() {
  $('f-outcome').value = ui.filters.outcome;
  $('f-source').value = ui.filters.source;
  if ($('f-text').value !== ui.filters.text) $('f-text').value = ui.filters.text;
}

// ---------------- one request ----------------

async function select(id) {
  ui.selected = id;
  ui.notice = null;
  stopReplay();
  for (const tr of $('rows').children) tr.classList.toggle('selected', tr.dataset.id === id);
  document.body.classList.add('has-detail');
  await loadDetail();
  // on a phone the detail sits under the list: bring it to the finger
  if (narrow()) $('detail-panel').scrollIntoView({ block: 'start' });
}

function closeDetail() {
  const id = ui.selected;
  ui.selected = null;
  ui.detail = null;
  stopReplay();
  document.body.classList.remove('has-detail');
  renderDetail();
  renderChartSelection();
  for (const tr of $('rows').children) tr.classList.remove('selected');
  const row = id && [...$('rows').children].find((tr) => tr.dataset.id === id);
  if (row && narrow()) row.scrollIntoView({ block: 'center' });
}

async function loadDetail() {
  if (!ui.selected) return;
  const id = ui.selected;
  const { status, body } = await api(`/api/requests/${encodeURIComponent(id)}`);
  if (ui.selected !== id) return;
  ui.detail = status === 200 ? body : null;
  renderDetail();
  renderChartSelection();
}

async function decide(decision, buttons) {
  for (const b of buttons) b.disabled = true;
  const id = ui.selected;
  const { status, body } = await api(`/api/requests/${encodeURIComponent(id)}/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decision }),
  });
  if (status === 200) ui.notice = { kind: 'ok', text: `Recorded: ${ui.labels.decisions[decision] ?? decision} by ${body.decision.user}.` };
  else if (status === 409) ui.notice = { kind: 'err', text: 'Already decided: someone answered this request first.' };
  else ui.notice = { kind: 'err', text: `Not recorded: ${body?.error ?? `HTTP ${status}`}` };
  await loadDetail();
}

/** A patch's unified diff, one span per line, coloured by kind; text only (it is the agent's). */
function diffEl(diff) {
  const pre = el('pre', { class: 'diff' });
  for (const l of diff.lines) pre.append(el('span', { class: `d-${l.kind}`, text: l.text }), '\n');
  return el('div', { class: 'diff-box' }, el('div', { class: 'diff-stat', text: `Changes: ${diff.stat}` }), pre);
}

/** The question as `warden approve` shows it: title, command, danger, why, where it runs, who asks. */
function questionEl(q, pending) {
  const box = el('div', { class: `ask${q.dangerous ? ' danger' : ''}${pending ? '' : ' past'}` });
  if (pending) box.append(el('div', { class: 'q-title', text: q.title }));
  if (q.command !== null) box.append(el('pre', { class: 'q-cmd', text: `$ ${q.command}` }));
  if (q.dangerous) box.append(el('p', { class: 'q-danger', text: `Dangerous: ${q.detail ?? q.why}` }));
  const facts = el('dl', { class: 'facts q-facts' });
  const fact = (k, v) => v && facts.append(el('dt', { text: k }), el('dd', { text: v }));
  if (pending) fact('why asked', `${q.why}${q.detail && !q.dangerous ? ` (${q.detail})` : ''}`);
  fact('sandbox denied', q.escalation);
  fact("agent's reason", q.justification);
  fact('where it runs', q.where);
  fact('directory', q.cwd);
  fact('asked by', q.asker);
  if (q.files.length > 0) fact('files', q.files.join(', '));
  // the edit itself first: it is what a person approves, so it should not sit below the fold
  if (q.diff) box.append(diffEl(q.diff));
  box.append(facts);
  return box;
}

function renderDetail() {
  const box = $('detail');
  box.replaceChildren();
  const d = ui.detail;
  if (!d || !d.row) {
    box.append(el('div', { class: 'empty', text: ui.selected ? 'This request could not be loaded.' : 'Select a request to see its timeline.' }));
    return;
  }
  const r = d.row;
  box.append(el('button', { type: 'button', class: 'back', id: 'detail-back', onclick: closeDetail, text: '← back to the list' }));
  box.append(el('h3', { text: r.what }));
  box.append(el('div', { class: 'sub', text: `${r.id} · session ${r.session} · ${r.cwd}` }));
  if (ui.notice) box.append(el('div', { class: `notice ${ui.notice.kind}`, role: 'status', text: ui.notice.text }));
  const pending = !!d.question && r.state === 'awaitingDecision';
  if (d.view && (pending || d.view.diff)) {
    const ask = questionEl(d.view, pending);
    if (pending) {
      const buttons = [];
      const row = el('div', { class: 'buttons' });
      const labelOf = new Map(d.view.choices.map((c) => [c.decision, c.label]));
      for (const choice of d.question.offered) {
        const b = el('button', {
          type: 'button',
          'data-decision': choice,
          class: choice === d.view.defaultDecision ? 'default' : '',
          text: labelOf.get(choice) ?? ui.labels.choices[choice] ?? choice,
          onclick: () => decide(choice, buttons),
        });
        buttons.push(b);
        row.append(b);
      }
      ask.append(row);
    }
    box.append(ask);
  }
  const facts = el('dl', { class: 'facts' });
  const fact = (k, v) => v !== null && v !== undefined && v !== '' && facts.append(el('dt', { text: k }), el('dd', { text: String(v) }));
  fact('outcome', r.outcome?.label ?? stateWord(r.state));
  fact('classification', d.classification ? `${d.classification.outcome}: ${d.classification.reason}` : null);
  fact('decision', r.decisionText || null);
  fact('refused decisions', r.refused > 0 ? `${r.refused}: a process warden runs tried to decide (see the timeline)` : null);
  fact('exit code', r.exitCode);
  fact('reason', d.reason);
  fact('requested', fmtFullTime(r.requestedAt));
  fact('finished', fmtFullTime(r.finishedAt));
  box.append(facts);
  box.append(replayControls(d.states, r.final));
  const ol = el('ol', { class: 'timeline' });
  for (const t of d.timeline) {
    const li = el('li', { class: `t-${t.type}` },
      el('span', { class: 'when', title: t.time, text: fmtPreciseTime(t.time) }), ' ',
      el('span', { class: 'what', text: t.title }));
    for (const line of t.details) li.append(el('div', { class: 'details', text: line }));
    if (t.stdout) li.append(el('div', { class: 'stream-label', text: 'stdout (excerpt)' }), el('pre', { class: 'output', text: t.stdout }));
    if (t.stderr) li.append(el('div', { class: 'stream-label', text: 'stderr (excerpt)' }), el('pre', { class: 'output stderr', text: t.stderr }));
    ol.append(li);
  }
  box.append(el('div', { class: 'details' }, el('b', { text: 'Timeline' })), ol);
}

// ---------------- replay ----------------

function replayControls(states, final) {
  const wrap = el('div', { class: 'replay', id: 'replay' });
  if (!final) {
    wrap.append(el('span', { class: 'step', text: `path so far: ${states.map(stateWord).join(' → ')}` }));
    return wrap;
  }
  const step = el('span', { class: 'step', id: 'replay-step' });
  const go = (i) => {
    ui.replay = { states, index: Math.max(0, Math.min(states.length - 1, i)), timer: ui.replay?.timer ?? null };
    const at = states[ui.replay.index];
    step.replaceChildren(`step ${ui.replay.index + 1}/${states.length}: `, el('b', { title: at, text: stateWord(at) }), el('span', { class: 'internal-name', text: ` (${at})` }));
    renderChartSelection();
  };
  const play = () => {
    stopReplay();
    go(0);
    ui.replay.timer = setInterval(() => {
      if (!ui.replay) return;
      if (ui.replay.index >= states.length - 1) {
        clearInterval(ui.replay.timer);
        ui.replay.timer = null;
        return;
      }
      go(ui.replay.index + 1);
    }, 700);
  };
  wrap.append(
    el('b', { text: 'Replay' }),
    el('button', { type: 'button', id: 'replay-play', title: 'play from the start', onclick: play, text: '▶ play' }),
    el('button', { type: 'button', id: 'replay-prev', onclick: () => go((ui.replay?.index ?? 1) - 1), text: '◀ step' }),
    el('button', { type: 'button', id: 'replay-next', onclick: () => go(ui.replay ? ui.replay.index + 1 : 0), text: 'step ▶' }),
    el('button', { type: 'button', id: 'replay-stop', onclick: () => { stopReplay(); step.textContent = ''; renderChartSelection(); }, text: 'stop' }),
    step,
  );
  return wrap;
}

function stopReplay() {
  if (ui.replay?.timer) clearInterval(ui.replay.timer);
  ui.replay = null;
}

// ---------------- live feed ----------------

function applyDelta(delta) {
  ui.counts = delta.counts;
  renderCounts();
  for (const s of delta.sessions) ui.sessions.set(s.id, s);
  renderSessions();
  if (delta.more) {
    void loadPage();
  } else {
    const flash = new Set();
    let touched = false;
    for (const r of delta.changed) {
      const at = ui.rows.findIndex((x) => x.id === r.id);
      if (at >= 0) {
        if (matchesFilters(r)) ui.rows[at] = r;
        else ui.rows.splice(at, 1), ui.total--;
        flash.add(r.id);
        touched = true;
      } else if (ui.offset === 0 && matchesFilters(r)) {
        ui.rows.unshift(r);
        ui.total++;
        flash.add(r.id);
        touched = true;
      }
    }
    if (touched) {
      ui.rows.sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : a.requestedAt > b.requestedAt ? -1 : 0));
      ui.rows = ui.rows.slice(0, PAGE_SIZE);
      renderRows(flash);
    }
  }
  if (ui.selected && delta.changed.some((r) => r.id === ui.selected) && !ui.replay) void loadDetail();
}

function openFeed() {
  const conn = $('conn');
  const es = new EventSource('/api/events');
  es.addEventListener('hello', (m) => {
    conn.className = 'conn live';
    conn.textContent = 'live';
    const h = JSON.parse(m.data);
    ui.counts = h.counts;
    renderCounts();
    // (Re)connected: whatever changed while the feed was not open is in a fresh page.
    void loadPage().then(() => {
      if (ui.selected && !ui.replay) void loadDetail();
      document.body.dataset.ready = 'true';
    });
  });
  es.addEventListener('delta', (m) => applyDelta(JSON.parse(m.data)));
  es.onerror = () => {
    conn.className = 'conn down';
    conn.textContent = 'reconnecting';
  };
}

// ---------------- start ----------------

async function start() {
  await loadChart();
  const { body } = await api('/api/summary');
  $('store').textContent = `${body.store} · deciding as ${body.user}`;
  $('store').title = $('store').textContent;
  ui.labels = body.labels;
  ui.counts = body.counts;
  for (const s of body.sessions) ui.sessions.set(s.id, s);
  for (const state of body.states) $('f-outcome').append(el('option', { value: state.id, text: state.label }));
  for (const source of body.sources) $('f-source').append(el('option', { value: source, text: sourceWord(source) }));
  renderCounts();
  renderSessions();
  $('f-outcome').addEventListener('change', (e) => setFilter('outcome', e.target.value));
  $('f-source').addEventListener('change', (e) => setFilter('source', e.target.value));
  let typing = null;
  $('f-text').addEventListener('input', (e) => {
    clearTimeout(typing);
    typing = setTimeout(() => setFilter('text', e.target.value.trim()), 250);
  });
  $('f-clear').addEventListener('click', () => {
    ui.filters = { session: '', outcome: '', source: '', text: '' };
    setFilter('text', '');
  });
  $('prev').addEventListener('click', () => { ui.offset = Math.max(0, ui.offset - PAGE_SIZE); void loadPage(); });
  $('next').addEventListener('click', () => { ui.offset += PAGE_SIZE; void loadPage(); });
  $('pending-banner').addEventListener('click', () => setFilter('outcome', 'awaitingDecision'));
  $('fit-toggle').addEventListener('click', (e) => {
    const fit = $('chart').classList.toggle('fit');
    e.target.textContent = fit ? 'actual size' : 'fit to width';
  });
  // The chart and the replay speak in words; the machine's own names are one click away.
  $('names-toggle').addEventListener('click', (e) => {
    const internal = document.body.classList.toggle('internal-names');
    e.target.textContent = internal ? 'plain words' : 'internal names';
    e.target.setAttribute('aria-pressed', String(internal));
  });
  openFeed();
}

start().catch((error) => {
  $('conn').className = 'conn down';
  $('conn').textContent = `error: ${error.message}`;
});
