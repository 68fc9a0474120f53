/**
 * The proxy dies mid-run: the command's next connection fails, the run still ends and is reported
 * with what its connections did, and nothing reaches the server any other way (the sandbox's
 * namespace has no route but the relay). The same when only the splice helper dies (it holds the
 * runs' listeners the relays pass their connections to). Real bwrap, relay, proxy and curl; a server on 127.0.0.1
 * under a test name. The moment of the kill is set by the command itself (it waits for a file the
 * test creates after closing the proxy), not by a sleep.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { domainProxy } from '../../src/network/proxy.ts';
import { NETNS_HELPER } from '../../src/network/sandboxNetwork.ts';
import { eventually } from '../support/eventually.ts';
import { listenOnLoopback } from '../support/loopback.ts';

let base: string;
let server: Server;
let port = 0;
let hits = 0;

before(async () => {
  assert.ok(existsSync(NETNS_HELPER), `the relay is built by npm run build: ${NETNS_HELPER}`);
  base = mkdtempSync(join(tmpdir(), 'warden-netkill-'));
  server = createServer((_req, res) => {
    hits += 1;
    res.end('reached\n');
  });
  port = await listenOnLoopback(server);
  process.env.WARDEN_TEST_RESOLVE = 'kill.test=127.0.0.1';
});

after(async () => {
  await domainProxy().close();
  server.close();
  rmSync(base, { recursive: true, force: true });
});

/**
 * A sandboxed run that reaches `url` once through the proxy, waits for ./go (the test kills a part
 * of the proxy, then creates it), tries `url` again and `direct` around the proxy, and exits 7.
 */
function twoRequestsAroundAKill(url: string, direct: string) {
  const script = [
    `curl -sS --max-time 20 ${url} > first.txt`,
    'i=0; while [ ! -e go ] && [ $i -lt 6000 ]; do i=$((i+1)); sleep 0.02; done',
    `if curl -sS --max-time 20 ${url}; then echo SECOND-REACHED; fi`,
    // and around the proxy: the address itself, directly
    `if curl -sS --noproxy '*' --max-time 5 ${direct}; then echo DIRECT-REACHED; fi`,
    'exit 7',
  ].join('\n');
  return runCommand({
    command: ['sh', '-c', script],
    cwd: base,
    sandboxSpec: { mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: true, domains: { allow: ['kill.test'], deny: [] } },
    timeoutMs: 60_000,
  });
}

test('killing the proxy mid-run: later connections fail, the run is recorded, nothing reaches the server directly', async () => {
  const url = `http://kill.test:${port}/`;
  const direct = `http://127.0.0.1:${port}/`;
  const run = twoRequestsAroundAKill(url, direct);
  await eventually(() => hits === 1, 20_000, 'the first request through the proxy');
  await domainProxy().close(); // every run's listener and socket directory gone, as in a crash of the proxy
  writeFileSync(join(base, 'go'), '');
  const outcome = await run;
  assert.equal(outcome.exitCode, 7, outcome.stderr);
  assert.equal(outcome.timedOut, false);
  assert.doesNotMatch(outcome.stdout, /SECOND-REACHED|DIRECT-REACHED/);
  assert.equal(hits, 1, 'nothing after the kill reached the server, through the proxy or around it');
  // the run is still reported with what its connections did before the kill
  assert.deepEqual(outcome.network?.allowed, { 'kill.test': 1 });
});

test('after a crash the next run gets a fresh proxy', async () => {
  const r = await runCommand({
    command: ['curl', '-sS', '--max-time', '20', `http://kill.test:${port}/`],
    cwd: base,
    sandboxSpec: { mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: true, domains: { allow: ['kill.test'], deny: [] } },
    timeoutMs: 60_000,
  });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'reached\n');
});

/** This process's `warden-netns splice` children (the proxy's helper), from /proc. */
function helperPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (ppid === process.pid && argv[0] === NETNS_HELPER && argv[1] === 'splice') out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('killing the splice helper mid-run: later connections fail, nothing reaches the server directly, the next run gets a fresh helper', async () => {
  const url = `http://kill.test:${port}/`;
  const direct = `http://127.0.0.1:${port}/`;
  rmSync(join(base, 'go'), { force: true });
  const before = hits;
  const run = twoRequestsAroundAKill(url, direct);
  await eventually(() => hits === before + 1, 20_000, 'the first request through the proxy');
  const pids = helperPids();
  assert.equal(pids.length, 1, 'one splice helper');
  process.kill(pids[0]!, 'SIGKILL');
  await eventually(() => helperPids().length === 0 || !existsSync(`/proc/${pids[0]}`), 20_000, 'the helper gone');
  writeFileSync(join(base, 'go'), '');
  const outcome = await run;
  assert.equal(outcome.exitCode, 7, outcome.stderr);
  assert.doesNotMatch(outcome.stdout, /SECOND-REACHED|DIRECT-REACHED/);
  assert.equal(hits, before + 1, 'nothing after the kill reached the server');
  assert.deepEqual(outcome.network?.allowed, { 'kill.test': 1 });

  const next = await runCommand({
    command: ['curl', '-sS', '--max-time', '20', url],
    cwd: base,
    sandboxSpec: { mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: true, domains: { allow: ['kill.test'], deny: [] } },
    timeoutMs: 60_000,
  });
  assert.equal(next.exitCode, 0, next.stderr);
  assert.equal(next.stdout, 'reached\n');
});
