/**
 * The layers are a test, not only a comment: every folder under src/ opens with a README.md whose
 * `May import:` line lists what its files may import from outside the folder (and, where present, a
 * `Packages:` line listing the npm packages and node built-ins it may use). This file reads the
 * imports of src/** with the TypeScript scanner and fails on any import the headers do not allow,
 * and on a cycle among the top-level folders' permissions (machines ⇄ projections was one).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

interface Header {
  dir: string; // relative to the repository, e.g. 'src/machines'
  mayImport: string[]; // repository-relative files or folders
  packages: string[] | 'any';
}

interface SourceFile {
  path: string; // repository-relative
  imports: string[]; // specifiers as written
}

const rel = (p: string): string => relative(ROOT, p).split(sep).join('/');

function folders(dir: string): string[] {
  return [dir, ...readdirSync(dir).map((n) => join(dir, n)).filter((p) => statSync(p).isDirectory()).flatMap(folders)];
}

function readHeader(dir: string): Header | string {
  const file = join(dir, 'README.md');
  if (!existsSync(file)) return `${rel(dir)} has no README.md`;
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith(`# ${rel(dir)}\n`)) return `${rel(dir)}/README.md does not open with "# ${rel(dir)}"`;
  const body = text.split('\n').slice(1).find((l) => l.trim() !== '');
  if (!body || body.startsWith('May import:')) return `${rel(dir)}/README.md does not say what the folder holds`;
  const list = (label: string): string[] | null => {
    const line = text.split('\n').find((l) => l.startsWith(`${label}:`));
    if (line === undefined) return null;
    return [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  };
  const mayImport = list('May import');
  if (rel(dir) !== 'src' && mayImport === null) return `${rel(dir)}/README.md has no "May import:" line`;
  const packagesLine = text.split('\n').find((l) => l.startsWith('Packages:'));
  return {
    dir: rel(dir),
    mayImport: mayImport ?? [],
    packages: packagesLine === undefined || packagesLine.trim() === 'Packages: any' ? 'any' : list('Packages')!,
  };
}

function sourceFiles(): SourceFile[] {
  return folders(SRC)
    .flatMap((d) => readdirSync(d).filter((n) => /\.(ts|mts|js|mjs)$/.test(n)).map((n) => join(d, n)))
    .map((p) => ({
      path: rel(p),
      imports: ts.preProcessFile(readFileSync(p, 'utf8'), true, true).importedFiles.map((f) => f.fileName),
    }));
}

const inside = (path: string, folder: string): boolean => path === folder || path.startsWith(`${folder}/`);

/** Every import the headers do not allow, as readable lines. Pure, so the checker itself is tested. */
export function importViolations(files: SourceFile[], headers: Header[]): string[] {
  const byDir = new Map(headers.map((h) => [h.dir, h]));
  const out: string[] = [];
  for (const file of files) {
    const own = dirname(file.path);
    // The folders this file sits in, innermost first; src/ itself is checked apart, below.
    const enclosing: Header[] = [];
    for (let d = own; d !== 'src' && d !== '.'; d = dirname(d)) enclosing.push(byDir.get(d)!);
    for (const spec of file.imports) {
      if (spec.startsWith('.')) {
        const target = rel(resolve(ROOT, own, spec));
        if (own === 'src' && dirname(target) !== 'src') {
          out.push(`${file.path} imports ${target}: the files directly in src/ import no folder`);
        }
        for (const h of enclosing) {
          if (inside(target, h.dir)) continue;
          if (!h.mayImport.some((allowed) => inside(target, allowed))) {
            out.push(`${file.path} imports ${target}, which ${h.dir}/README.md does not allow`);
          }
        }
      } else {
        for (const h of enclosing) {
          if (h.packages === 'any') continue;
          if (!h.packages.some((p) => spec === p || spec.startsWith(`${p}/`))) {
            out.push(`${file.path} imports the package ${spec}, which ${h.dir}/README.md does not list`);
          }
        }
      }
    }
  }
  return out;
}

/** A cycle among the top-level folders' permissions, as a path, or null. */
export function permissionCycle(headers: Header[]): string[] | null {
  const top = headers.filter((h) => h.dir.split('/').length === 2);
  const topOf = (p: string): string => p.split('/').slice(0, 2).join('/');
  const edges = new Map(top.map((h) => [h.dir, [...new Set(h.mayImport.map(topOf))].filter((t) => t !== h.dir)]));
  const state = new Map<string, 'open' | 'done'>();
  const walk = (node: string, path: string[]): string[] | null => {
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    if (state.get(node) === 'done') return null;
    state.set(node, 'open');
    for (const next of edges.get(node) ?? []) {
      const cycle = walk(next, [...path, node]);
      if (cycle) return cycle;
    }
    state.set(node, 'done');
    return null;
  };
  for (const h of top) {
    const cycle = walk(h.dir, []);
    if (cycle) return cycle;
  }
  return null;
}

function headers(): Header[] {
  const read = folders(SRC).map(readHeader);
  const problems = read.filter((h): h is string => typeof h === 'string');
  assert.deepEqual(problems, [], 'every src/ folder opens with a README.md header');
  return read as Header[];
}

test('architecture: every src/ folder has a README.md saying what it holds and what it may import', () => {
  headers();
});

test('architecture: no import in src/ goes against its folder header', () => {
  assert.deepEqual(importViolations(sourceFiles(), headers()), []);
});

test('architecture: the top-level folders permit no cycle', () => {
  assert.equal(permissionCycle(headers())?.join(' -> ') ?? null, null);
});

test('architecture: the checker catches an import against the direction, a package and a cycle', () => {
  const hs: Header[] = [
    { dir: 'src/machines', mayImport: ['src/events'], packages: ['xstate'] },
    { dir: 'src/projections', mayImport: ['src/machines'], packages: 'any' },
    { dir: 'src/events', mayImport: [], packages: 'any' },
  ];
  const files: SourceFile[] = [
    { path: 'src/machines/a.ts', imports: ['../events/types.ts', '../projections/p.ts', 'xstate', 'node:fs', './b.ts'] },
    { path: 'src/policy.ts', imports: ['./errors.ts', './events/types.ts'] },
  ];
  assert.deepEqual(importViolations(files, hs), [
    'src/machines/a.ts imports src/projections/p.ts, which src/machines/README.md does not allow',
    'src/machines/a.ts imports the package node:fs, which src/machines/README.md does not list',
    'src/policy.ts imports src/events/types.ts: the files directly in src/ import no folder',
  ]);
  assert.equal(permissionCycle(hs), null);
  hs[0]!.mayImport.push('src/projections/replay.ts');
  assert.deepEqual(permissionCycle(hs), ['src/machines', 'src/projections', 'src/machines']);
});
