/**
 * One grammar for every entry point (issue #12): the same corpus through `warden classify`, a
 * cold `warden exec` per line and one long-running `warden serve` (MCP over stdio, every line on
 * one connection, the corpus twice so the second pass comes after requests that load the grammar)
 * gives the same verdict (known_safe, dangerous, outcome, reason), so no verdict depends on
 * whether an earlier request loaded the shell grammar. Everything runs under `--approval untrusted
 * --sandbox read-only` with nobody to say yes (exec has no terminal, serve's client declines):
 * only known-safe lines run (in the read-only sandbox), every other one is classified and then not
 * run. Real processes, real store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { warden } from '../support/cli.ts';
import { RawClient, readEvents } from './mcp.harness.ts';

interface Verdict {
  known_safe: boolean;
  dangerous: boolean;
  outcome: string;
  sandbox: string;
  reason: string;
}

const CORPUS: string[][] = [
  ['ls', '-la'],
  ['bash', '-lc', 'ls && pwd'],
  ['find', '.', '-exec', 'sh', '-c', 'rm -rf x', ';'],
  ['bash', '-c', '--', 'rm -rf x'],
  ['env', '-Srm -rf x'],
  ['sudo', 'bash', '-c', 'git reset --hard'],
  ['git', '--shallow-file', 'x', 'clean', '-fdx'],
  ['sort', '-o', 'out', 'in'],
  ['bash', '-lc', 'git log HEAD~3 -- src/'],
  ['find', '.', '-name', '*.ts'],
  ['bash', '-lc', "find . -exec sh -c 'rm -rf x' ';'"],
  ['git', 'status'],
  ['bash', '-lc', 'git status && git diff'],
  ['bash', '-lc', 'git status && git diff --no-ext-diff'],
  ['bash', '-c', 'rm -rf x\r'],
  ['sh', '-ec', 'git clean -fdx'],
  ['rg', '-n', 'foo', 'src/*.ts'],
  ['rg', 'foo', '*.py'],
  ['bash', '-lc', 'rg foo *.py'],
  ['env', '--split-string=git push --force'],
  ['xargs', 'rm', '-rf'],
];

/** The verdict fields as `warden classify` prints them, from a stored Classified event. */
function verdictOf(data: unknown): Verdict {
  const d = data as { knownSafe: boolean; dangerous: boolean; outcome: string; sandbox: string; reason: string };
  return { known_safe: d.knownSafe, dangerous: d.dangerous, outcome: d.outcome, sandbox: d.sandbox, reason: d.reason };
}

async function entryPointsAgree(policy: string[]): Promise<void> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-entry-')));
  const input = CORPUS.map((command) => JSON.stringify({ command, cwd: dir })).join('\n') + '\n';
  // no rules: the default file under an empty XDG_CONFIG_HOME is absent
  const out = warden(['classify', ...policy], { input, cwd: dir, env: { XDG_CONFIG_HOME: dir } });
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n').map((l) => {
    const v = JSON.parse(l) as Verdict;
    return { known_safe: v.known_safe, dangerous: v.dangerous, outcome: v.outcome, sandbox: v.sandbox, reason: v.reason };
  });
  assert.equal(lines.length, CORPUS.length);
  for (const [i, command] of CORPUS.entries()) {
    const store = join(dir, `events-${i}.db`);
    warden(['exec', ...policy, '--store', store, '--decision-timeout', '1', '--', ...command], { cwd: dir, env: { XDG_CONFIG_HOME: dir, WARDEN_SESSION: `s${i}` } });
    const events = await readEvents(store);
    const c = events.find((e) => e.type === 'Classified');
    assert.ok(c, `${JSON.stringify(command)}: no Classified event`);
    assert.deepEqual(verdictOf(c.data), lines[i], `cold exec: ${JSON.stringify(command)}`);
  }

  // one warm serve: the corpus twice on one connection, one request after another
  const storePath = join(dir, 'serve.db');
  const rulesPath = join(dir, 'rules.toml');
  writeFileSync(rulesPath, '');
  const client = new RawClient({ dir, ws: dir, storePath, rulesPath }, { args: [...policy, '--decision-timeout', '5'], env: { XDG_CONFIG_HOME: dir } });
  try {
    const init = await client.initialize();
    assert.equal(init.error, undefined, JSON.stringify(init.error));
    const passes = [...CORPUS, ...CORPUS];
    for (const command of passes) await client.call('shell', { command, workdir: dir });
  } finally {
    await client.close();
  }
  const events = await readEvents(storePath);
  const served = events.filter((e) => e.type === 'Classified').map((e) => verdictOf(e.data));
  assert.equal(served.length, 2 * CORPUS.length, 'one Classified per served request');
  for (const [i, v] of served.entries()) {
    assert.deepEqual(v, lines[i % CORPUS.length], `warm serve, pass ${Math.floor(i / CORPUS.length) + 1}: ${JSON.stringify(CORPUS[i % CORPUS.length])}`);
  }
  // the rows, as the verdicts must read
  assert.equal(lines[2]!.dangerous, true, 'find -exec sh -c rm -rf');
  assert.equal(lines[3]!.dangerous, true, 'bash -c -- rm -rf');
  assert.equal(lines[4]!.dangerous, true, 'env -S attached');
  assert.equal(lines[6]!.dangerous, true, 'git --shallow-file x clean -fdx');
  assert.equal(lines[8]!.known_safe, true, 'HEAD~3 is a literal ~');
}

test('classify, a cold exec per line and one warm serve agree on every verdict (untrusted, read-only)', () =>
  entryPointsAgree(['--approval', 'untrusted', '--sandbox', 'read-only']));

// danger-full-access once skipped the sandbox probe in exec: known-safe then asked there and ran in
// the read-only sandbox everywhere else
test('classify, a cold exec per line and one warm serve agree on every verdict (untrusted, danger-full-access)', () =>
  entryPointsAgree(['--approval', 'untrusted', '--sandbox', 'danger-full-access']));
