#!/usr/bin/env node
// Node 20's test runner neither expands globs nor finds .ts files in a folder: list them here.
// `node scripts/run-tests.mjs [substring...]` runs only the files whose path contains a substring.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.test.ts') ? [path] : [];
  });
}

// The end-to-end tests start the compiled CLI (bin/warden.js runs dist/): build first, so a test
// never runs against a dist/ older than the source. Incremental: unchanged files are not rewritten.
const built = spawnSync(process.execPath, [join(import.meta.dirname, 'build.mjs'), '--quiet'], { stdio: 'inherit' });
if (built.status !== 0) {
  console.error('build failed: not running the tests against a stale dist/');
  process.exit(built.status ?? 1);
}

const filters = process.argv.slice(2);
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit', env: { ...process.env, WARDEN_LOG: process.env.WARDEN_LOG ?? 'silent' } },
);
process.exit(result.status ?? 1);
