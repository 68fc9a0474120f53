/**
 * One writable-roots model (src/sandbox/writableRoots.ts): on generated layouts of a real temp
 * workspace and a second root (nested repositories, planted HEAD/objects/refs, `.git` files pointing
 * elsewhere, hooksPath targets, persistence names and `.git` aliases at any depth, symlinks in, out
 * and dangling), the sandbox's view (the bwrap plan: roots bound read-write, minus what is re-bound
 * read-only, masked or demoted) and the patch checker's view (judgePath over patchRoots) agree:
 * - whatever a patch may write without asking, the sandbox lets it write (else an auto-approved
 *   patch would fail, or worse, the checker would call writable what the sandbox protects);
 * - where the sandbox allows a write the patch checker refuses, the checker's reason is one of its
 *   documented stricter rules (a protected name or git directory deeper than the sandbox masks).
 * Failing cases shrink to the smallest layout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { buildBwrapArgs } from '../../src/sandbox/bwrapArgs.ts';
import { isWithin, nodeFsProbe } from '../../src/sandbox/writableRoots.ts';
import { canonicalPath, judgePath, patchRoots } from '../../src/safety/patch/writablePaths.ts';
import type { RequestPolicy } from '../../src/events/types.ts';

const NAMES = ['a', 'b', 'src', 'vendor', '.git', '.GIT', '.vscode', '.envrc', '.bashrc', 'hooks', 'HEAD', 'objects', 'refs', '.sub-gitdir'];
const seg = fc.constantFrom(...NAMES);
const where = fc.constantFrom('ws', 'ws', 'ws', 'extra', 'out');

type Entry =
  | { kind: 'dir' | 'file' | 'repo'; at: string; path: string[] }
  | { kind: 'gitfile'; at: string; path: string[]; target: string[] }
  | { kind: 'gitconfig'; at: string; path: string[]; hooks: string[] }
  | { kind: 'symlink'; at: string; path: string[]; to: { at: string; path: string[] } | 'dangling' };

const relPath = fc.array(seg, { minLength: 1, maxLength: 3 });
const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({ kind: fc.constantFrom('dir' as const, 'file' as const, 'repo' as const), at: where, path: relPath }),
  fc.record({ kind: fc.constant('gitfile' as const), at: where, path: fc.array(seg, { maxLength: 2 }), target: relPath }),
  fc.record({ kind: fc.constant('gitconfig' as const), at: where, path: fc.array(seg, { maxLength: 2 }), hooks: relPath }),
  fc.record({
    kind: fc.constant('symlink' as const),
    at: where,
    path: relPath,
    to: fc.oneof(fc.constant('dangling' as const), fc.record({ at: where, path: fc.array(seg, { maxLength: 2 }) })),
  }),
);

/** Builds what it can of the layout (a step whose parent is a file is skipped). */
function build(base: string, entries: Entry[]): void {
  const abs = (at: string, p: string[]) => path.join(base, at, ...p);
  const attempt = (f: () => void) => {
    try {
      f();
    } catch {
      // an impossible step of a generated layout (a parent is a file or a link): skipped
    }
  };
  for (const e of entries) {
    const p = abs(e.at, e.path);
    attempt(() => {
      if (existsSync(p) || isLink(p)) return;
      mkdirSync(path.dirname(p), { recursive: true });
      switch (e.kind) {
        case 'dir':
          mkdirSync(p);
          break;
        case 'file':
          writeFileSync(p, 'x\n');
          break;
        case 'repo':
          mkdirSync(path.join(p, 'objects'), { recursive: true });
          mkdirSync(path.join(p, 'refs'));
          writeFileSync(path.join(p, 'HEAD'), 'ref: refs/heads/main\n');
          break;
        case 'gitfile':
          writeFileSync(path.join(p, '.git'), `gitdir: ${path.relative(p, abs(e.at, e.target))}\n`);
          break;
        case 'gitconfig':
          mkdirSync(path.join(p, '.git'), { recursive: true });
          writeFileSync(path.join(p, '.git', 'config'), `[core]\n\thooksPath = ${e.hooks.join('/')}\n`);
          break;
        case 'symlink':
          symlinkSync(e.to === 'dangling' ? path.join(base, 'nowhere', 'x') : abs(e.to.at, e.to.path), p);
          break;
      }
    });
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Every path the layout names, and a new file below each of them and at each top. */
function candidates(base: string, entries: Entry[]): string[] {
  const out = new Set<string>();
  for (const top of ['ws', 'extra', 'out']) out.add(path.join(base, top, 'new.txt'));
  for (const e of entries) {
    for (let i = 1; i <= e.path.length; i++) {
      const p = path.join(base, e.at, ...e.path.slice(0, i));
      out.add(p);
      out.add(path.join(p, 'new.txt'));
    }
    if (e.kind === 'gitfile' || e.kind === 'gitconfig') out.add(path.join(base, e.at, ...e.path, '.git', 'config'));
    if (e.kind === 'repo') out.add(path.join(base, e.at, ...e.path, 'config'));
  }
  return [...out];
}

test('the sandbox and the patch checker agree on what is writable, on generated layouts', () => {
  let checked = 0;
  let writable = 0;
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 8 }), (entries) => {
      const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-roots-prop-')));
      try {
        for (const top of ['ws', 'extra', 'out']) mkdirSync(path.join(base, top));
        build(base, entries);
        const ws = path.join(base, 'ws');
        const policy: RequestPolicy = { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [path.join(base, 'extra')], network: false, tmpWrite: false };
        const plan = buildBwrapArgs({ spec: { mode: 'workspace-write', writableRoots: policy.writableRoots, network: false, tmpWrite: false }, cwd: ws, command: ['true'], env: {}, probe: nodeFsProbe });
        const readOnly = [...plan.readOnly, ...plan.masks];
        const sandboxWrites = (p: string) => {
          // the kernel follows every symlink on the way: judge where the write lands
          const c = canonicalPath(p);
          if (c === null) return false;
          return plan.writableRoots.some((r) => isWithin(c, r)) && !readOnly.some((m) => isWithin(c, m));
        };
        const { roots, gitdirs } = patchRoots(policy, ws, {});
        for (const p of candidates(base, entries)) {
          // a patch writes files: a path that is a directory is refused by the applier whatever the roots say
          if (nodeFsProbe.kind(canonicalPath(p) ?? p) === 'dir') continue;
          const patch = judgePath(p, roots, gitdirs);
          const sandbox = sandboxWrites(p);
          checked++;
          if (patch.writable) {
            writable++;
            assert.ok(sandbox, `the patch checker lets ${path.relative(base, p)} be written, the sandbox does not (bound ${plan.writableRoots.map((r) => path.relative(base, r)).join(', ')}; read-only ${readOnly.map((r) => path.relative(base, r)).join(', ')}; demoted ${plan.demoted.map((d) => d.reason).join('; ')})`);
          } else if (sandbox) {
            assert.match(patch.why, /is inside |git directory/, `only the sandbox lets ${path.relative(base, p)} be written: ${patch.why}`);
          }
        }
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    }),
    { numRuns: Number(process.env.WARDEN_PROP_RUNS ?? 300), includeErrorInReport: true },
  );
  // not vacuous: plenty of paths were writable to both
  assert.ok(writable > checked / 10, `${writable} of ${checked} paths writable`);
});
