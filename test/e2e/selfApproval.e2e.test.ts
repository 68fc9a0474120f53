/**
 * The self-approval attack, end to end with real processes: on one MCP connection the agent's
 * first call (`touch` outside the roots, escalated) waits for a person; its second call runs
 * `warden approve --list --json | … | xargs warden approve --decide … --decision approved` through
 * warden itself. Whatever the store's location (under /tmp, under the workspace, the default one
 * with the client started in $HOME), whether the second call runs in bwrap or bare, and whether
 * the sandboxed decider can reach the store at all (a PostgreSQL store with the network on): the
 * first request stays unapproved, its command never runs, and where the decider reached the store
 * a `DecisionRefused` naming it is recorded. A person's `warden approve` from outside still
 * decides, and the decision records who made it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quote } from 'shell-quote';
import { openStore } from '../../src/events/openStore.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { createTempDatabase } from '../contract/fixtures/pgDatabase.ts';
import { onTerminalArgs } from '../support/cli.ts';
import { keepsStreamRules } from '../support/streamRules.ts';
import { runOutside, wardenAsync } from '../support/cliAsync.ts';
import { WARDEN_BIN, eventually, startServer, type RawClient, type Workspace } from './mcp.harness.ts';

interface Variant {
  name: string;
  /** Where the store is, given the base dir and the workspace; null: the default location (HOME = workspace). */
  store: (base: string, ws: string) => string | null;
  serveArgs?: string[];
  rules?: string;
  /** Whether the decider inside call 2 can reach the store (then a refusal must be recorded). */
  reachesStore: boolean;
  /** What the refusal's reason must say. */
  reason?: RegExp;
}

/** `node …/bin/warden.js` as the agent would type it (the real built CLI). */
const W = quote([process.execPath, WARDEN_BIN]);

/** `|| true`: a failed attempt must not look like a sandbox denial, which would ask a person about call 2. */
function attackScript(store: string | null): string {
  const s = store === null ? '' : ` --store ${quote([store])}`;
  return `${W} approve${s} --list --json | grep -o '"request_id":"[^"]*"' | cut -d'"' -f4 | xargs -I{} ${W} approve${s} --decide {} --decision approved || true`;
}

async function readAll(location: string): Promise<StoredEvent[]> {
  const store = await openStore(location.startsWith('postgres') ? { kind: 'postgres', url: location } : { kind: 'sqlite', path: location });
  try {
    return await store.readAll(1);
  } finally {
    await store.close();
  }
}

interface Setup {
  base: string;
  ws: string;
  home: string;
  storeArg: string | null;
  /** Where the test reads the store. */
  storeAt: string;
  victim: string;
  env: NodeJS.ProcessEnv;
  cleanup: () => Promise<void>;
}

async function setup(v: Variant): Promise<Setup> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-selfapprove-')));
  const home = join(base, 'home');
  const ws = v.store(base, home) === null ? home : join(home, 'ws');
  mkdirSync(ws, { recursive: true });
  // outside every writable root (the workspace, /tmp): only an unsandboxed, approved run creates it
  const outside = mkdtempSync('/var/tmp/warden-selfapprove-');
  const victim = join(outside, 'pwned');
  let storeArg = v.store(base, ws);
  let drop = async () => {};
  if (storeArg === 'postgres') {
    const db = await createTempDatabase();
    storeArg = db.url;
    drop = () => db.drop();
  }
  const storeAt = storeArg ?? join(home, '.local/state/warden/events.db');
  // the whole record, refusal streams included, must keep the stream rules; checked after the file's tests
  if (!storeAt.startsWith('postgres')) keepsStreamRules(storeAt, base);
  return {
    base,
    ws,
    home,
    storeArg,
    storeAt,
    victim,
    env: { HOME: home, XDG_STATE_HOME: '', XDG_CONFIG_HOME: '', WARDEN_STORE: '' },
    cleanup: async () => {
      if (storeAt.startsWith('postgres')) rmSync(base, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
      await drop();
    },
  };
}

