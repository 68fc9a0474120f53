/** Applying patches on a real temp directory: every hunk kind, matching rules, and all-or-nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyChunks, applyPatch, PatchApplyError } from '../../src/safety/patch/applyPatch.ts';
import { parsePatch, PatchParseError } from '../../src/safety/patch/parsePatch.ts';

const wrap = (...body: string[]) => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

async function inDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-apply-')));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const read = (dir: string, p: string) => readFileSync(path.join(dir, p), 'utf8');
/** Everything in the directory (relative path → contents), to prove nothing changed. */
function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(path.join(dir, rel))) {
    const p = path.join(rel, name);
    const st = lstatSync(path.join(dir, p));
    if (st.isDirectory()) Object.assign(out, tree(dir, p));
    else out[p] = st.isSymbolicLink() ? `-> link` : readFileSync(path.join(dir, p), 'utf8');
  }
  return out;
}

test('add creates the file and its directories; the report counts lines', async () => {
  await inDir(async (dir) => {
    const r = await applyPatch(wrap('*** Add File: a/b/new.txt', '+one', '+two'), dir);
    assert.equal(read(dir, 'a/b/new.txt'), 'one\ntwo\n');
    assert.deepEqual(r.files, [{ kind: 'add', path: path.join(dir, 'a/b/new.txt'), added: 2, removed: 0 }]);
    assert.equal(r.summary, 'A a/b/new.txt (+2 -0)');
  });
});

test('add overwrites an existing file (as the reference)', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'x'), 'old\nold\n');
    chmodSync(path.join(dir, 'x'), 0o700);
    const r = await applyPatch(wrap('*** Add File: x', '+new'), dir);
    assert.equal(read(dir, 'x'), 'new\n');
    assert.equal(statSync(path.join(dir, 'x')).mode & 0o777, 0o700, 'keeps the mode of the file it replaces');
    assert.equal(r.files[0]!.removed, 2);
  });
});

test('delete removes the file; deleting a missing file or a directory fails', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'gone'), '1\n2\n3\n');
    const r = await applyPatch(wrap('*** Delete File: gone'), dir);
    assert.equal(existsSync(path.join(dir, 'gone')), false);
    assert.deepEqual(r.files, [{ kind: 'delete', path: path.join(dir, 'gone'), added: 0, removed: 3 }]);
    await assert.rejects(applyPatch(wrap('*** Delete File: gone'), dir), /cannot delete gone: no such file/);
    mkdirSync(path.join(dir, 'd'));
    await assert.rejects(applyPatch(wrap('*** Delete File: d'), dir), /is a directory/);
  });
});

test('update replaces lines in place, keeps the mode, and counts + and - lines', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'f.py'), 'def f():\n    a = 1\n    return a\n');
    chmodSync(path.join(dir, 'f.py'), 0o750);
    const r = await applyPatch(wrap('*** Update File: f.py', '@@ def f():', '-    a = 1', '+    a = 2', '+    b = 3', '     return a'), dir);
    assert.equal(read(dir, 'f.py'), 'def f():\n    a = 2\n    b = 3\n    return a\n');
    assert.equal(statSync(path.join(dir, 'f.py')).mode & 0o777, 0o750);
    assert.deepEqual(r.files, [{ kind: 'update', path: path.join(dir, 'f.py'), added: 2, removed: 1 }]);
    assert.equal(r.summary, 'M f.py (+2 -1)');
  });
});

test('update of a missing file fails naming it', async () => {
  await inDir(async (dir) => {
    await assert.rejects(applyPatch(wrap('*** Update File: nope.txt', '@@', '-a', '+b'), dir), /cannot update nope.txt: no such file/);
  });
});

test('multiple chunks apply in order; stacked contexts narrow to the right place', async () => {
  await inDir(async (dir) => {
    const src = ['class A:', '  def run(self):', '    x = 1', 'class B:', '  def run(self):', '    x = 1', 'end'].join('\n') + '\n';
    writeFileSync(path.join(dir, 'm.py'), src);
    await applyPatch(
      wrap('*** Update File: m.py', '@@ class B:', '@@   def run(self):', '-    x = 1', '+    x = 2', '@@', ' end', '+# done'),
      dir,
    );
    assert.equal(read(dir, 'm.py'), ['class A:', '  def run(self):', '    x = 1', 'class B:', '  def run(self):', '    x = 2', 'end', '# done'].join('\n') + '\n');
  });
});

test('End of File anchors the chunk at the end of the file', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'f'), 'x\ny\nx\n');
    await applyPatch(wrap('*** Update File: f', '@@', '-x', '+z', '*** End of File'), dir);
    assert.equal(read(dir, 'f'), 'x\ny\nz\n');
    writeFileSync(path.join(dir, 'g'), 'x\ny\n');
    await assert.rejects(applyPatch(wrap('*** Update File: g', '@@', '-x', '+z', '*** End of File'), dir), /failed to find expected lines in g/);
  });
});

