#!/usr/bin/env node
/**
 * `npm run build`: compiles src/ to dist/, one JavaScript file per TypeScript file at the same
 * relative path, so every `import.meta.url`-relative lookup (the inspector's page, the patch
 * applier, package.json) finds the same neighbours in src/ under tsx and in dist/ under node.
 *
 * esbuild, not tsc: it strips types without checking them (typechecking is `npm run typecheck`),
 * 0.2 s for the whole tree against 11 s for `tsc -p` on the 2-core machine, so the test runner can
 * build before every run. Relative imports are rewritten from `.ts` to `.js` and left external, so
 * no file is bundled into another; packages resolve from node_modules at run time as usual.
 *
 * Incremental and safe beside a running test: a file is written only when its content changed, to
 * a temporary name renamed into place, so a process importing dist/ never reads half a file; files
 * whose source is gone (a moved module) are removed. Non-TypeScript files under src/ are copied.
 * `--quiet` prints nothing when nothing changed.
 *
 * Then one bundle per hot command (BUNDLED below): dist/cli/main.<command>.cjs holds main.ts, that
 * command and every module it reaches, with commander, zod, xstate and the other pure-JavaScript
 * packages inlined (`--minify-syntax`), so its start-up reads one file instead of ~150 modules and
 * ~100 package files (measured: `exec -- true` 0.30 s of CPU to 0.22 s). It is a CommonJS script,
 * not a module, so that src/cli/runBundle.ts can run it with V8's code cache (Node 20 has no module
 * compile cache; ~45 ms less per `exec`). bin/warden.js runs the bundle when the first word names
 * that command and main.js otherwise.
 * Kept outside every bundle: packages with native code or files found beside their own code
 * (better-sqlite3, web-tree-sitter and its grammar, pino's transports) and the heavy ones no hot
 * command needs (pg, elkjs). The other commands' modules stay external too (they are never imported
 * by a bundle, whose registry is asked only for its own command). Everything that looks a file up
 * from import.meta.url works from dist/cli as from its own folder: package.json and native/ are two
 * levels up from both, and the patch applier's path is found by walking up to package.json.
 */
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const quiet = process.argv.includes('--quiet');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Writes `content` at `path` unless it already holds exactly that; true when it wrote. */
function writeIfChanged(path, content) {
  try {
    if (readFileSync(path).equals(content)) return false;
  } catch {
    // missing: write it
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
  return true;
}

const rewriteRelativeImports = {
  name: 'rewrite-relative-imports',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      return { path: args.path.replace(/\.ts$/, '.js'), external: true };
    });
  },
};

const started = performance.now();
const sources = walk(SRC);
const tsFiles = sources.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const assets = sources.filter((f) => !f.endsWith('.ts'));

const result = await build({
  entryPoints: tsFiles,
  outdir: DIST,
  outbase: SRC,
  bundle: true,
  packages: 'external',
  plugins: [rewriteRelativeImports],
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  write: false,
  logLevel: 'warning',
});

