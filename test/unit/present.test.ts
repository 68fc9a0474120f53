/**
 * The shared presentation layer: commands as a person types them, agent text that cannot steer the
 * terminal, the unified diff (headers, adds, deletes, moves, cuts that count what they leave out),
 * its digest, and the one label table's outcome and decision words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clip, commandText, visible } from '../../src/present/text.ts';
import { cutDiff, diffDigest, diffStat, diffText, patchDiff } from '../../src/safety/patch/unifiedDiff.ts';
import { decisionText, outcome, stateLabel, transitionLabel } from '../../src/present/labels.ts';
import { colourWanted, makeStyle } from '../../src/present/ansi.ts';

test('commands read as typed: no escaped colons, quotes only where a shell needs them', () => {
  assert.equal(commandText(['curl', 'https://example.com']), 'curl https://example.com');
  assert.equal(commandText(['rm', '-rf', 'build dir']), "rm -rf 'build dir'");
  assert.equal(commandText(['echo', "it's", '']), "echo 'it'\\''s' ''");
  assert.equal(commandText(['ls', '~', '$HOME', 'a;b']), "ls '~' '$HOME' 'a;b'");
});

test('agent text cannot move the cursor or recolour the terminal', () => {
  assert.equal(visible('ok\x1b[2K\rfake'), 'ok\\x1b[2K\\x0dfake');
  assert.equal(visible('a\u202eb'), 'a\\u202eb');
  assert.equal(clip('abcdef', 4), 'abc…');
  assert.equal(clip('ab', 4, { pad: true }), 'ab  ');
});

const PATCH = [
  '*** Begin Patch',
  '*** Add File: new.txt',
  '+one',
  '+two',
  '*** Delete File: gone.txt',
  '*** Update File: old.txt',
  '*** Move to: moved.txt',
  '@@ fn main',
  ' keep',
  '-before',
  '+after',
  ' tail',
  '*** End Patch',
].join('\n');

test('a patch as a unified diff: file headers, new and deleted files, renames, - before +', () => {
  const d = patchDiff(PATCH);
  assert.equal(d.ok, true);
  assert.equal(
    diffText(d),
    [
      '--- /dev/null',
      '+++ new.txt',
      'new file',
      '@@ -0,0 +1,2 @@',
      '+one',
      '+two',
      '--- gone.txt',
      '+++ /dev/null',
      'deleted file (the whole file is removed; a patch does not carry its contents)',
      '--- old.txt',
      '+++ moved.txt',
      'rename from old.txt',
      'rename to moved.txt',
      '@@ fn main @@',
      ' keep',
      '-before',
      '+after',
      ' tail',
      '',
    ].join('\n'),
  );
  assert.equal(diffStat(d), '3 files, +3 -1');
  assert.deepEqual(d.files.map((f) => f.change), ['add', 'delete', 'move']);
});

test('a cut diff ends with a line counting every line, + and - and file it left out', () => {
  const files = Array.from({ length: 5 }, (_, i) => `*** Add File: f${i}.txt\n${Array.from({ length: 20 }, (_, j) => `+l${j}`).join('\n')}`);
  const d = patchDiff(`*** Begin Patch\n${files.join('\n')}\n*** End Patch`);
  const cut = cutDiff(d, 30);
  assert.equal(cut.lines.length, 30);
  assert.equal(cut.omitted + 29, d.lines.length);
  assert.equal(cut.omittedAdded + cut.lines.filter((l) => l.kind === 'add').length, 100);
  assert.equal(cut.omittedFiles, 3);
  assert.match(cut.lines.at(-1)!.text, new RegExp(`^… ${cut.omitted} more lines not shown \\(\\+${cut.omittedAdded} -0, 3 more files\\)$`));
  assert.equal(cutDiff(d, 1000).omitted, 0);
});

test('the digest is of the canonical text: same patch, same digest; another edit, another', () => {
  const a = diffDigest(patchDiff(PATCH));
  assert.deepEqual(a, diffDigest(patchDiff(PATCH)));
  assert.equal(a.bytes, Buffer.byteLength(diffText(patchDiff(PATCH))));
  assert.notEqual(a.sha256, diffDigest(patchDiff(PATCH.replace('+after', '+other'))).sha256);
  assert.equal(patchDiff('not a patch').ok, false);
});

test('a run that exited non-zero is a failure, not a completion; an unapplied patch says so', () => {
  assert.deepEqual(outcome({ state: 'completed', final: true, kind: 'exec', exitCode: 0 }), { label: 'completed', tone: 'ok' });
  assert.deepEqual(outcome({ state: 'completed', final: true, kind: 'exec', exitCode: 2 }), { label: 'exited 2', tone: 'bad' });
  assert.deepEqual(outcome({ state: 'completed', final: true, kind: 'patch', exitCode: 1 }), { label: 'not applied (exit 1)', tone: 'bad' });
  assert.equal(outcome({ state: 'awaitingDecision', final: false, kind: 'exec', exitCode: null }).tone, 'wait');
});

test('one word per concept: decisions, sources, states and transitions', () => {
  assert.equal(decisionText({ decision: 'approved_for_session', source: 'user', user: 'ann', reason: 'decided via warden approve' }), 'approved for this session by ann via warden approve');
  assert.equal(decisionText({ decision: 'denied', source: 'timeout' }), 'denied: nobody, in time');
  assert.equal(decisionText({ decision: 'approved', source: 'rule' }), 'approved once by a rule');
  assert.equal(stateLabel('escalating'), 'sandbox blocked it');
  assert.equal(transitionLabel('done.decide [isApproval]'), 'person approved');
  assert.equal(transitionLabel('something.new'), 'something.new', 'an unknown transition keeps its internal name');
});

test('colour only on a terminal, never with NO_COLOR or TERM=dumb', () => {
  assert.equal(colourWanted({ isTTY: true }, {}), true);
  assert.equal(colourWanted({ isTTY: false }, {}), false);
  assert.equal(colourWanted({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colourWanted({ isTTY: true }, { TERM: 'dumb' }), false);
  assert.equal(makeStyle(false).red('x'), 'x');
  assert.equal(makeStyle(true).red('x'), '\x1b[31mx\x1b[39m');
});

test('the always-allow choice says what the rule covers: `git push …` for a subcommand prefix, exactly `touch x` for a literal argv', async () => {
  const { buildQuestion } = await import('../../src/present/question.ts');
  const { execRequest, classification } = await import('../support/fixtures.ts');
  const label = (command: string[], proposedPrefix: string[]) =>
    buildQuestion({
      request: execRequest({ command }),
      classification: { ...classification.ask(), commands: [command], proposedPrefix },
      reason: 'not-known-safe',
      offered: ['approved', 'approved_always', 'denied'],
      escalation: null,
      rulesPath: '/home/u/.config/warden/rules.toml',
    }).choices.find((c) => c.decision === 'approved_always')!.label;
  assert.equal(label(['touch', 'x'], ['touch', 'x']), 'Yes, and always allow exactly `touch x` (writes the rule to /home/u/.config/warden/rules.toml)');
  assert.equal(label(['git', 'push', 'origin'], ['git', 'push']), 'Yes, and always allow `git push …` (writes the rule to /home/u/.config/warden/rules.toml)');
  assert.equal(label(['cargo', 'build', '--release'], ['cargo', 'build', '--release']), 'Yes, and always allow exactly `cargo build --release` (writes the rule to /home/u/.config/warden/rules.toml)');
});