test('a chunk without old lines appends at the end; a file without a final newline gets one', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'f'), 'a\nb');
    await applyPatch(wrap('*** Update File: f', '+c'), dir);
    assert.equal(read(dir, 'f'), 'a\nb\nc\n');
  });
});

test('missing context fails naming the file and the context', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'f'), 'a\n');
    await assert.rejects(applyPatch(wrap('*** Update File: f', '@@ def nowhere', '-a', '+b'), dir), (e: unknown) => {
      assert.ok(e instanceof PatchApplyError);
      assert.match(e.message, /failed to find context 'def nowhere' in f/);
      assert.equal(e.file, 'f');
      return true;
    });
    await assert.rejects(applyPatch(wrap('*** Update File: f', '@@', '-zzz', '+b'), dir), /failed to find expected lines in f:\nzzz/);
  });
});

test('matching loosens step by step: trailing space, indentation, typographic punctuation', () => {
  const chunk = (old: string, neu: string) => parsePatch(wrap('*** Update File: f', '@@', `-${old}`, `+${neu}`)).hunks[0]!;
  const apply = (src: string, old: string, neu: string) => {
    const h = chunk(old, neu);
    assert.ok(h.kind === 'update');
    return applyChunks(src, h.chunks, 'f');
  };
  assert.equal(apply('let a = 1;   \n', 'let a = 1;', 'let a = 2;'), 'let a = 2;\n');
  assert.equal(apply('    indented\n', 'indented', 'changed'), 'changed\n');
  assert.equal(apply('say(\u201chi\u201d) \u2014 ok\n', 'say("hi") - ok', 'x'), 'x\n');
  // An exact match wins over an earlier loose one.
  assert.equal(apply('a \na\n', 'a', 'b'), 'a \nb\n');
});

test('a move writes the new path and removes the old one', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'old.txt'), 'a\n');
    const r = await applyPatch(wrap('*** Update File: old.txt', '*** Move to: sub/new.txt', '@@', '-a', '+b'), dir);
    assert.equal(existsSync(path.join(dir, 'old.txt')), false);
    assert.equal(read(dir, 'sub/new.txt'), 'b\n');
    assert.equal(r.files[0]!.moveTo, path.join(dir, 'sub/new.txt'));
    assert.equal(r.summary, 'M old.txt -> sub/new.txt (+1 -1)');
  });
});

test('hunks see earlier hunks of the same patch (add then update, update then delete)', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'b'), 'b\n');
    await applyPatch(wrap('*** Add File: a', '+1', '*** Update File: a', '@@', '-1', '+2', '*** Update File: b', '@@', '-b', '+c', '*** Delete File: b'), dir);
    assert.equal(read(dir, 'a'), '2\n');
    assert.equal(existsSync(path.join(dir, 'b')), false);
  });
});

test('all or nothing: a failing second file leaves the first untouched', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'one'), 'a\n');
    writeFileSync(path.join(dir, 'two'), 'x\n');
    const before = tree(dir);
    await assert.rejects(
      applyPatch(wrap('*** Update File: one', '@@', '-a', '+CHANGED', '*** Add File: new', '+n', '*** Delete File: two', '*** Update File: two', '@@', '-x', '+y'), dir),
      /cannot update two: no such file/,
    );
    assert.deepEqual(tree(dir), before);
  });
});

const isRoot = process.getuid?.() === 0;
test('all or nothing: a write failure in any file leaves no file changed and no temp file behind', { skip: isRoot ? 'root ignores directory permissions (the blocker test below covers this as root)' : false }, async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'one'), 'a\n');
    mkdirSync(path.join(dir, 'locked'));
    writeFileSync(path.join(dir, 'locked', 'f'), 'x\n');
    chmodSync(path.join(dir, 'locked'), 0o555);
    const before = tree(dir);
    try {
      const r = applyPatch(wrap('*** Update File: one', '@@', '-a', '+b', '*** Add File: fresh/dir/n', '+n', '*** Update File: locked/f', '@@', '-x', '+y'), dir);
      await assert.rejects(r, /cannot write the patched files/);
      assert.deepEqual(tree(dir), before);
      assert.equal(existsSync(path.join(dir, 'fresh')), false, 'directories made for the patch are removed');
    } finally {
      chmodSync(path.join(dir, 'locked'), 0o755);
    }
  });
});

test('a directory that cannot be created fails the whole patch before anything is renamed', async () => {
  // Works as any user, root included: a regular file where a directory must be created makes mkdir fail.
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'one'), 'a\n');
    writeFileSync(path.join(dir, 'blocker'), 'file, not dir\n');
    const before = tree(dir);
    await assert.rejects(
      applyPatch(wrap('*** Update File: one', '@@', '-a', '+b', '*** Add File: made/for/it.txt', '+m', '*** Add File: blocker/inside.txt', '+x'), dir),
      /cannot write the patched files/,
    );
    assert.deepEqual(tree(dir), before, 'no file changed, no temp file left');
    assert.equal(existsSync(path.join(dir, 'made')), false, 'directories made for the patch are removed');
  });
});