function serve(s: Setup, v: Variant): Promise<RawClient> {
  const rulesPath = join(s.base, 'rules.toml');
  writeFileSync(rulesPath, v.rules ?? '');
  const workspace: Workspace = { dir: s.base, ws: s.ws, storePath: s.storeArg ?? '', rulesPath };
  return startServer(workspace, {
    storeFlag: s.storeArg !== null,
    args: ['--decision-timeout', '120', ...(v.serveArgs ?? [])],
    env: s.env,
    // the person never answers in the client: call 1 waits
    onElicit: () => 'later',
  });
}

/** Runs the attack; returns call 1's request id, its pending call, and call 2's result. */
async function attack(s: Setup, client: RawClient) {
  const call1 = client.call('shell', { command: ['touch', s.victim], workdir: s.ws, with_escalated_permissions: true, justification: 'needs to write outside' });
  const asked = await eventually(
    async () => {
      if (!existsSync(s.storeAt) && !s.storeAt.startsWith('postgres')) return undefined;
      return (await readAll(s.storeAt)).find((e) => e.type === 'DecisionRequested');
    },
    20_000,
    'call 1 to wait for a person',
  );
  const call2 = await client.call('shell', { command: ['bash', '-lc', attackScript(s.storeArg)], workdir: s.ws, timeout_ms: 60_000 });
  return { requestId: asked.stream, call1, call2 };
}

const text = (r: any) => (r?.content ?? []).map((c: any) => c.text ?? '').join('\n');

const VARIANTS: Variant[] = [
  { name: 'store in /tmp, sandboxed call', store: (base) => join(base, 'events.db'), reachesStore: false },
  { name: 'store under the workspace, sandboxed call', store: (_b, ws) => join(ws, 'events.db'), reachesStore: false },
  { name: 'default store with the client in $HOME, sandboxed call', store: () => null, reachesStore: false },
  {
    name: 'bare run (danger-full-access), store in /tmp',
    store: (base) => join(base, 'events.db'),
    serveArgs: ['--sandbox', 'danger-full-access'],
    // under danger-full-access everything runs unasked; this rule makes call 1 wait for a person
    rules: '[[rule]]\npattern = ["touch"]\ndecision = "prompt"\njustification = "a person decides"\n',
    reachesStore: true,
    // a bare run has its own pid namespace (bwrapArgs.ts bareBwrapArgs); without bwrap the ancestry names warden serve
    reason: /another pid namespace than warden's pid \d+ \(mcp\)|descends from pid \d+ \(mcp\)/,
  },
  {
    name: 'bare run (danger-full-access), default store with the client in $HOME',
    store: () => null,
    serveArgs: ['--sandbox', 'danger-full-access'],
    rules: '[[rule]]\npattern = ["touch"]\ndecision = "prompt"\njustification = "a person decides"\n',
    reachesStore: true,
    // a bare run has its own pid namespace (bwrapArgs.ts bareBwrapArgs); without bwrap the ancestry names warden serve
    reason: /another pid namespace than warden's pid \d+ \(mcp\)|descends from pid \d+ \(mcp\)/,
  },
  {
    name: 'PostgreSQL store reachable from the sandbox (--network)',
    store: () => 'postgres',
    serveArgs: ['--network'],
    reachesStore: true,
    reason: /another pid namespace/,
  },
];

