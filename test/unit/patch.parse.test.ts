/** The apply_patch parser: every header kind, errors that name the line, lenient forms, CRLF, NUL, size cap. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PATCH_BYTES, PatchParseError, parsePatch, tryParsePatch } from '../../src/safety/patch/parsePatch.ts';

const wrap = (...body: string[]) => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

function parseError(text: string): PatchParseError {
  try {
    parsePatch(text);
  } catch (error) {
    assert.ok(error instanceof PatchParseError, `threw ${String(error)}`);
    return error;
  }
  assert.fail('expected a PatchParseError');
}

test('add file: + lines become the contents, each with a newline', () => {
  const p = parsePatch(wrap('*** Add File: src/new.ts', '+line one', '+', '+line three'));
  assert.deepEqual(p.hunks, [{ kind: 'add', path: 'src/new.ts', contents: 'line one\n\nline three\n', line: 2 }]);
});

test('add file with no lines is an empty file', () => {
  const p = parsePatch(wrap('*** Add File: empty.txt'));
  assert.deepEqual(p.hunks, [{ kind: 'add', path: 'empty.txt', contents: '', line: 2 }]);
});

test('delete file has no body', () => {
  const p = parsePatch(wrap('*** Delete File: gone.txt', '*** Add File: b', '+x'));
  assert.equal(p.hunks.length, 2);
  assert.deepEqual(p.hunks[0], { kind: 'delete', path: 'gone.txt', line: 2 });
});

test('update file with move, context, remove, add and end-of-file', () => {
  const p = parsePatch(
    wrap('*** Update File: a.py', '*** Move to: b.py', '@@ def f():', ' keep', '-old', '+new', '*** End of File'),
  );
  assert.deepEqual(p.hunks, [
    {
      kind: 'update',
      path: 'a.py',
      moveTo: 'b.py',
      line: 2,
      chunks: [
        {
          contexts: ['def f():'],
          oldLines: ['keep', 'old'],
          newLines: ['keep', 'new'],
          added: 1,
          removed: 1,
          isEndOfFile: true,
          line: 4,
        },
      ],
    },
  ]);
});

test('several chunks; blank lines between them are skipped; a bare empty line inside is empty context', () => {
  const p = parsePatch(wrap('*** Update File: a', '@@', '-x', '', '+y', '@@ ctx', '-z', '+w'));
  const u = p.hunks[0];
  assert.ok(u && u.kind === 'update');
  assert.equal(u.chunks.length, 2);
  assert.deepEqual(u.chunks[0]!.oldLines, ['x', '']);
  assert.deepEqual(u.chunks[0]!.newLines, ['', 'y']);
  assert.deepEqual(u.chunks[1]!.contexts, ['ctx']);
});

test('stacked @@ contexts narrow the search, outermost first', () => {
  const p = parsePatch(wrap('*** Update File: a', '@@ class Foo', '@@ def bar', '-x', '+y'));
  const u = p.hunks[0];
  assert.ok(u && u.kind === 'update');
  assert.deepEqual(u.chunks[0]!.contexts, ['class Foo', 'def bar']);
});

test('the first chunk may omit @@; a later one may not', () => {
  assert.equal(parsePatch(wrap('*** Update File: a', '+only added')).hunks.length, 1);
  const e = parseError(wrap('*** Update File: a', '@@', '-x', '*** Update File: b', 'x'));
  assert.equal(e.line, 6);
});

test('errors name the line number and the line', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['*** Add File: x\n+x\n*** End Patch', 1, /first line .* '\*\*\* Begin Patch'/],
    ['*** Begin Patch\n*** Add File: x\n+x', 3, /last line .* '\*\*\* End Patch'/],
    [wrap('*** Frobnicate File: x'), 2, /not a valid hunk header.*'\*\*\* Frobnicate File: x'/],
    [wrap('*** Update File: x.txt'), 2, /update file hunk for path 'x.txt' is empty/],
    [wrap('*** Update File: a', '@@', '-x', '+y', 'bogus'), 6, /expected update hunk to start with a '@@'.*'bogus'/],
    [wrap('*** Update File: a', '@@', '-x', '+y', '@@'), 6, /does not contain any lines/],
    [wrap('*** Update File: a', '@@', '*** End of File'), 4, /does not contain any lines/],
    [wrap('*** Update File: a', '@@', '!weird'), 4, /unexpected line.*'!weird'/],
    [wrap('*** Add File:    '), 2, /not a valid hunk header|empty file path/],
    [wrap('*** Delete File: a\0b'), 2, /NUL/],
    ['', 1, /first line/],
    ['*** Begin Patch', 1, /last line/],
  ];
  for (const [text, line, re] of cases) {
    const e = parseError(text);
    assert.equal(e.line, line, `${JSON.stringify(text)} → ${e.message}`);
    assert.match(e.message, re);
    assert.match(e.message, new RegExp(`^line ${line}: `));
  }
});

test('the Begin/End markers may carry surrounding whitespace', () => {
  const p = parsePatch(' *** Begin Patch\n*** Update File: file.txt\n@@\n-one\n+two\n*** End Patch \n\n');
  assert.equal(p.hunks.length, 1);
  assert.equal(parsePatch('\n\n  *** Begin Patch  \n*** Add File: a\n+x\n  *** End Patch  ').hunks.length, 1);
});

test('lenient heredoc wrapper: <<EOF, <<\'EOF\' and <<"EOF", at least four lines', () => {
  for (const opener of ['<<EOF', "<<'EOF'", '<<"EOF"']) {
    const p = parsePatch(`${opener}\n${wrap('*** Add File: a.txt', '+x')}\nEOF`);
    assert.deepEqual(p.hunks.map((h) => h.path), ['a.txt']);
  }
  // Line numbers stay those of the wrapped text.
  assert.equal(parseError(`<<'EOF'\n${wrap('*** Nope: a')}\nEOF`).line, 3);
  // Other openers are not unwrapped.
  assert.equal(parseError(`<<X\n${wrap('*** Add File: a', '+x')}\nX`).line, 1);
  // Too short to hold a patch.
  assert.equal(parseError("<<'EOF'\n*** Begin Patch\nEOF").line, 1);
});

test('CRLF line endings parse like LF, and the CR is not kept in contents', () => {
  const p = parsePatch(wrap('*** Add File: a.txt', '+one', '+two').replace(/\n/g, '\r\n'));
  assert.deepEqual(p.hunks[0], { kind: 'add', path: 'a.txt', contents: 'one\ntwo\n', line: 2 });
  const u = parsePatch(wrap('*** Update File: b', '@@ ctx', ' k', '-x', '+y').replace(/\n/g, '\r\n')).hunks[0];
  assert.ok(u && u.kind === 'update');
  assert.deepEqual(u.chunks[0], { contexts: ['ctx'], oldLines: ['k', 'x'], newLines: ['k', 'y'], added: 1, removed: 1, isEndOfFile: false, line: 3 });
});

test('a lone CR is content, not a line break', () => {
  const p = parsePatch(wrap('*** Add File: a', '+x\ry'));
  assert.equal(p.hunks[0]!.kind === 'add' && p.hunks[0]!.contents, 'x\ry\n');
});

test('NUL bytes in contents are kept; in a path they are an error', () => {
  const p = parsePatch(wrap('*** Add File: a', '+\0bin\0'));
  assert.equal(p.hunks[0]!.kind === 'add' && p.hunks[0]!.contents, '\0bin\0\n');
  assert.match(parseError(wrap('*** Add File: a\0')).message, /NUL/);
});

test('an empty patch parses to no hunks (classification rejects it)', () => {
  assert.deepEqual(parsePatch('*** Begin Patch\n*** End Patch'), { hunks: [] });
});

test('input over the size cap is refused without parsing', () => {
  const big = wrap('*** Add File: a', `+${'x'.repeat(MAX_PATCH_BYTES)}`);
  const e = parseError(big);
  assert.match(e.message, /larger than/);
});

test('a megabyte of ordinary patch parses quickly', () => {
  const lines = Array.from({ length: 50_000 }, (_, i) => `+line ${i} ${'y'.repeat(10)}`);
  const t0 = performance.now();
  const p = parsePatch(wrap('*** Add File: big.txt', ...lines));
  assert.equal(p.hunks.length, 1);
  assert.ok(performance.now() - t0 < 2000);
});

test('tryParsePatch returns failures as values, also for non-strings', () => {
  const r = tryParsePatch(42);
  assert.equal(r.ok, false);
  assert.equal(tryParsePatch(wrap('*** Add File: a', '+x')).ok, true);
  const bad = tryParsePatch(wrap('junk'));
  assert.ok(!bad.ok && bad.error.line === 2 && bad.error.lineText === 'junk');
});

test('blank lines between hunks are skipped', () => {
  const p = parsePatch(wrap('', '*** Add File: a', '+x', '', '   ', '*** Delete File: b', ''));
  assert.deepEqual(p.hunks.map((h) => [h.kind, h.path, h.line]), [['add', 'a', 3], ['delete', 'b', 7]]);
});

test('a byte-order mark before the envelope makes the patch invalid (issue #13: trim() would hide it)', () => {
  for (const text of ['\ufeff*** Begin Patch\n*** Add File: a\n+x\n*** End Patch', '\n \ufeff*** Begin Patch\n*** Add File: a\n+x\n*** End Patch']) {
    assert.throws(() => parsePatch(text), /byte-order mark/);
  }
});
