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
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { approvalMachine } from '../../src/machines/approval.machine.ts';

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
      viewport: { width: 1440, height: 900 },
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
    for (const state of Object.keys(approvalMachine.root.states)) {
      const node = page.locator(`#chart svg g.state[data-state="${state}"]`);
      await node.waitFor({ state: 'visible' });
      assert.equal(await node.locator('text.state-name').textContent(), state);
    }
    const edgeLabels = await page.locator('#chart svg text.edge-label').allTextContents();
    assert.ok(edgeLabels.some((l) => l.includes('done.classify') && l.includes('[isSandboxedAttempt]')), edgeLabels.join(' | '));
    assert.ok(await page.locator('#chart svg g.state.kind-waiting[data-state="awaitingDecision"]').count());
    assert.equal(await page.locator('#chart svg g.state.kind-final').count(), 4);
    // the request made before the inspector started is counted in its final state
    assert.equal(await page.locator('#chart g.state[data-state="completed"] .count text').textContent(), '1');
    await page.locator('#chart-panel').screenshot({ path: join(ARTIFACTS, 'inspect-chart.png') });
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
    assert.match(detail, /classified: auto-approve/);
    assert.match(detail, /decision: approved/);
    assert.match(detail, /source: policy/);
    assert.match(detail, /exit code 0/);
    assert.match(detail, /hi from the sandbox/);
    assert.match(String(await page.locator('#chart g.state[data-state="completed"]').getAttribute('class')), /current/);
    await page.screenshot({ path: join(ARTIFACTS, 'inspect-timeline.png') });
    // the whole timeline, output excerpt included, on a taller window
    await page.setViewportSize({ width: 1440, height: 1500 });
    await page.locator('#detail').screenshot({ path: join(ARTIFACTS, 'inspect-timeline-panel.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.click('#replay-next');
    await page.click('#replay-next');
    assert.match(await page.locator('#replay-step').innerText(), /step 2\/\d+: classifying/);
    assert.match(String(await page.locator('#chart g.state[data-state="classifying"]').getAttribute('class')), /current/);
    assert.match(String(await page.locator('#chart g.state[data-state="received"]').getAttribute('class')), /visited/);
    await page.click('#replay-next');
    assert.match(await page.locator('#replay-step').innerText(), /sandboxedRun/);
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
    const cmd = `${process.execPath} ${WARDEN} exec --store ${storePath} --session pending-e2e --approval untrusted --decision-timeout 60 -- touch x`;
    const exec = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: work, env, stdio: ['pipe', 'pipe', 'pipe'] });
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
    assert.match(await ask.innerText(), /Allow the agent to run `touch x`/);
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
    await page.locator('#detail .notice.ok', { hasText: 'Recorded: approved' }).waitFor();
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
});
