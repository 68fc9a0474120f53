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
};

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
    g.querySelector('title').textContent = `${state}: ${n} request${n === 1 ? '' : 's'}`;
  }
  const waiting = ui.counts.awaitingDecision || 0;
  const banner = $('pending-banner');
  banner.hidden = waiting === 0;
  banner.textContent = `${waiting} waiting for a person`;
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

function decisionText(r) {
  if (!r.decision) return '';
  return `${r.decision} (${r.source}${r.decidedBy ? ` ${r.decidedBy}` : ''})`;
}

function rowEl(r, flash) {
  const tr = el('tr', { 'data-id': r.id, 'data-state': r.state, class: [r.id === ui.selected ? 'selected' : '', flash ? 'flash' : ''].join(' ').trim(), onclick: () => select(r.id) },
    el('td', { title: r.requestedAt, text: fmtTime(r.requestedAt) }),
    // the shared outcome words and tone: a run that exited non-zero is a failure, not a green "completed"
    el('td', {}, el('span', { class: `pill s-${r.state} tone-${r.outcome?.tone ?? 'plain'}`, title: r.state, text: r.outcome?.label ?? r.state })),
    el('td', { class: 'cmd', title: r.what, text: r.what }),
    el('td', { text: r.decisionText ?? decisionText(r) }),
    el('td', { text: r.exitCode === null ? '' : String(r.exitCode) }),
    el('td', { class: 'cmd sess', title: r.session, text: r.session }),
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
  await loadDetail();
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
  if (status === 200) ui.notice = { kind: 'ok', text: `Recorded: ${decision} by ${body.decision.user}.` };
  else if (status === 409) ui.notice = { kind: 'err', text: 'Already decided: someone answered this request first.' };
  else ui.notice = { kind: 'err', text: `Not recorded: ${body?.error ?? `HTTP ${status}`}` };
  await loadDetail();
}

const DECISION_LABELS = {
  approved: 'Approve',
  approved_for_session: 'Approve for session',
  approved_always: 'Always allow',
  denied: 'Deny',
  abort: 'Abort',
};

function renderDetail() {
  const box = $('detail');
  box.replaceChildren();
  const d = ui.detail;
  if (!d || !d.row) {
    box.append(el('div', { class: 'empty', text: ui.selected ? 'This request could not be loaded.' : 'Select a request to see its timeline.' }));
    return;
  }
  const r = d.row;
  box.append(el('h3', { text: r.what }));
  box.append(el('div', { class: 'sub', text: `${r.id} · session ${r.session} · ${r.cwd}` }));
  if (ui.notice) box.append(el('div', { class: `notice ${ui.notice.kind}`, role: 'status', text: ui.notice.text }));
  if (d.question && r.state === 'awaitingDecision') {
    const buttons = [];
    const row = el('div', { class: 'buttons' });
    for (const choice of d.question.offered) {
      const b = el('button', { type: 'button', 'data-decision': choice, text: DECISION_LABELS[choice] ?? choice, onclick: () => decide(choice, buttons) });
      buttons.push(b);
      row.append(b);
    }
    box.append(el('div', { class: 'ask' }, el('p', { text: d.question.message }), row));
  }
  const facts = el('dl', { class: 'facts' });
  const fact = (k, v) => v !== null && v !== undefined && v !== '' && facts.append(el('dt', { text: k }), el('dd', { text: String(v) }));
  fact('state', r.state);
  fact('classification', d.classification ? `${d.classification.outcome}: ${d.classification.reason}` : null);
  fact('decision', decisionText(r) || null);
  fact('exit code', r.exitCode);
  fact('reason', d.reason);
  fact('requested', r.requestedAt);
  fact('finished', r.finishedAt);
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
    wrap.append(el('span', { class: 'step', text: `path so far: ${states.join(' → ')}` }));
    return wrap;
  }
  const step = el('span', { class: 'step', id: 'replay-step' });
  const go = (i) => {
    ui.replay = { states, index: Math.max(0, Math.min(states.length - 1, i)), timer: ui.replay?.timer ?? null };
    step.replaceChildren(`step ${ui.replay.index + 1}/${states.length}: `, el('b', { text: states[ui.replay.index] }));
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
  ui.counts = body.counts;
  for (const s of body.sessions) ui.sessions.set(s.id, s);
  for (const state of body.states) $('f-outcome').append(el('option', { value: state, text: state }));
  for (const source of body.sources) $('f-source').append(el('option', { value: source, text: source }));
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
  openFeed();
}

start().catch((error) => {
  $('conn').className = 'conn down';
  $('conn').textContent = `error: ${error.message}`;
});
