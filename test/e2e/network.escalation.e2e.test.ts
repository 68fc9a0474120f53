/**
 * Per-domain escalation as a person meets it: the real CLI (`warden exec`) under a pseudo-terminal,
 * real bwrap, the real relay and proxy, curl inside the sandbox, an HTTP server on 127.0.0.1 reached
 * under test names (WARDEN_TEST_RESOLVE, never /etc/hosts). The store and the rules file are real
 * files; the audit reads back what was recorded.
 *
 * The servers are on loopback, and a person's approval reaches public addresses only, so the runs
 * that are meant to succeed list the address (`--allow-domain 127.0.0.1`): the name is still not
 * allowed and is asked about. Without it, the approval must not reach the loopback server at all.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { auditRows, wardenOnTerminal } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';
import { NETNS_HELPER } from '../../src/network/sandboxNetwork.ts';
import { listenOnLoopback } from '../support/loopback.ts';

let server: Server;
let port = 0;
let hits = 0;

before(async () => {
  assert.ok(existsSync(NETNS_HELPER), `the relay is built by npm run build: ${NETNS_HELPER}`);
  server = createServer((_req, res) => {
    hits += 1;
    res.end('hello from the registry\n');
  });
  port = await listenOnLoopback(server);
});

after(() => server.close());

/** What the terminal showed, without colour and with line wrapping undone (the pty is narrow). */
function flat(screen: string): string {
  // eslint-disable-next-line no-control-regex
  return screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\s+/g, ' ');
}

function workspace() {
  const dir = tempDir('warden-netesc-');
  writeFileSync(join(dir, 'rules.toml'), '');
  return { dir, store: join(dir, 'events.db'), rules: join(dir, 'rules.toml'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const env = (session: string) => ({ WARDEN_SESSION: session, WARDEN_TEST_RESOLVE: 'registry.test=127.0.0.1,other.test=127.0.0.1' });

/** `warden exec` of a curl to `host`, on-request (tried in the sandbox first), with extra flags. */
function curlArgs(ws: { store: string; rules: string }, host: string, flags: string[], shellWrap = false): string[] {
  const url = `http://${host}:${port}/hello.txt`;
  const cmd = shellWrap ? ['sh', '-c', `curl -sS -f --max-time 20 ${url}`] : ['curl', '-sS', '-f', '--max-time', '20', url];
  return ['exec', '--approval', 'on-request', '--sandbox', 'workspace-write', '--store', ws.store, '--rules', ws.rules, ...flags, '--', ...cmd];
}

test('refused → asked about registry.test → yes for this session → retried in the sandbox and reached; a second command of the session reaches it without asking; another session is asked, and "no" leaves it refused', async () => {
  const ws = workspace();
  try {
    const before = hits;
    const first = await wardenOnTerminal(curlArgs(ws, 'registry.test', ['--allow-domain', '127.0.0.1']), ['a'], { cwd: ws.dir, env: env('net-s1') });
    assert.equal(first.prompts, 1, first.screen);
    assert.match(flat(first.screen), /Let this command reach registry\.test\?/);
    assert.match(flat(first.screen), /registry\.test is not in the allowed domains/);
    assert.equal(first.code, 0, first.screen);
    assert.match(flat(first.screen), /hello from the registry/);
    assert.equal(hits, before + 1, 'the refused attempt never reached the server; the retry did, once');

    const second = await wardenOnTerminal(curlArgs(ws, 'registry.test', ['--allow-domain', '127.0.0.1'], true), [], { cwd: ws.dir, env: env('net-s1') });
    assert.equal(second.prompts, 0, `the session's approval carries to another command:\n${second.screen}`);
    assert.equal(second.code, 0, second.screen);
    assert.equal(hits, before + 2);

    // the approval is for that name: another name in the same session is asked about
    const other = await wardenOnTerminal(curlArgs(ws, 'other.test', ['--allow-domain', '127.0.0.1']), ['n'], { cwd: ws.dir, env: env('net-s1') });
    assert.equal(other.prompts, 1, other.screen);
    assert.match(flat(other.screen), /Let this command reach other\.test\?/);

    const no = await wardenOnTerminal(curlArgs(ws, 'registry.test', ['--allow-domain', '127.0.0.1']), ['n'], { cwd: ws.dir, env: env('net-s2') });
    assert.equal(no.prompts, 1, 'another session is asked again');
    assert.equal(no.code, 126, no.screen);
    assert.equal(hits, before + 2, '"no": nothing reached the server');

    const rows = auditRows(ws.store);
    assert.deepEqual(
      rows.map((r) => [r.session_id, r.decision, r.decision_source, r.outcome]),
      [
        ['net-s1', 'approved_for_session', 'user', 'completed'],
        ['net-s1', 'approved', 'policy', 'completed'],
        ['net-s1', 'denied', 'user', 'rejected'],
        ['net-s2', 'denied', 'user', 'rejected'],
      ],
    );
  } finally {
    ws.cleanup();
  }
});

test('"always" writes registry.test to the rules file\'s [network] table; a new session then reaches it without asking', async () => {
  const ws = workspace();
  try {
    const first = await wardenOnTerminal(curlArgs(ws, 'registry.test', ['--allow-domain', '127.0.0.1']), ['A'], { cwd: ws.dir, env: env('net-a1') });
    assert.equal(first.code, 0, first.screen);
    assert.match(flat(first.screen), /always allow registry\.test/);
    const text = readFileSync(ws.rules, 'utf8');
    assert.match(text, /^\[network\]\n# approved always by the user on .*\napproved = \["registry\.test"\]\n$/);
    assert.doesNotMatch(text, /\[\[rule\]\]/, 'no command rule from a domain question');
    const later = await wardenOnTerminal(curlArgs(ws, 'registry.test', ['--allow-domain', '127.0.0.1']), [], { cwd: ws.dir, env: env('net-a2') });
    assert.equal(later.prompts, 0, later.screen);
    assert.equal(later.code, 0, later.screen);
  } finally {
    ws.cleanup();
  }
});

test('DNS rebinding through an approval: a yes to registry.test does not reach it at 127.0.0.1; the blocked retry asks the ordinary question, and no leaves it unreached', async () => {
  const ws = workspace();
  try {
    // no domain flag: an empty [network] table turns the proxy on, so the new name is asked about
    writeFileSync(ws.rules, '[network]\n');
    const before = hits;
    // yes for the session to the name; then, when the retry is blocked again, no to running it bare
    const r = await wardenOnTerminal(curlArgs(ws, 'registry.test', []), ['a', 'n'], { cwd: ws.dir, env: env('net-r1') });
    assert.equal(r.prompts, 2, r.screen);
    assert.match(flat(r.screen), /resolves to 127\.0\.0\.1, a local or private address/);
    assert.match(flat(r.screen), /Let this command reach registry\.test\?.*Run this command\?/);
    assert.equal(r.code, 126, r.screen);
    assert.equal(hits, before, 'the loopback server was never reached');
  } finally {
    ws.cleanup();
  }
});

test('a denied name is not asked about as a domain', async () => {
  const ws = workspace();
  try {
    const r = await wardenOnTerminal(curlArgs(ws, 'registry.test', ['--allow-domain', '127.0.0.1', '--deny-domain', 'registry.test']), ['n'], { cwd: ws.dir, env: env('net-d1') });
    assert.doesNotMatch(flat(r.screen), /Let this command reach/);
    assert.match(flat(r.screen), /registry\.test is denied/);
  } finally {
    ws.cleanup();
  }
});
