/**
 * Hidden paths as the kernel enforces them (issue #13): every entry of the default secrets list is
 * planted in a fake $HOME (a temp dir, never the real home), then read, overwritten and added to from
 * inside real bubblewrap, in the read-only sandbox and in workspace-write with the home itself as the
 * workspace (the worst case: the secrets lie inside the writable root). Each attempt must fail, be
 * detected as a denial naming the hidden path, and leave the host file as it was. A patch that writes
 * one asks. warden's own store is attacked the same way through the real CLI.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { DEFAULT_HIDDEN_IN_HOME, defaultHiddenPaths } from '../../src/sandbox/hiddenPaths.ts';
import { classifyPatch } from '../../src/safety/patch/classifyPatch.ts';
import type { SandboxSpec } from '../../src/sandbox/types.ts';
import type { RequestPolicy } from '../../src/events/types.ts';
import { WARDEN } from '../support/cli.ts';
import { pool } from '../support/pool.ts';

let base: string;
let home: string;
/** Entries the list names as directories (planted as a dir with a file inside); the rest are files. */
const DIRS = new Set(['.ssh', '.gnupg', '.password-store', '.local/share/keyrings', '.config/op', '.config/gh', '.config/hub', '.config/glab-cli', '.kube', '.config/helm', '.aws', '.config/gcloud', '.azure', '.oci', '.aliyun', '.config/doctl', '.config/hcloud', '.fly', '.config/rclone', '.mozilla', '.config/google-chrome', '.config/chromium', '.config/BraveSoftware', '.config/microsoft-edge', '.config/vivaldi', 'snap/firefox', 'snap/chromium', 'Library/Application Support/Google/Chrome', 'Library/Application Support/Firefox', 'Library/Keychains']);
const SECRET = 'TOP-SECRET-VALUE';

/** The file holding the secret for an entry. */
const secretFile = (rel: string) => (DIRS.has(rel) ? join(home, rel, 'secret') : join(home, rel));

before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-hidden-')));
  home = join(base, 'home');
  for (const rel of DEFAULT_HIDDEN_IN_HOME) {
    const file = secretFile(rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${SECRET} ${rel}\n`);
  }
  writeFileSync(join(home, 'notes.txt'), 'ordinary\n');
});
after(() => rmSync(base, { recursive: true, force: true }));

const hidden = () => defaultHiddenPaths({ HOME: home });
const RO = (): SandboxSpec => ({ mode: 'read-only', writableRoots: [], network: false, tmpWrite: false, hidden: hidden() });
const WW = (): SandboxSpec => ({ mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: false, hidden: hidden() });
const sh = (script: string, sandbox: SandboxSpec) => runCommand({ command: ['sh', '-c', script], cwd: home, sandboxSpec: sandbox });
const q = (p: string) => `'${p.replace(/'/g, "'\\''")}'`;

test('an ordinary file beside the secrets stays readable and writable', async () => {
  const r = await sh('cat notes.txt && echo more >> notes.txt', WW());
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'ordinary\n');
  assert.equal(readFileSync(join(home, 'notes.txt'), 'utf8'), 'ordinary\nmore\n');
});