for (const v of VARIANTS) {
  test(`self-approval: ${v.name}: the request stays unapproved and its command never runs`, async () => {
    const s = await setup(v);
    const client = await serve(s, v);
    try {
      const { requestId, call1, call2 } = await attack(s, client);
      const events = await readAll(s.storeAt);
      const own = events.filter((e) => e.stream === requestId);
      assert.equal(own.some((e) => e.type === 'DecisionRecorded'), false, `decided: ${JSON.stringify(own.map((e) => e.type))}\ncall 2: ${text(call2)}`);
      const refusals = events.filter((e) => e.type === 'DecisionRefused');
      if (v.reachesStore) {
        assert.equal(refusals.length, 1, `call 2: ${text(call2)}`);
        const r = refusals[0]!;
        assert.ok(r.type === 'DecisionRefused');
        assert.equal(r.data.requestId, requestId);
        assert.equal(r.data.decision, 'approved');
        assert.equal(r.data.via, 'warden approve');
        assert.match(r.data.reason, v.reason!);
        assert.notEqual(r.stream, requestId, 'recorded on a stream of its own');
        assert.ok(r.data.by.chain.length > 0);
        // the request's own stream did not move: it still waits at its question
        assert.equal(own.at(-1)!.type, 'DecisionRequested');
        // shown in the audit
        const audit = spawnSync(process.execPath, [WARDEN_BIN, 'audit', '--store', s.storeAt], { encoding: 'utf8', env: { ...process.env, ...s.env } });
        assert.match(audit.stdout, /REFUSED approved via warden approve/);
      } else {
        assert.equal(refusals.length, 0);
      }
      // still pending: a person could decide it; then close the client and it ends unapproved
      assert.equal(existsSync(s.victim), false);
      await client.close();
      const r1 = await call1.catch((e: Error) => e);
      assert.equal(existsSync(s.victim), false, `call 1 ran: ${text(r1)}`);
      const after = (await readAll(s.storeAt)).filter((e) => e.stream === requestId);
      assert.equal(after.some((e) => e.type === 'DecisionRecorded' && e.data.decision !== 'denied'), false);
      assert.equal(after.some((e) => e.type === 'ExecutionStarted'), false);
    } finally {
      await client.close();
      await s.cleanup();
    }
  });
}

test('a person deciding from outside (not under warden) still decides, and the decision records who', async () => {
  const v = VARIANTS[0]!;
  const s = await setup(v);
  const client = await serve(s, v);
  try {
    const { requestId, call1 } = await attack(s, client);
    // a person's terminal: not under this test process, which plays the MCP client
    const approve = await wardenAsync(['approve', '--store', s.storeAt, '--decide', requestId, '--decision', 'approved'], { env: s.env, outside: true });
    assert.equal(approve.code, 0, approve.stderr);
    const r1 = await call1;
    assert.equal(r1.isError, false, text(r1));
    assert.equal(existsSync(s.victim), true);
    const decided = (await readAll(s.storeAt)).find((e) => e.stream === requestId && e.type === 'DecisionRecorded');
    assert.ok(decided?.type === 'DecisionRecorded');
    assert.equal(decided.data.source, 'user');
    const d = decided.data.decider!;
    assert.ok(d, 'the decider is recorded');
    assert.equal(d.found, 'self');
    assert.equal(d.uid, process.getuid!());
    assert.ok(d.user.length > 0);
    // the chain runs from the approve process up to pid 1, outside the client (this test process)
    assert.equal(d.chain[0]!.pid, d.pid);
    assert.equal(d.chain.some((l) => l.pid === process.pid), false, JSON.stringify(d.chain));
    assert.equal(d.chain.at(-1)!.pid, 1);
    assert.ok(d.mark?.pidNs.startsWith('pid:['));
  } finally {
    await client.close();
    await s.cleanup();
  }
});