test('writes replace symlinks and hard links instead of writing through them', async () => {
  await inDir(async (dir) => {
    mkdirSync(path.join(dir, 'ws'));
    writeFileSync(path.join(dir, 'secret'), 'keep\n');
    symlinkSync(path.join(dir, 'secret'), path.join(dir, 'ws', 'link'));
    linkSync(path.join(dir, 'secret'), path.join(dir, 'ws', 'hard'));
    symlinkSync(path.join(dir, 'never-created'), path.join(dir, 'ws', 'dangling'));
    await applyPatch(wrap('*** Update File: link', '@@', '-keep', '+changed', '*** Update File: hard', '@@', '-keep', '+changed', '*** Add File: dangling', '+x'), path.join(dir, 'ws'));
    assert.equal(read(dir, 'secret'), 'keep\n');
    assert.equal(read(dir, 'ws/link'), 'changed\n');
    assert.equal(lstatSync(path.join(dir, 'ws', 'link')).isSymbolicLink(), false);
    assert.equal(read(dir, 'ws/hard'), 'changed\n');
    assert.equal(existsSync(path.join(dir, 'never-created')), false);
    assert.equal(read(dir, 'ws/dangling'), 'x\n');
  });
});

test('parse errors surface as PatchParseError; an empty patch is an error; nothing is written', async () => {
  await inDir(async (dir) => {
    await assert.rejects(applyPatch(wrap('*** Add File: a', '+x', 'junk'), dir), PatchParseError);
    await assert.rejects(applyPatch('*** Begin Patch\n*** End Patch', dir), /no files were modified/);
    assert.deepEqual(tree(dir), {});
  });
});

test('non-UTF-8 files are refused rather than corrupted', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'bin'), Buffer.from([0xff, 0xfe, 0x0a]));
    await assert.rejects(applyPatch(wrap('*** Update File: bin', '+x'), dir), /not valid UTF-8/);
    assert.deepEqual([...readFileSync(path.join(dir, 'bin'))], [0xff, 0xfe, 0x0a]);
  });
});

test('CRLF patches apply', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'f'), 'a\nb\n');
    await applyPatch(wrap('*** Update File: f', '@@', ' a', '-b', '+c').replace(/\n/g, '\r\n'), dir);
    assert.equal(read(dir, 'f'), 'a\nc\n');
  });
});

test('a failure while committing rolls back what was already replaced, links included', async () => {
  await inDir(async (dir) => {
    writeFileSync(path.join(dir, 'a'), 'a\n');
    writeFileSync(path.join(dir, 'real'), 'r\n');
    symlinkSync('real', path.join(dir, 'link'));
    writeFileSync(path.join(dir, 'b'), 'b\n');
    await assert.rejects(
      applyPatch(wrap('*** Update File: a', '@@', '-a', '+A', '*** Update File: link', '@@', '-r', '+R', '*** Add File: c', '+c', '*** Update File: b', '@@', '-b', '+B'), dir, {
        beforeCommit: () => {
          // Someone turns b into a non-empty directory after validation: its rename must fail.
          rmSync(path.join(dir, 'b'));
          mkdirSync(path.join(dir, 'b'));
          writeFileSync(path.join(dir, 'b', 'keep'), 'k\n');
        },
      }),
      /applying the patch failed \(earlier changes were rolled back\)/,
    );
    assert.equal(read(dir, 'a'), 'a\n');
    assert.equal(lstatSync(path.join(dir, 'link')).isSymbolicLink(), true);
    assert.equal(read(dir, 'link'), 'r\n');
    assert.equal(existsSync(path.join(dir, 'c')), false);
    assert.deepEqual(Object.keys(tree(dir)).sort(), ['a', 'b/keep', 'link', 'real']);
  });
});

test('an update keeps permission bits but drops setuid; as root it keeps the owner', async () => {
  await inDir(async (dir) => {
    const f = path.join(dir, 'tool');
    writeFileSync(f, 'v1\n');
    chmodSync(f, 0o4755);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) (await import('node:fs')).chownSync(f, 1234, 5678);
    await applyPatch(wrap('*** Update File: tool', '@@', '-v1', '+v2'), dir);
    const st = statSync(f);
    assert.equal(st.mode & 0o7777, 0o755);
    if (asRoot) assert.deepEqual([st.uid, st.gid], [1234, 5678]);
  });
});

test('a very long file name still gets a temp file beside it', async () => {
  await inDir(async (dir) => {
    const name = 'n'.repeat(250);
    await applyPatch(wrap(`*** Add File: ${name}`, '+x'), dir);
    assert.equal(read(dir, name), 'x\n');
  });
});
