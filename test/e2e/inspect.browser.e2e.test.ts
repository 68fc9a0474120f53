/**
 * `warden inspect` end to end: a real server process, real headless Chromium (playwright-core with
 * the system's /usr/bin/chromium), real `warden exec` processes on the same SQLite store. The chart
 * shows every state of the machine definition; requests appear and move live; a pending request
 * decided from the page lets the waiting exec proceed; no token, no page; a foreign Origin cannot
 * decide. Screenshots land in test-artifacts/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { approvalMachine } from '../../src/machines/approval.machine.ts';
import { STATE_LABELS, TRANSITION_LABELS } from '../../src/present/labels.ts';
import { onTerminalArgs } from '../support/cli.ts';
import { RawClient } from './mcp.harness.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const WARDEN = join(ROOT, 'bin/warden.js');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROME_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Http {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Http> {
  return new Promise((resolveP, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolveP({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolveP, reject) => {
    if (child.exitCode !== null) return resolveP(child.exitCode);
    const timer = setTimeout(() => reject(new Error(`process did not exit within ${ms} ms`)), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveP(code);
    });
  });
}

describe('warden inspect in a real browser', () => {
  let dir: string;
  let work: string;
  let storePath: string;
  let server: ChildProcess;
  let url: string;
  let base: string;
  let token: string;
  let context: BrowserContext;
  let page: Page;
  const children: ChildProcess[] = [];
  const env = { ...process.env, WARDEN_LOG: 'silent', WARDEN_SESSION: 'e2e-default' };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'warden-inspect-'));
    work = join(dir, 'work');
    mkdirSync(work);
    storePath = join(dir, 'events.db');
    // one finished request before the inspector starts
    const first = spawnSync(process.execPath, [WARDEN, 'exec', '--store', storePath, '--session', 'before', '--', 'ls'], { cwd: work, env, encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    server = spawn(process.execPath, [WARDEN, 'inspect', '--port', '0', '--store', storePath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((resolveP, reject) => {
      let out = '';
      server.stdout!.on('data', (c) => {
        out += c;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolveP(out.slice(0, nl));
      });
      server.once('exit', (code) => reject(new Error(`inspect exited early (${code})`)));
    });
    const u = new URL(url);
    base = u.origin;
    token = u.searchParams.get('token') ?? '';
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROME_ARGS,
      viewport: { width: 1280, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // nothing may be fetched from anywhere but the inspector
    await context.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  });

  after(async () => {
    await context?.close();
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await waitExit(server, 5000).catch(() => server.kill('SIGKILL'));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('the first line of stdout is a 127.0.0.1 URL with a random token', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  test('no token, no page: 401 for the page and the API', async () => {
    const plain = await http(`${base}/`);
    assert.equal(plain.status, 401);
    assert.ok(!plain.body.includes('<html'), 'no page is served');
    const wrong = await http(`${base}/?token=${token.slice(0, -1)}x`);
    assert.equal(wrong.status, 401);
    for (const path of ['/api/requests', '/api/summary', '/api/chart', '/api/events', '/static/app.js']) {
      assert.equal((await http(`${base}${path}`)).status, 401, path);
    }
    const resp = await page.goto(`${base}/`);
    assert.equal(resp?.status(), 401);
    assert.equal(await page.locator('#chart').count(), 0);
    // a foreign Host (DNS rebinding) is refused even with the token
    assert.equal((await http(`${base}/?token=${token}`, { headers: { host: 'evil.example' } })).status, 403);
  });

  test('the chart shows every state of the machine definition as SVG', async () => {
    const resp = await page.goto(url);
    assert.equal(resp?.status(), 200);
    assert.match(String(resp?.headers()['content-security-policy']), /default-src 'none'/);
    await page.waitForSelector('body[data-ready="true"]');
    // plain words by default: every state by its label, the machine's names hidden
    for (const state of Object.keys(approvalMachine.root.states)) {
      const node = page.locator(`#chart svg g.state[data-state="${state}"]`);
      await node.waitFor({ state: 'visible' });
      assert.equal(await node.locator('text.state-name.n-plain').textContent(), STATE_LABELS[state] ?? state);
      assert.equal(await node.locator('text.state-name.n-plain').isVisible(), true, state);
      assert.equal(await node.locator('text.state-name.n-internal').isVisible(), false, state);
    }
    const visibleLabels = async () =>
      page.locator('#chart svg text.edge-label').evaluateAll((ts) => ts.filter((t) => getComputedStyle(t).display !== 'none').map((t) => t.textContent ?? ''));
    // a label may break over two lines (tspans), so compare without spaces
    const squash = (t: string) => t.replace(/\s+/g, '');
    const plain = (await visibleLabels()).map(squash);
    for (const internal of ['done.classify [isSandboxedAttempt]', 'done.decide [isApproval]', 'done.runSandboxed [isEscalatableDenial]']) {
      assert.ok(plain.includes(squash(TRANSITION_LABELS[internal]!)), `${TRANSITION_LABELS[internal]} in ${plain.join(' | ')}`);
    }
    assert.ok(!plain.some((l) => /done\.|error\.|\[is/.test(l)), `no machine names by default: ${plain.join(' | ')}`);
    await page.locator('#chart-panel').screenshot({ path: join(ARTIFACTS, 'inspect-chart-plain.png') });
    // the toggle shows the machine's own names, and back
    await page.click('#names-toggle');
    for (const state of Object.keys(approvalMachine.root.states)) {
      assert.equal(await page.locator(`#chart svg g.state[data-state="${state}"] text.state-name.n-internal`).textContent(), state);
    }
    const edgeLabels = await visibleLabels();
    assert.ok(edgeLabels.some((l) => l.includes('done.classify') && l.includes('[isSandboxedAttempt]')), edgeLabels.join(' | '));
    assert.ok(!edgeLabels.map(squash).includes(squash(TRANSITION_LABELS['done.decide [isApproval]']!)));
    assert.ok(await page.locator('#chart svg g.state.kind-waiting[data-state="awaitingDecision"]').count());
    assert.equal(await page.locator('#chart svg g.state.kind-final').count(), 4);
    // the request made before the inspector started is counted in its final state
    assert.equal(await page.locator('#chart g.state[data-state="completed"] .count text').textContent(), '1');
    await page.locator('#chart-panel').screenshot({ path: join(ARTIFACTS, 'inspect-chart.png') });
    await page.click('#names-toggle');
    assert.equal(await page.locator('#names-toggle').getAttribute('aria-pressed'), 'false');
  });

  test('a request started by warden exec appears live and reaches its final state without a reload', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.evaluate(() => ((window as unknown as { __sameDocument: number }).__sameDocument = 42));
    const exec = spawn(process.execPath, [WARDEN, 'exec', '--store', storePath, '--session', 'live-e2e', '--', 'sh', '-c', 'sleep 6; echo hi from the sandbox'], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(exec);
    let execOutput = '';
    exec.stdout!.on('data', (c: Buffer) => (execOutput += c.toString()));
    exec.stderr!.on('data', (c: Buffer) => (execOutput += c.toString()));
    const row = page.locator('#rows tr', { hasText: 'sleep 6' });
    // Seen while it is still running (a live state), then in its final state. A cold start of the
    // CLI beside other test files can take many seconds on two cores, hence the long wait.
    await row
      .and(page.locator('tr[data-state="sandboxedRun"]'))
      .waitFor({ timeout: 60_000 })
      .catch(async (error: unknown) => {
        const shown = await page.locator('#rows').innerText().catch(() => '?');
        throw new Error(`${String(error)}\nexec exit ${exec.exitCode}, output: ${execOutput}\nrows: ${shown}`);
      });
    assert.equal(exec.exitCode, null, 'the exec is still running while the page shows it');
    assert.match(String(await page.locator('#chart g.state[data-state="sandboxedRun"]').getAttribute('class')), /has-live/);
    assert.equal(await waitExit(exec, 30_000), 0);
    await row.and(page.locator('tr[data-state="completed"]')).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { __sameDocument?: number }).__sameDocument), 42, 'no reload happened');
    assert.equal(await page.locator('#chart g.state[data-state="completed"] .count text').textContent(), '2');
    assert.ok(await page.locator('#sessions button[data-session="live-e2e"]').count());

    // its timeline, and a replay of its states on the chart
    await row.click();
    await page.locator('#detail ol.timeline li.t-SandboxRunFinished').waitFor();
    const detail = await page.locator('#detail').innerText();
    assert.match(detail, /checked: allowed without asking \(auto-approve\)/);
    assert.match(detail, /decision: approved once \(approved\)/);
    assert.match(detail, /source: policy/);
    assert.match(detail, /exit code 0/);
    assert.match(detail, /hi from the sandbox/);
    assert.match(String(await page.locator('#chart g.state[data-state="completed"]').getAttribute('class')), /current/);
    await page.screenshot({ path: join(ARTIFACTS, 'inspect-timeline.png') });
    // the whole timeline, output excerpt included, on a taller window
    await page.setViewportSize({ width: 1280, height: 1500 });
    await page.locator('#detail').screenshot({ path: join(ARTIFACTS, 'inspect-timeline-panel.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click('#replay-next');
    await page.click('#replay-next');
    assert.match(await page.locator('#replay-step').innerText(), /step 2\/\d+: being checked/);
    assert.match(String(await page.locator('#chart g.state[data-state="classifying"]').getAttribute('class')), /current/);
    assert.match(String(await page.locator('#chart g.state[data-state="received"]').getAttribute('class')), /visited/);
    await page.click('#replay-next');
    assert.match(await page.locator("#replay-step").innerText(), /trying in the sandbox/);
    assert.equal(await page.locator('#chart g.edge.hot[data-source="classifying"][data-target="sandboxedRun"]').count(), 1);
    await page.screenshot({ path: join(ARTIFACTS, 'inspect-replay.png') });

    // filters are applied by the server
    await page.selectOption('#f-outcome', 'completed');
    await page.locator('#page-info', { hasText: 'of 2' }).waitFor();
    await page.click('#sessions button[data-session="live-e2e"]');
    await page.locator('#page-info', { hasText: '1–1 of 1' }).waitFor();
    await page.selectOption('#f-source', 'user');
    await page.locator('#rows-empty').waitFor({ state: 'visible' });
    await page.click('#f-clear');
  });

  test('a pending request decided from the page lets the waiting exec proceed', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    // `warden exec` asks only on a terminal: give it one with script(1); nobody types into it.
    const argv = [process.execPath, WARDEN, 'exec', '--store', storePath, '--session', 'pending-e2e', '--approval', 'untrusted', '--decision-timeout', '60', '--', 'touch', 'x'];
    const exec = spawn('script', onTerminalArgs(argv), { cwd: work, env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(exec);
    let out = '';
    exec.stdout!.on('data', (c) => (out += c));
    const row = page.locator('#rows tr[data-state="awaitingDecision"]', { hasText: 'touch x' });
    await row.waitFor({ timeout: 15_000 });
    await page.locator('#pending-banner', { hasText: '1 waiting for a person' }).waitFor();
    assert.match(String(await page.locator('#chart g.state[data-state="awaitingDecision"]').getAttribute('class')), /has-live/);
    await row.click();
    const ask = page.locator('#detail .ask');
    await ask.waitFor();
    const asked = await ask.innerText();
    assert.match(asked, /Run this command\?/);
    assert.match(asked, /\$ touch x/);
    assert.match(asked, /where it runs\s+in the workspace-write sandbox/);
    assert.match(asked, /asked by\s+a terminal \(warden exec/);
    assert.match(await ask.locator('button[data-decision="approved_for_session"]').innerText(), /don't ask again for exactly this command/);
    for (const d of ['approved', 'approved_for_session', 'denied', 'abort']) assert.equal(await ask.locator(`button[data-decision="${d}"]`).count(), 1, d);
    assert.equal(existsSync(join(work, 'x')), false, 'nothing ran before the decision');
    await page.screenshot({ path: join(ARTIFACTS, 'inspect-pending.png') });
    const id = await row.getAttribute('data-id');
    assert.ok(id);

    // a foreign Origin cannot decide it, nor can a POST without Origin
    const cookie = { 'content-type': 'application/json', 'x-warden-token': token };
    const body = JSON.stringify({ decision: 'denied' });
    const foreign = await http(`${base}/api/requests/${id}/decide`, { method: 'POST', headers: { ...cookie, origin: 'http://evil.example' }, body });
    assert.equal(foreign.status, 403);
    assert.equal((await http(`${base}/api/requests/${id}/decide`, { method: 'POST', headers: cookie, body })).status, 403);

    await ask.locator('button[data-decision="approved"]').click();
    await page.locator('#detail .notice.ok', { hasText: 'Recorded: approved once by' }).waitFor();
    assert.equal(await waitExit(exec, 30_000), 0, out);
    assert.equal(existsSync(join(work, 'x')), true, 'the approved command ran');
    await page.locator('#rows tr[data-state="completed"]', { hasText: 'touch x' }).waitFor({ timeout: 10_000 });

    const audit = spawnSync(process.execPath, [WARDEN, 'audit', '--json', '--store', storePath, '--session', 'pending-e2e'], { env, encoding: 'utf8' });
    const rowJson = JSON.parse(audit.stdout.trim().split('\n').at(-1)!);
    assert.equal(rowJson.outcome, 'completed');
    assert.equal(rowJson.decision, 'approved');
    assert.equal(rowJson.decision_source, 'user');
    assert.equal(rowJson.decided_by, userInfo().username);

    // answering again is a conflict: "already decided"
    const again = await page.evaluate(async (rid) => {
      const r = await fetch(`/api/requests/${rid}/decide`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'denied' }) });
      return { status: r.status, body: await r.json() };
    }, id);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'already decided');
  });

  test('a patch waiting for a person shows its diff; on a phone the page fits, a tap opens it, a decision from the phone applies it', async () => {
    writeFileSync(join(work, 'readme.txt'), 'hello\nold line\nbye\n');
    const rulesPath = join(dir, 'rules.toml');
    writeFileSync(rulesPath, '');
    // an MCP client without elicitation: the question waits for the inspector
    const client = new RawClient(
      { dir, ws: work, storePath, rulesPath },
      // through a stand-in client: the browsers this test process launches are the person's, not the client's tools
      { elicitation: false, args: ['--approval', 'untrusted', '--decision-timeout', '120'], env: { WARDEN_LOG: 'silent' }, viaClient: true },
    );
    const init = await client.initialize();
    assert.ok(!init.error, JSON.stringify(init.error));
    const applied = client.call('apply_patch', { patch: '*** Begin Patch\n*** Update File: readme.txt\n@@\n hello\n-old line\n+new line\n bye\n*** End Patch\n' });
    let phoneBrowser: Awaited<ReturnType<typeof chromium.launch>> | null = null;
    try {
      // the laptop: the diff in the request panel, nothing hidden sideways
      await page.goto(url);
      await page.waitForSelector('body[data-ready="true"]');
      const row = page.locator('#rows tr[data-state="awaitingDecision"]', { hasText: 'readme.txt' });
      await row.waitFor({ timeout: 30_000 });
      await row.click();
      const diff = page.locator('#detail .ask pre.diff');
      await diff.waitFor();
      const diffText = await diff.innerText();
      assert.match(diffText, /^--- readme\.txt$/m);
      assert.match(diffText, /^-old line$/m);
      assert.match(diffText, /^\+new line$/m);
      const patchAsk = await page.locator('#detail .ask').innerText();
      assert.match(patchAsk, /Apply these edits\?/);
      assert.match(patchAsk, /asked by\s+an MCP client that calls itself "raw-test-client" \(warden serve, pid \d+/);
      assert.equal(await diff.locator('span.d-add').count(), 1);
      assert.equal(await diff.locator('span.d-del').count(), 1);
      const laptop = await page.evaluate(() => ({
        doc: document.documentElement.scrollWidth,
        inner: window.innerWidth,
        table: document.querySelector('.table-wrap')!.scrollWidth,
        tableBox: document.querySelector('.table-wrap')!.clientWidth,
      }));
      assert.ok(laptop.doc <= laptop.inner, `1280 px: the page is ${laptop.doc} px wide`);
      assert.ok(laptop.table <= laptop.tableBox, `1280 px: the request table is ${laptop.table} px in a ${laptop.tableBox} px box (columns hidden)`);
      await page.screenshot({ path: join(ARTIFACTS, 'inspect-laptop-patch.png') });

      // the phone: a touch screen 390 px wide (and 375 px)
      phoneBrowser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROME_ARGS });
      const phoneCtx = await phoneBrowser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
      await phoneCtx.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
      const phone = await phoneCtx.newPage();
      await phone.goto(url);
      await phone.waitForSelector('body[data-ready="true"]');
      const prow = phone.locator('#rows tr[data-state="awaitingDecision"]', { hasText: 'readme.txt' });
      await prow.waitFor();
      const noSideways = async (width: number) => {
        const w = await phone.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, inner: window.innerWidth }));
        assert.equal(w.inner, width);
        assert.ok(w.doc <= w.inner && w.body <= w.inner, `${width} px: the page scrolls sideways (${w.doc} px)`);
      };
      await noSideways(390);
      await phone.screenshot({ path: join(ARTIFACTS, 'inspect-phone-list.png') });
      await phone.screenshot({ path: join(ARTIFACTS, 'inspect-phone-full.png'), fullPage: true });
      // the chart as chips a finger can read: the waiting state counts one; a tap lists those requests
      const chip = phone.locator('#state-chips button[data-state="awaitingDecision"]');
      assert.match(await chip.innerText(), /waiting for a person\s+1/);
      await chip.tap();
      await phone.locator('#page-info', { hasText: '1–1 of 1' }).waitFor();
      await chip.tap();
      await phone.locator('#page-info', { hasText: 'of 4' }).waitFor();
      await phone.locator('#chart-panel').screenshot({ path: join(ARTIFACTS, 'inspect-phone-chart.png') });
      await prow.tap();
      const pdiff = phone.locator('#detail .ask pre.diff');
      await pdiff.waitFor();
      // the tap brought the detail to the screen
      const top = await phone.locator('#detail-panel').evaluate((e) => e.getBoundingClientRect().top);
      assert.ok(top >= -1 && top < 100, `the detail is on screen after the tap (top ${top})`);
      await noSideways(390);
      // every target a finger can hit is at least 44 px each way
      const small = await phone.evaluate(() =>
        [...document.querySelectorAll('button, select, input, #rows tr')]
          .filter((e) => (e as HTMLElement).offsetParent !== null)
          .map((e) => ({ what: `${e.tagName.toLowerCase()}#${e.id}.${(e as HTMLElement).className} ${(e.textContent ?? '').slice(0, 30)}`, r: e.getBoundingClientRect() }))
          .filter((x) => x.r.width < 44 || x.r.height < 44)
          .map((x) => `${x.what} ${Math.round(x.r.width)}x${Math.round(x.r.height)}`),
      );
      assert.deepEqual(small, [], 'tap targets under 44 px');
      await phone.screenshot({ path: join(ARTIFACTS, 'inspect-phone-detail.png') });
      await phone.screenshot({ path: join(ARTIFACTS, 'inspect-phone-detail-full.png'), fullPage: true });
      await phone.setViewportSize({ width: 375, height: 812 });
      await noSideways(375);

      await phone.locator('#detail .ask button[data-decision="approved"]').tap();
      await phone.locator('#detail .notice.ok', { hasText: 'Recorded: approved once by' }).waitFor();
      const result = await applied;
      assert.notEqual(result.isError, true, JSON.stringify(result));
      assert.equal(readFileSync(join(work, 'readme.txt'), 'utf8'), 'hello\nnew line\nbye\n');
      await phone.locator('#rows tr[data-state="completed"]', { hasText: 'readme.txt' }).waitFor({ timeout: 15_000 });
      // the decided patch keeps its diff in the panel, for whoever reads it later
      await phone.locator('#detail .ask.past pre.diff').waitFor();
      await phone.locator('#detail-back').tap();
      await phone.screenshot({ path: join(ARTIFACTS, 'inspect-phone-after.png') });
    } finally {
      await phoneBrowser?.close();
      await client.close();
    }
  });
});
