#!/usr/bin/env node
// Node 20's test runner neither expands globs nor finds .ts files in a folder: list them here.
// `node scripts/run-tests.mjs [substring...]` runs only the files whose path contains a substring.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
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
const home = mkdtempSync(join(tmpdir(), 'warden-test-home-'));
const failuresFile = join(home, '..', `${home.split('/').pop()}-failures.txt`);
const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000',
    '--test-reporter=tap', '--test-reporter-destination=stdout',
    `--test-reporter=${join(import.meta.dirname, 'failures-reporter.mjs')}`, `--test-reporter-destination=${failuresFile}`,
    ...files,
  ],
  { stdio: 'inherit', env: hermeticEnv(home) },
);
rmSync(home, { recursive: true, force: true });
// Last, so that it is in the tail CI keeps: which tests failed and why.
if (existsSync(failuresFile)) {
  process.stdout.write(readFileSync(failuresFile, 'utf8'));
  rmSync(failuresFile, { force: true });
}
process.exit(result.status ?? 1);

/**
 * The tests run with a fresh, empty HOME and none of the person's warden settings. Without it a
 * test reads whatever this machine's user left behind: a rule in ~/.config/warden/rules.toml that
 * allows what the test expects to be asked, a default store in ~/.local/state/warden, hooks that
 * `warden init` wrote into ~/.claude, ~/.codex and ~/.gemini, a WARDEN_STORE in the shell. CI runs
 * on the machine a session left, so a suite that passes on a fresh machine failed there. The tests
 * also write into HOME (the clients keep state there); now they never touch the person's files.
 * Kept from the real HOME, read-only in spirit: npm's config and cache (the registry, node-gyp's
 * headers for the tarball install), the cache of pinned real clients, and pyenv's and rustup's
 * toolchains, which live under HOME on this machine.
 */
function hermeticEnv(home) {
  const real = homedir();
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^XDG_/.test(name)) continue;
    if (/^WARDEN_/.test(name) && !/^WARDEN_(LOG|TEST_.*|CLIENTS_CACHE)$/.test(name)) continue;
    env[name] = value;
  }
  // git commits made by the tests need an identity; a fresh machine's user may have none.
  writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = warden tests\n\temail = tests@warden.invalid\n');
  return {
    ...env,
    PATH: personsPath(env.PATH ?? ''),
    HOME: home,
    WARDEN_LOG: process.env.WARDEN_LOG ?? 'silent',
    WARDEN_CLIENTS_CACHE: process.env.WARDEN_CLIENTS_CACHE ?? join(real, '.cache', 'warden-clients'),
    npm_config_userconfig: process.env.npm_config_userconfig ?? join(real, '.npmrc'),
    npm_config_cache: process.env.npm_config_cache ?? join(real, '.npm'),
    PYENV_ROOT: process.env.PYENV_ROOT ?? join(real, '.pyenv'),
    RUSTUP_HOME: process.env.RUSTUP_HOME ?? join(real, '.rustup'),
    CARGO_HOME: process.env.CARGO_HOME ?? join(real, '.cargo'),
  };
}

/**
 * PATH as the person's shell has it, without the entries `npm test` puts in front: every
 * node_modules/.bin from the project up to / and npm's node-gyp-bin. warden judges the PATH a
 * command will get (a relative, workspace or temp entry makes no bare name known-safe), so with
 * npm's entries a clone under /tmp tested a PATH no person has, and the tests that run a hook or
 * `exec` bare saw every name as unknown. Nothing here runs a tool by name from node_modules.
 */
function personsPath(path) {
  return path
    .split(':')
    .filter((entry) => !/\/node_modules\/\.bin\/?$/.test(entry) && !/\/@npmcli\/run-script\/lib\/node-gyp-bin\/?$/.test(entry))
    .join(':');
}
