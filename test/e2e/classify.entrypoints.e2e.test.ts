/**
 * One grammar for every entry point (issue #12): the same corpus through `warden classify` and a
 * cold `warden exec` per line gives the same verdict (known_safe, dangerous, outcome, reason), so
 * no verdict depends on whether an earlier request loaded the shell grammar. exec runs under
 * `--approval untrusted --sandbox read-only` with nobody to ask: only known-safe lines run (in the
 * read-only sandbox), every other one is classified and then not run. Real processes, real store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { warden } from '../support/cli.ts';
import { readEvents } from './mcp.harness.ts';

const CORPUS: string[][] = [
  ['ls', '-la'],
  ['bash', '-lc', 'ls && pwd'],
  ['find', '.', '-exec', 'sh', '-c', 'rm -rf x', ';'],
  ['bash', '-c', '--', 'rm -rf x'],
  ['env', '-Srm -rf x'],
  ['sudo', 'bash', '-c', 'git reset --hard'],
  ['git', '--shallow-file', 'x', 'clean', '-fdx'],
  ['sort', '-o', 'out', 'in'],
  ['bash', '-lc', 'git diff HEAD~3 -- src/'],
];

test('classify and a cold exec per line agree on every verdict', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-entry-'));
  const policy = ['--approval', 'untrusted', '--sandbox', 'read-only'];
  const input = CORPUS.map((command) => JSON.stringify({ command, cwd: dir })).join('\n') + '\n';
  // no rules: the default file under an empty XDG_CONFIG_HOME is absent
  const out = warden(['classify', ...policy], { input, cwd: dir, env: { XDG_CONFIG_HOME: dir } });
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { known_safe: boolean; dangerous: boolean; outcome: string; reason: string });
  assert.equal(lines.length, CORPUS.length);
  for (const [i, command] of CORPUS.entries()) {
    const store = join(dir, `events-${i}.db`);
    warden(['exec', ...policy, '--store', store, '--decision-timeout', '1', '--', ...command], { cwd: dir, env: { XDG_CONFIG_HOME: dir, WARDEN_SESSION: `s${i}` } });
    const events = await readEvents(store);
    const c = events.find((e) => e.type === 'Classified');
    assert.ok(c, `${JSON.stringify(command)}: no Classified event`);
    const data = c.data as { knownSafe: boolean; dangerous: boolean; outcome: string; reason: string };
    assert.deepEqual(
      { known_safe: data.knownSafe, dangerous: data.dangerous, outcome: data.outcome, reason: data.reason },
      { known_safe: lines[i]!.known_safe, dangerous: lines[i]!.dangerous, outcome: lines[i]!.outcome, reason: lines[i]!.reason },
      JSON.stringify(command),
    );
  }
  // the rows, as the verdicts must read
  assert.equal(lines[2]!.dangerous, true, 'find -exec sh -c rm -rf');
  assert.equal(lines[3]!.dangerous, true, 'bash -c -- rm -rf');
  assert.equal(lines[4]!.dangerous, true, 'env -S attached');
  assert.equal(lines[6]!.dangerous, true, 'git --shallow-file x clean -fdx');
  assert.equal(lines[8]!.known_safe, true, 'HEAD~3 is a literal ~');
});