const wanted = new Set();
let written = 0;
for (const file of result.outputFiles) {
  wanted.add(file.path);
  if (writeIfChanged(file.path, Buffer.from(file.contents))) written += 1;
}
for (const asset of assets) {
  const out = join(DIST, relative(SRC, asset));
  wanted.add(out);
  if (writeIfChanged(out, readFileSync(asset))) written += 1;
}
const BUNDLED = ['exec', 'hook', 'serve'];
const EXTERNAL = ['better-sqlite3', 'pg', 'elkjs', 'web-tree-sitter', 'tree-sitter-bash', 'pino'];
const bundleStarted = performance.now();
let bundlesWritten = 0;
for (const command of BUNDLED) {
  const onlyThisCommand = {
    name: 'only-this-command',
    setup(b) {
      b.onResolve({ filter: /^\.\/\w+\.ts$/ }, (args) => {
        if (!args.importer.endsWith(join('cli', 'commands', 'index.ts'))) return undefined;
        const name = args.path.slice(2, -3);
        if (name === command) return undefined;
        return { path: `./commands/${name}.js`, external: true };
      });
    },
  };
  const outfile = join(DIST, 'cli', `main.${command}.cjs`);
  const bundled = await build({
    entryPoints: [join(SRC, 'cli', 'main.ts')],
    outfile,
    bundle: true,
    external: EXTERNAL,
    plugins: [onlyThisCommand],
    // A CommonJS script that src/cli/runBundle.ts compiles with V8's code cache (Node 20 can cache
    // only scripts, not ES modules). Strict, as the ES modules it is built from are (esbuild writes
    // the directive; checked below); import.meta.url and import() become the two names runBundle
    // passes in (see wardenImports below).
    define: { 'import.meta.url': '__wardenImportMetaUrl' },
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minifySyntax: true,
    sourcemap: false,
    write: false,
    metafile: true,
    logLevel: 'warning',
  });
  for (const file of bundled.outputFiles) {
    // A require of a lazily needed package means some module now imports it statically: `pg` cost
    // every exec, hook and serve ~40 ms before it was imported inside openStore's path.
    const eager = file.text.match(/\brequire\("(pg|elkjs)"\)/);
    if (eager) throw new Error(`build: ${relative(ROOT, file.path)} imports ${eager[1]} at start-up; import it where it is used`);
    if (!file.text.startsWith('"use strict";')) throw new Error(`build: ${relative(ROOT, file.path)} is not strict mode`);
    wanted.add(file.path);
    const output = Object.entries(bundled.metafile.outputs).find(([path]) => resolve(path) === outfile)?.[1];
    if (writeIfChanged(file.path, Buffer.from(wardenImports(file.text, output, file.path)))) bundlesWritten += 1;
  }
}

/**
 * A script has no import(): each of the bundle's dynamic imports (of an external package, a
 * built-in or another command's module) calls runBundle's `__wardenImport` instead. Only the
 * imports esbuild itself found are rewritten, and the build fails if any `import(` is left or if
 * their number differs, so no string or comment that merely contains `import("…")` is changed.
 */
function wardenImports(text, output, path) {
  const real = new Set(output.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path));
  const rewritten = new Set();
  const out = text.replace(/(?<![\w$.])import\("([^"\\]+)"\)/g, (whole, specifier) => {
    if (!real.has(specifier)) throw new Error(`build: ${relative(ROOT, path)}: ${whole} is not one of the bundle's dynamic imports`);
    rewritten.add(specifier);
    return `__wardenImport(${JSON.stringify(specifier)})`;
  });
  if (/(?<![\w$.])import\s*\(/.test(out)) throw new Error(`build: ${relative(ROOT, path)} has an import() the build cannot rewrite`);
  if (rewritten.size !== real.size) throw new Error(`build: ${relative(ROOT, path)}: esbuild found ${[...real].join(', ')}, the text had ${[...rewritten].join(', ')}`);
  return out;
}
// The launcher's half (bin/warden.js is CommonJS: an ES module entry costs every start-up node's
// ESM loader, ~5 ms): runBundle as a CommonJS file it can require. It imports only built-ins.
{
  const outfile = join(DIST, 'cli', 'runBundle.cjs');
  const launcher = await build({
    entryPoints: [join(SRC, 'cli', 'runBundle.ts')],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'warning',
  });
  for (const file of launcher.outputFiles) {
    if (/\brequire\("(?!node:)/.test(file.text)) throw new Error('build: runBundle.cjs requires something other than a built-in');
    wanted.add(file.path);
    if (writeIfChanged(file.path, Buffer.from(file.contents))) bundlesWritten += 1;
  }
}
if (!quiet || bundlesWritten > 0) {
  process.stderr.write(`build: ${BUNDLED.length} command bundles, ${bundlesWritten} written in ${Math.round(performance.now() - bundleStarted)} ms\n`);
}
let removed = 0;
for (const existing of statSync(DIST, { throwIfNoEntry: false }) ? walk(DIST) : []) {
  if (!wanted.has(existing)) {
    rmSync(existing);
    removed += 1;
  }
}
if (!quiet || written + removed > 0) {
  process.stderr.write(`build: ${tsFiles.length} modules, ${written} written, ${removed} removed in ${Math.round(performance.now() - started)} ms\n`);
}

await import('./build-native.mjs');