/** `warden inspect` on the store as its own process; resolves with its URL (token included). */
async function startInspector(s: Setup): Promise<{ url: URL; token: string; stop: () => void }> {
  const child = spawn(process.execPath, [WARDEN_BIN, 'inspect', '--store', s.storeAt, '--port', '0'], { env: { ...process.env, ...s.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const line = await eventually(() => (/^http:\/\/\S+/m.exec(out)?.[0] ?? undefined), 20_000, 'the inspector URL');
  const url = new URL(line);
  return { url, token: url.searchParams.get('token')!, stop: () => child.kill() };
}

test('self-approval through the inspector: a command warden runs that holds the token cannot decide; a person\'s browser can', async () => {
  const v = VARIANTS.find((x) => x.name.startsWith('bare run'))!;
  const s = await setup(v);
  const client = await serve(s, v);
  const inspector = await startInspector(s);
  try {
    const call1 = client.call('shell', { command: ['touch', s.victim], workdir: s.ws, with_escalated_permissions: true });
    const asked = await eventually(async () => (await readAll(s.storeAt)).find((e) => e.type === 'DecisionRequested'), 20_000, 'call 1 to wait');
    const origin = `http://127.0.0.1:${inspector.url.port}`;
    // the agent read the token somewhere (a bare run can) and posts the decision itself
    const curl = quote([
      'curl', '-s', '-o', '/dev/stderr', '-w', '%{http_code}', '-X', 'POST',
      '-H', 'content-type: application/json', '-H', `x-warden-token: ${inspector.token}`, '-H', `origin: ${origin}`,
      '--data', '{"decision":"approved"}', `${origin}/api/requests/${asked.stream}/decide`,
    ]);
    const call2 = await client.call('shell', { command: ['bash', '-lc', `${curl}; echo`], workdir: s.ws, timeout_ms: 30_000 });
    assert.match(text(call2), /\b403\b/, text(call2));
    const events = await readAll(s.storeAt);
    assert.equal(events.some((e) => e.stream === asked.stream && e.type === 'DecisionRecorded'), false);
    const refusal = events.find((e) => e.type === 'DecisionRefused');
    assert.ok(refusal?.type === 'DecisionRefused', 'a refusal is recorded');
    assert.equal(refusal.data.via, 'warden inspect');
    assert.equal(refusal.data.by.found, 'socket');
    assert.ok(refusal.data.by.chain.some((l) => l.comm === 'curl'), JSON.stringify(refusal.data.by.chain));
    // the inspector's timeline of the request shows the refusal
    const detail = await fetch(`${origin}/api/requests/${asked.stream}`, { headers: { 'x-warden-token': inspector.token } });
    const body = (await detail.json()) as { timeline: Array<{ type: string; title: string }> };
    assert.ok(body.timeline.some((t) => t.type === 'DecisionRefused' && /decision refused/.test(t.title)), JSON.stringify(body.timeline));
    // and its row counts it (the live projection folds the refusal into the request it names)
    const row = await eventually(async () => {
      const page = (await (await fetch(`${origin}/api/requests`, { headers: { 'x-warden-token': inspector.token } })).json()) as { rows: Array<{ id: string; refused: number }> };
      const r = page.rows.find((x) => x.id === asked.stream);
      return r && r.refused === 1 ? r : undefined;
    }, 10_000, 'the row to count the refusal');
    assert.equal(row.refused, 1);
    // this test process is the MCP client: its own request (the agent's own tool, as it were) is refused too
    const fromClient = await fetch(`${origin}/api/requests/${asked.stream}/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-warden-token': inspector.token, origin },
      body: '{"decision":"approved"}',
    });
    assert.equal(fromClient.status, 403, await fromClient.text());
    // a person: a browser (curl here) outside every warden command and outside the client
    const person = await runOutside([
      'curl', '-s', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'content-type: application/json', '-H', `x-warden-token: ${inspector.token}`,
      '-H', `origin: ${origin}`, '--data', '{"decision":"denied"}', `${origin}/api/requests/${asked.stream}/decide`,
    ]);
    assert.match(person.stdout, /\n200$/, person.stdout);
    const r1 = await call1;
    assert.equal(existsSync(s.victim), false, text(r1));
    const decided = (await readAll(s.storeAt)).find((e) => e.stream === asked.stream && e.type === 'DecisionRecorded');
    assert.ok(decided?.type === 'DecisionRecorded');
    assert.equal(decided.data.decider?.found, 'socket');
    assert.equal(decided.data.decider?.chain[0]?.comm, 'curl');
  } finally {
    inspector.stop();
    await client.close();
    await s.cleanup();
  }
});

test('self-approval from the MCP client\'s own shell tool (not warden\'s): the decider descends from the client that started warden serve; refused', async () => {
  // red team: a client's built-in shell (Codex's own exec, Gemini's run_shell_command, Claude
  // Code's Bash with an allow rule) runs `warden approve` as a child of the client, which is
  // warden serve's parent, never its descendant; it was recorded as a person's approval
  const v = VARIANTS[0]!;
  const s = await setup(v);
  const client = await serve(s, v);
  try {
    const call1 = client.call('shell', { command: ['touch', s.victim], workdir: s.ws, with_escalated_permissions: true }).catch((e: Error) => e);
    const asked = await eventually(async () => (await readAll(s.storeAt)).find((e) => e.type === 'DecisionRequested'), 20_000, 'call 1 to wait');
    // this test process is the client: its tool is a child of it, outside warden's sandbox
    const tool = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn('bash', ['-lc', attackScript(s.storeAt)], { cwd: s.ws, env: { ...process.env, ...s.env, WARDEN_LOG: 'silent' } });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      c.on('close', (code) => resolve({ code, out }));
    });
    assert.match(tool.out, new RegExp(`not recorded: .*descends from pid ${process.pid} \\(node\\), the client that started pid ${client.child.pid} \\(mcp\\)`), tool.out);
    const events = await readAll(s.storeAt);
    assert.equal(events.some((e) => e.stream === asked.stream && e.type === 'DecisionRecorded'), false);
    const first = events.find((e) => e.stream === asked.stream && e.type === 'ApprovalRequested');
    assert.ok(first?.type === 'ApprovalRequested');
    assert.equal(first.data.origin.launcher?.pid, process.pid, 'the request names the client that started serve');
    const refusal = events.find((e) => e.type === 'DecisionRefused');
    assert.ok(refusal?.type === 'DecisionRefused', 'a refusal is recorded');
    assert.equal(refusal.data.requestId, asked.stream);
    assert.ok(refusal.data.by.chain.some((l) => l.pid === process.pid));
    await client.close();
    await call1;
    assert.equal(existsSync(s.victim), false);
  } finally {
    await client.close();
    await s.cleanup();
  }
});

test('self-approval around warden exec without a terminal: the agent\'s shell runs exec, then approve; refused, while a person outside decides', async () => {
  // red team: an agent whose tool runs `warden exec --decision-timeout …` (no terminal: it waits for
  // warden approve) ran `warden approve --decide` in its next tool call, recorded as a person's
  const s = await setup(VARIANTS[0]!);
  const exec = spawn('bash', ['-c', `${W} exec --store ${quote([s.storeAt])} --approval untrusted --decision-timeout 60 -- touch ${quote([s.victim])} </dev/null; exit $?`], {
    cwd: s.ws,
    env: { ...process.env, ...s.env, WARDEN_LOG: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => exec.on('close', r));
  try {
    const asked = await eventually(async () => (existsSync(s.storeAt) ? (await readAll(s.storeAt)).find((e) => e.type === 'DecisionRequested') : undefined), 20_000, 'the exec to wait');
    const first = (await readAll(s.storeAt)).find((e) => e.stream === asked.stream && e.type === 'ApprovalRequested');
    assert.ok(first?.type === 'ApprovalRequested');
    // bash -c is passed over (it leads no session): the program whose tool it is, this test process
    assert.equal(first.data.origin.launcher?.pid, process.pid);
    // the agent's next tool call, a fresh shell under the same client
    const tool = spawnSync('bash', ['-c', `${W} approve --store ${quote([s.storeAt])} --decide ${asked.stream} --decision approved`], { encoding: 'utf8', env: { ...process.env, ...s.env, WARDEN_LOG: 'silent' } });
    assert.equal(tool.status, 1, tool.stdout);
    assert.match(tool.stderr, new RegExp(`not recorded: .*descends from pid ${process.pid} \\(node\\), the client that started pid \\d+ \\(exec\\)`), tool.stderr);
    assert.equal((await readAll(s.storeAt)).some((e) => e.stream === asked.stream && e.type === 'DecisionRecorded'), false);
    assert.equal(existsSync(s.victim), false);
    // a person's terminal, outside the client, decides
    const person = await wardenAsync(['approve', '--store', s.storeAt, '--decide', asked.stream, '--decision', 'denied'], { env: s.env, outside: true });
    assert.equal(person.code, 0, person.stderr);
    assert.equal(await exited, 126);
    assert.equal(existsSync(s.victim), false);
  } finally {
    exec.kill('SIGKILL');
    await s.cleanup();
  }
});

test('self-approval through the interactive warden approve on a terminal the agent made (script): refused', async () => {
  const v = VARIANTS.find((x) => x.name.startsWith('bare run'))!;
  const s = await setup(v);
  const client = await serve(s, v);
  try {
    const call1 = client.call('shell', { command: ['touch', s.victim], workdir: s.ws, with_escalated_permissions: true });
    const asked = await eventually(async () => (await readAll(s.storeAt)).find((e) => e.type === 'DecisionRequested'), 20_000, 'call 1 to wait');
    // keys as a person would type them: 1 opens the first request, y approves it, q quits
    const view = quote(['script', ...onTerminalArgs([process.execPath, WARDEN_BIN, 'approve', '--store', s.storeAt])]);
    const keys = `(sleep 2; printf 1; sleep 1; printf y; sleep 2; printf q) | ${view}`;
    const call2 = await client.call('shell', { command: ['bash', '-lc', `${keys} || true`], workdir: s.ws, timeout_ms: 30_000 });
    assert.match(text(call2), /cannot decide: not recorded/, text(call2));
    const events = await readAll(s.storeAt);
    assert.equal(events.some((e) => e.stream === asked.stream && e.type === 'DecisionRecorded'), false);
    const refusal = events.find((e) => e.type === 'DecisionRefused');
    assert.ok(refusal?.type === 'DecisionRefused', 'a refusal is recorded');
    assert.equal(refusal.data.via, 'warden approve');
    assert.equal(refusal.data.requestId, asked.stream);
    assert.ok(refusal.data.by.tty, 'the terminal is recorded');
    await client.close();
    await call1.catch(() => undefined);
    assert.equal(existsSync(s.victim), false);
  } finally {
    await client.close();
    await s.cleanup();
  }
});

/**
 * A stand-in agent client (a process of its own, as Claude Code is): it runs `warden hook
 * claude-code` for a Bash call, and meanwhile its own tool (a child of the client, outside any
 * warden sandbox) runs the attack, as a client's Bash tool would for a call the hook let through.
 * Prints both results as JSON once both ended.
 */
const STUB_CLIENT = `
const { spawn } = require('node:child_process');
const [hookArgv, input, attack] = JSON.parse(process.argv[1]);
const run = (argv, stdin) => new Promise((res) => {
  const c = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  c.stderr.on('data', (d) => (out += d));
  c.stdin.end(stdin ?? '');
  c.on('close', (code) => res({ code, out }));
});
Promise.all([run(hookArgv, input), run(['bash', '-lc', attack])]).then(([hook, attack]) => process.stdout.write(JSON.stringify({ hook, attack })));
`;

test('self-approval from a hook client\'s own tool: the decider descends from the client that owns the request; refused', async () => {
  const v = VARIANTS[0]!;
  const s = await setup(v);
  try {
    const hookArgv = [process.execPath, WARDEN_BIN, 'hook', 'claude-code', '--store', s.storeAt, '--approval', 'untrusted', '--decision-timeout', '8'];
    const input = JSON.stringify({ session_id: 'sess-self', cwd: s.ws, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: `touch ${s.victim}`, description: 'd' }, tool_use_id: 'toolu_self' });
    // Bounded: when the request never shows (the hook failed), the stand-in's tool gives up after
    // 120 s instead of polling for ever as an orphan (one did, for an hour, loading every later run).
    const wait = `end=$((SECONDS + 120)); until ${W} approve --store ${quote([s.storeAt])} --list --json 2>/dev/null | grep -q request_id; do [ $SECONDS -lt $end ] || exit 3; sleep 0.2; done`;
    const attack = `${wait}; ${attackScript(s.storeAt)}`;
    const r = spawnSync(process.execPath, ['-e', STUB_CLIENT, JSON.stringify([hookArgv, input, attack])], { cwd: s.ws, encoding: 'utf8', env: { ...process.env, ...s.env, WARDEN_LOG: 'silent' }, timeout: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    const { hook, attack: attacked } = JSON.parse(r.stdout) as { hook: { code: number; out: string }; attack: { code: number; out: string } };
    assert.match(attacked.out, /not recorded: .*descends from pid \d+ \(hook:claude-code\)/, attacked.out);
    // the hook was not told "allow": nobody approved, so it denies at its timeout
    assert.doesNotMatch(hook.out, /"permissionDecision":"allow"/, hook.out);
    const events = await readAll(s.storeAt);
    const refusal = events.find((e) => e.type === 'DecisionRefused');
    assert.ok(refusal?.type === 'DecisionRefused', 'a refusal is recorded');
    assert.equal(events.some((e) => e.type === 'DecisionRecorded' && e.data.source === 'user'), false);
    assert.equal(existsSync(s.victim), false);
  } finally {
    await s.cleanup();
  }
});

test('self-approval from a hook client\'s own tool when the hook runs through npx (npm exec): the owner is still the client; refused', async () => {
  // red team: the hook's nearest non-shell ancestor was the `npm exec` process, which the agent's
  // tools do not descend from, so the client's own tool could approve the hook's request
  const v = VARIANTS[0]!;
  const s = await setup(v);
  try {
    const npmExec = `process.title = 'npm exec warden'; const c = require('node:child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit' }); c.on('exit', (code) => process.exit(code ?? 1));`;
    const hookArgv = [process.execPath, '-e', npmExec, process.execPath, WARDEN_BIN, 'hook', 'claude-code', '--store', s.storeAt, '--approval', 'untrusted', '--decision-timeout', '8'];
    const input = JSON.stringify({ session_id: 'sess-npx', cwd: s.ws, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: `touch ${s.victim}`, description: 'd' }, tool_use_id: 'toolu_npx' });
    const wait = `end=$((SECONDS + 120)); until ${W} approve --store ${quote([s.storeAt])} --list --json 2>/dev/null | grep -q request_id; do [ $SECONDS -lt $end ] || exit 3; sleep 0.2; done`;
    const r = spawnSync(process.execPath, ['-e', STUB_CLIENT, JSON.stringify([hookArgv, input, `${wait}; ${attackScript(s.storeAt)}`])], { cwd: s.ws, encoding: 'utf8', env: { ...process.env, ...s.env, WARDEN_LOG: 'silent' }, timeout: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    const { hook, attack: attacked } = JSON.parse(r.stdout) as { hook: { code: number; out: string }; attack: { code: number; out: string } };
    assert.match(attacked.out, /not recorded: .*descends from pid \d+ \(hook:claude-code\)/, attacked.out);
    assert.doesNotMatch(hook.out, /"permissionDecision":"allow"/, hook.out);
    const events = await readAll(s.storeAt);
    assert.equal(events.some((e) => e.type === 'DecisionRecorded' && e.data.source === 'user'), false);
    assert.equal(existsSync(s.victim), false);
  } finally {
    await s.cleanup();
  }
});

test('self-approval across two warden serve processes on one store: a command of the second cannot decide the first one\'s request', async () => {
  const v = VARIANTS.find((x) => x.name.startsWith('bare run'))!;
  const s = await setup(v);
  const first = await serve(s, v);
  const second = await serve(s, v);
  try {
    // its answer (or the server's exit) comes while the test closes it: caught from the start
    const call1 = first.call('shell', { command: ['touch', s.victim], workdir: s.ws, with_escalated_permissions: true }).catch((e: Error) => e);
    const asked = await eventually(async () => (await readAll(s.storeAt)).find((e) => e.type === 'DecisionRequested'), 20_000, 'call 1 to wait');
    const call2 = await second.call('shell', { command: ['bash', '-lc', attackScript(s.storeArg)], workdir: s.ws, timeout_ms: 60_000 });
    const events = await readAll(s.storeAt);
    assert.equal(events.some((e) => e.stream === asked.stream && e.type === 'DecisionRecorded'), false, text(call2));
    const refusal = events.find((e) => e.type === 'DecisionRefused');
    assert.ok(refusal?.type === 'DecisionRefused', `a refusal is recorded: ${text(call2)}`);
    assert.equal(refusal.data.requestId, asked.stream);
    // two owners on the store, one per serve process; the refusal names one of them (the first it met)
    const owners = new Set(events.filter((e) => e.type === 'ApprovalRequested').map((e) => (e.type === 'ApprovalRequested' ? e.data.origin.pid : 0)));
    assert.deepEqual([...owners].sort(), [first.child.pid!, second.child.pid!].sort());
    assert.match(refusal.data.reason, new RegExp(`pid (${first.child.pid}|${second.child.pid}) \\(mcp\\)`));
    await first.close();
    await call1;
    assert.equal(existsSync(s.victim), false);
  } finally {
    await first.close();
    await second.close();
    await s.cleanup();
  }
});