for (const mode of ['read-only', 'workspace-write'] as const) {
  test(`${mode}: every default secret is unreadable, unwritable and cannot be added to; each is a denial naming it`, async () => {
    const spec = mode === 'read-only' ? RO() : WW();
    const tasks = DEFAULT_HIDDEN_IN_HOME.flatMap((rel) => {
      const file = secretFile(rel);
      const attempts: Array<[string, string]> = [
        ['read', `cat ${q(file)}`],
        ['write', `echo pwned > ${q(file)}`],
        // A new file beside the secret (a dir entry), or replacing the file itself.
        ['create', DIRS.has(rel) ? `echo pwned > ${q(join(home, rel, 'planted'))}` : `rm -f ${q(file)} && echo pwned > ${q(file)}`],
      ];
      return attempts.map(([kind, script]) => async () => ({ rel, kind, r: await sh(script, spec) }));
    });
    for (const { rel, kind, r } of await pool(tasks, 4)) {
      const label = `${mode} ${kind} ~/${rel}`;
      assert.notEqual(r.exitCode, 0, `${label} succeeded`);
      assert.ok(!r.stdout.includes(SECRET), `${label} leaked the secret`);
      assert.equal(r.denial.denied, true, `${label}: ${r.stderr}`);
      assert.match(r.denial.what ?? '', new RegExp(`^access to a hidden path: ${join(home, rel).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `${label}: ${r.denial.what}`);
    }
    for (const rel of DEFAULT_HIDDEN_IN_HOME) {
      assert.equal(readFileSync(secretFile(rel), 'utf8'), `${SECRET} ${rel}\n`, `~/${rel} changed on the host`);
      if (DIRS.has(rel)) assert.deepEqual(readdirSync(join(home, rel)), ['secret'], `~/${rel} gained a file`);
    }
  });
}

test('a hidden directory cannot be listed, chmodded, removed or renamed', async () => {
  for (const script of ['ls ~/.ssh', 'chmod 755 ~/.ssh', 'rm -rf ~/.ssh', 'mv ~/.ssh ~/moved', 'mv ~/.netrc ~/moved2']) {
    const r = await runCommand({ command: ['sh', '-c', script], cwd: home, sandboxSpec: WW(), env: { ...process.env, HOME: home } });
    assert.notEqual(r.exitCode, 0, `${script} succeeded`);
    assert.equal(r.denial.denied, true, `${script}: ${r.stderr}`);
  }
  assert.equal(readFileSync(join(home, '.ssh', 'secret'), 'utf8'), `${SECRET} .ssh\n`);
  assert.equal(statSync(join(home, '.ssh')).mode & 0o777, 0o755);
});

test('--no-default-hides (an empty list) shows them again: the masks are what hides them', async () => {
  const r = await sh(`cat ${q(join(home, '.ssh', 'secret'))}`, { ...RO(), hidden: [] });
  assert.equal(r.stdout, `${SECRET} .ssh\n`);
});

test('a patch that writes a hidden path asks, even inside the workspace', () => {
  const policy: RequestPolicy = { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: false, hidden: hidden() };
  for (const rel of DEFAULT_HIDDEN_IN_HOME) {
    const target = DIRS.has(rel) ? `${rel}/authorized_keys` : rel;
    for (const body of [`*** Add File: ${target}\n+pwned`, `*** Delete File: ${target}`]) {
      const c = classifyPatch({ patch: `*** Begin Patch\n${body}\n*** End Patch`, cwd: home, policy, platformSandbox: 'bwrap', approvedForSession: false });
      assert.equal(c.outcome, 'ask', `${body}: ${c.reason}`);
      assert.match(c.reason, /hidden from sandboxed commands/);
    }
  }
  const ok = classifyPatch({ patch: '*** Begin Patch\n*** Add File: notes2.txt\n+x\n*** End Patch', cwd: home, policy, platformSandbox: 'bwrap', approvedForSession: false });
  assert.equal(ok.outcome, 'auto-approve', ok.reason);
});

// ---- warden's own store, through the real CLI (the self-approval attack at the store level)

interface Place {
  name: string;
  /** --store value, or null for the default location. */
  store: (ws: string) => string | null;
  cwd: (ws: string) => string;
}

const PLACES: Place[] = [
  { name: 'in /tmp', store: () => join(base, 'tmpstore', 'events.db'), cwd: (ws) => ws },
  { name: 'inside the workspace', store: (ws) => join(ws, 'events.db'), cwd: (ws) => ws },
  { name: 'at its default location with cwd = $HOME', store: () => null, cwd: () => home },
];

for (const place of PLACES) {
  test(`the store ${place.name}: a sandboxed command can neither read it nor run warden approve on it`, () => {
    const ws = join(base, `ws-${place.name.replace(/\W+/g, '-')}`);
    mkdirSync(ws, { recursive: true });
    const store = place.store(ws);
    const dbPath = store ?? join(home, '.local', 'state', 'warden', 'events.db');
    mkdirSync(dirname(dbPath), { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, WARDEN_LOG: 'silent' };
    delete env.WARDEN_STORE;
    delete env.XDG_STATE_HOME;
    delete env.XDG_CONFIG_HOME;
    const storeArgs = store === null ? [] : ['--store', store];
    const attack = [
      `${q(process.execPath)} ${q(WARDEN)} approve --store ${q(dbPath)} --list --json && echo APPROVE-WORKED`,
      `head -c 15 ${q(dbPath)}`,
      `echo junk >> ${q(dbPath)} && echo WRITE-WORKED`,
      // SQLite plays a -wal (or a hot -journal) back into the store at its next open: planting one forges the record
      `for x in -wal -shm -journal; do printf junk > ${q(dbPath)}$x && echo COMPANION-WRITTEN$x; done`,
      `ls ${q(dirname(dbPath))}`,
      'true',
    ].join('; ');
    // --approval never: the denial goes back to the "agent" instead of asking (nobody is here to ask).
    const r = spawnSync(process.execPath, [WARDEN, 'exec', '--approval', 'never', ...storeArgs, '--', 'sh', '-c', attack], {
      cwd: place.cwd(ws),
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes('APPROVE-WORKED'), r.stdout);
    assert.ok(!r.stdout.includes('WRITE-WORKED'), r.stdout);
    assert.doesNotMatch(r.stdout, /COMPANION-WRITTEN/);
    assert.ok(!r.stdout.includes('SQLite format'), 'the store was read from inside');
    assert.match(r.stderr, /Permission denied|EACCES|Read-only/);
    // The store is intact: its chain verifies and the attack's own request is in it.
    const verify = spawnSync(process.execPath, [WARDEN, 'verify', '--store', dbPath], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    const audit = spawnSync(process.execPath, [WARDEN, 'audit', '--store', dbPath, '--json'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.match(audit.stdout, /APPROVE-WORKED/, 'the attempt is recorded');
  });
}

test('a PostgreSQL store URL and PG credentials never reach a sandboxed command', async () => {
  const r = await runCommand({
    command: ['sh', '-c', 'env'],
    cwd: home,
    sandboxSpec: RO(),
    env: { PATH: process.env.PATH, WARDEN_STORE: 'postgres://postgres:hunter2@127.0.0.1:5432/test', PGPASSWORD: 'hunter2' },
  });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.ok(!r.stdout.includes('hunter2'), r.stdout);
  assert.ok(!r.stdout.includes('WARDEN_STORE'), r.stdout);
});

// ---- hard links: a mask covers a path, another name of the same file is not covered

test('a hard link to a hidden file in the workspace: the run is refused before the command starts, and no link can be made from inside', async () => {
  const top = join(base, 'links');
  const h = join(top, 'home');
  const ws = join(top, 'ws');
  mkdirSync(join(h, '.aws'), { recursive: true });
  mkdirSync(ws, { recursive: true });
  writeFileSync(join(h, '.aws', 'credentials'), `${SECRET} aws\n`);
  writeFileSync(join(h, '.netrc'), `${SECRET} netrc\n`);
  const list = defaultHiddenPaths({ HOME: h });
  const spec = (extra: string[] = []): SandboxSpec => ({ mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: false, hidden: [...list, ...extra] });
  const run = (script: string, s: SandboxSpec) => runCommand({ command: ['sh', '-c', script], cwd: ws, sandboxSpec: s, env: { ...process.env, HOME: h } });

  // From inside, the masked name is the decoy's mount: a link to it is refused (EXDEV or EACCES).
  const inside = await run(`ln ${q(join(h, '.aws', 'credentials'))} made; ln ${q(join(h, '.netrc'))} made2; cat made made2; echo ran`, spec());
  assert.equal(inside.stdout.includes(SECRET), false, inside.stdout);
  assert.match(inside.stdout, /ran/);
  assert.deepEqual(readdirSync(ws), []);

  // Links made outside (the person, an earlier bare run): a file inside a hidden directory, and a hidden file itself.
  for (const [secret, name] of [[join(h, '.aws', 'credentials'), 'creds'], [join(h, '.netrc'), 'netrc']] as const) {
    linkSync(secret, join(ws, name));
    const r = await run(`cat ${name}; touch ran-${name}`, spec());
    assert.equal(r.stdout.includes(SECRET), false, `${name}: the secret was read through its hard link`);
    assert.equal(r.exitCode, null, `${name}: the command ran`);
    assert.match(r.error ?? '', new RegExp(`^sandbox set-up failed: the hidden file ${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has 2 names`));
    assert.equal(existsSync(join(ws, `ran-${name}`)), false, `${name}: the command ran`);
    // Hidden under both names, the run goes ahead and neither name shows the bytes.
    const both = await run(`cat ${q(secret)}; cat ${name}`, spec([join(ws, name)]));
    assert.equal(both.error, undefined, both.error);
    assert.equal(both.stdout, '');
    assert.equal(both.denial.denied, true, both.stderr);
    rmSync(join(ws, name));
  }
  const clean = await run('echo ok', spec());
  assert.equal(clean.stdout, 'ok\n', clean.error);
});

test('the agent\'s tokens in the environment: a sandboxed command without network sees none of them (real CLI); with --network it keeps them', () => {
  const ws = join(base, 'envtokens');
  mkdirSync(ws, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    WARDEN_LOG: 'silent',
    GH_TOKEN: `${SECRET}-gh`,
    AWS_SECRET_ACCESS_KEY: `${SECRET}-aws`,
    OPENAI_API_KEY: `${SECRET}-openai`,
    GIT_REMOTE: `https://me:${SECRET}-url@example.com/r`,
    AWS_REGION: 'eu-west-1',
  };
  delete env.WARDEN_STORE;
  const exec = (...flags: string[]) =>
    spawnSync(process.execPath, [WARDEN, 'exec', '--approval', 'never', '--store', join(ws, 'events.db'), ...flags, '--', 'sh', '-c', 'env; cat /proc/self/environ | tr "\\0" "\\n"; git --version >/dev/null && echo GIT-OK'], {
      cwd: ws,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
  const off = exec();
  assert.equal(off.status, 0, off.stderr);
  assert.ok(!off.stdout.includes(SECRET), `a token reached the command:\n${off.stdout}`);
  assert.match(off.stdout, /^AWS_REGION=eu-west-1$/m);
  assert.match(off.stdout, /^GIT-OK$/m);
  const on = exec('--network');
  assert.equal(on.status, 0, on.stderr);
  assert.match(on.stdout, new RegExp(`^GH_TOKEN=${SECRET}-gh$`, 'm'));
});

test('credential files that variables move off their default place are hidden too (real CLI, with and without the network)', () => {
  const top = join(base, 'moved');
  const ws = join(top, 'ws');
  const runtime = join(top, 'run');
  mkdirSync(ws, { recursive: true });
  mkdirSync(join(runtime, 'containers'), { recursive: true });
  mkdirSync(join(top, 'gcloud'));
  const files: Record<string, string> = {
    AWS_SHARED_CREDENTIALS_FILE: join(top, 'aws-creds'),
    GOOGLE_APPLICATION_CREDENTIALS: join(top, 'sa.json'),
    KUBECONFIG: join(top, 'kube2'),
    KRB5CCNAME: join(top, 'krb5cc'),
    REGISTRY_AUTH_FILE: join(top, 'podman.json'),
  };
  for (const [name, path] of Object.entries(files)) writeFileSync(path, `${SECRET} ${name}\n`);
  writeFileSync(join(runtime, 'containers', 'auth.json'), `${SECRET} runtime\n`);
  writeFileSync(join(top, 'gcloud', 'credentials.db'), `${SECRET} gcloud\n`);
  writeFileSync(join(top, 'kube1'), 'not secret on its own, but a KUBECONFIG entry\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    WARDEN_LOG: 'silent',
    ...files,
    KUBECONFIG: `${join(top, 'kube1')}:${files.KUBECONFIG}`,
    KRB5CCNAME: `FILE:${files.KRB5CCNAME}`,
    XDG_RUNTIME_DIR: runtime,
    CLOUDSDK_CONFIG: join(top, 'gcloud'),
  };
  delete env.WARDEN_STORE;
  const paths = [...Object.values(files), join(runtime, 'containers', 'auth.json'), join(top, 'gcloud', 'credentials.db'), join(top, 'kube1')];
  for (const flags of [[], ['--network']]) {
    const r = spawnSync(process.execPath, [WARDEN, 'exec', '--approval', 'never', '--store', join(ws, 'events.db'), ...flags, '--', 'sh', '-c', paths.map((p) => `cat ${q(p)}`).join('; ')], {
      cwd: ws,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.ok(!r.stdout.includes(SECRET), `${flags.join(' ') || 'no network'}: a moved credential file was read:\n${r.stdout}`);
    assert.ok(!r.stdout.includes('not secret'), 'a KUBECONFIG entry was read');
    assert.equal((r.stderr.match(/Permission denied/g) ?? []).length, paths.length, r.stderr);
  }
});

test('the machine\'s own secrets (shadow, ssh host keys, mounted container secrets) are hidden wherever HOME is (real CLI)', () => {
  const ws = join(base, 'system');
  mkdirSync(ws, { recursive: true });
  // A container's mounted secrets, where this test may make them (as root; /run/secrets is absent elsewhere).
  let planted: string | null = null;
  if (!existsSync('/run/secrets')) {
    try {
      mkdirSync('/run/secrets');
      writeFileSync('/run/secrets/warden-test', `${SECRET} run-secrets\n`);
      planted = '/run/secrets';
    } catch {
      planted = null;
    }
  }
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, WARDEN_LOG: 'silent' };
    delete env.WARDEN_STORE;
    const script = `cat /etc/shadow; cat /etc/gshadow; ${planted === null ? '' : 'cat /run/secrets/warden-test; '}ls /etc/ssh >/dev/null && echo SSH-CONFIG-VISIBLE`;
    const r = spawnSync(process.execPath, [WARDEN, 'exec', '--approval', 'never', '--store', join(ws, 'events.db'), '--', 'sh', '-c', script], { cwd: ws, env, encoding: 'utf8', timeout: 120_000 });
    assert.doesNotMatch(r.stdout, /^root:/m, '/etc/shadow was read');
    assert.ok(!r.stdout.includes(SECRET), r.stdout);
    assert.match(r.stderr, /\/etc\/shadow: Permission denied/);
    assert.match(r.stdout, /SSH-CONFIG-VISIBLE/, 'the ssh client\'s own config must stay readable');
  } finally {
    if (planted !== null) rmSync(planted, { recursive: true, force: true });
  }
});
