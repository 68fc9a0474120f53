/**
 * `warden audit`'s pure parts: the times a filter accepts (and the ones it refuses instead of
 * guessing), the zone in the time column, CSV cells an agent's command cannot turn into a
 * spreadsheet formula, and the format flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvCell, formatOf, formatTime, parseFilter, parseWhen } from '../../src/cli/commands/audit.ts';
import { isConfigError } from '../../src/errors.ts';

const now = Date.parse('2026-12-02T12:00:00Z');

test('--since/--until: spans back from now, dates, times, zones; nothing else', () => {
  const utc = { now, utc: true };
  assert.equal(parseWhen('30m', '--since', utc), now - 30 * 60_000);
  assert.equal(parseWhen('2h', '--since', utc), now - 2 * 3_600_000);
  assert.equal(parseWhen('7d', '--since', utc), now - 7 * 86_400_000);
  assert.equal(parseWhen('2026-12-02', '--since', utc), Date.parse('2026-12-02T00:00:00Z'));
  assert.equal(parseWhen('2026-12-02 10:30', '--since', utc), Date.parse('2026-12-02T10:30:00Z'));
  assert.equal(parseWhen('2026-12-02T10:30:15.5', '--since', utc), Date.parse('2026-12-02T10:30:15.500Z'));
  assert.equal(parseWhen('2026-12-02T10:30+01:00', '--since', { now, utc: false }), Date.parse('2026-12-02T09:30:00Z'));
  assert.equal(parseWhen('2026-12-02T10:30Z', '--since', { now, utc: false }), Date.parse('2026-12-02T10:30:00Z'));
  for (const bad of ['yesterday', '5 min', '12/02', '2026-02-31', '2026-12-02T25:00', '2026-13-01', '2026-12-02T10:60', '', '-3h', '3y']) {
    assert.throws(() => parseWhen(bad, '--since', utc), (e) => isConfigError(e) && /--since/.test((e as Error).message), bad);
  }
});

test('the time column: local with its offset, or UTC marked Z', () => {
  assert.equal(formatTime('2026-12-02T09:26:32.123Z', true), '2026-12-02 09:26:32Z');
  assert.match(formatTime('2026-12-02T09:26:32.123Z', false), /^2026-12-0[23] \d{2}:\d{2}:32 [+-]\d{2}:\d{2}$/);
});

test('a CSV cell is quoted when needed, and never starts a formula', () => {
  assert.equal(csvCell('ls'), 'ls');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(3), '3');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
  assert.equal(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  for (const start of ['=', '+', '-', '@', '\t', '\r']) assert.ok(csvCell(`${start}1+1`).replace(/^"/, '').startsWith("'"), JSON.stringify(start));
  assert.equal(csvCell(-1), '-1', 'a number is a number');
});

test('formats and filters are checked before anything is read', () => {
  assert.equal(formatOf({}), 'table');
  assert.equal(formatOf({ json: true }), 'jsonl');
  assert.equal(formatOf({ format: 'csv' }), 'csv');
  assert.throws(() => formatOf({ format: 'xml' }), isConfigError);
  assert.throws(() => formatOf({ json: true, format: 'csv' }), isConfigError);
  assert.throws(() => parseFilter({ outcome: 'completed,bogus' }, now), /--outcome bogus: not an outcome/);
  assert.deepEqual(parseFilter({ outcome: 'completed, denied', decidedBy: 'user,policy', command: 'GIT' }, now), {
    outcomes: ['completed', 'denied'],
    decidedBy: ['user', 'policy'],
    command: 'git',
  });
});
