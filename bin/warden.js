#!/usr/bin/env node
// The CLI is compiled JavaScript in dist/ (`npm run build`, run by `prepare` on `npm ci`).
// CommonJS (bin/package.json), not an ES module: an ES module entry loads node's ESM loader into
// every start-up (~5 ms of `exec`'s); the per-module CLI (main.js) is still imported as a module.
'use strict';
const { closeSync, existsSync, readdirSync, readFileSync } = require('node:fs');
const module_ = require('node:module');
const { homedir } = require('node:os');
const { isAbsolute, join } = require('node:path');
const { pathToFileURL } = require('node:url');

// `warden --version` alone needs nothing but package.json: answered here, before commander and
// the CLI load (the same answer main.ts's commander gives, `warden -V` too).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  process.stdout.write(`${version}\n`);
  process.exit(0);
}

closeInheritedFds();

/**
 * Closes every fd above stderr that warden's caller left open without close-on-exec, as sudo's
 * closefrom does. Node marks its own fds close-on-exec, so these are the caller's only; left open,
 * each would reach every command warden runs, sandboxed or not, through bwrap (which passes on what
 * it inherits): a sandboxed command could write through an fd of a file outside its writable roots,
 * or talk on a socket of the client's. Linux (/proc); elsewhere nothing to read, nothing closed.
 */
function closeInheritedFds() {
  let names;
  try {
    names = readdirSync('/proc/self/fdinfo');
  } catch {
    return;
  }
  for (const name of names) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    try {
      const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0) closeSync(fd);
    } catch {
      // gone already (the listing's own fd)
    }
  }
}

// exec, hook and serve start from their own bundle (one file, scripts/build.mjs): the same main.ts
// and command, without reading ~250 module files, run with V8's code cache (dist/cli/runBundle.js).
// Any other first word runs the per-module main.js.
const BUNDLED = new Set(['exec', 'hook', 'serve']);
const bundled = BUNDLED.has(args[0]);
const main = join(__dirname, '..', 'dist', 'cli', bundled ? `main.${args[0]}.cjs` : 'main.js');
if (!existsSync(main)) {
  process.stderr.write('warden: dist/ is missing: run `npm run build` in the warden checkout first\n');
  process.exit(2);
}

if (bundled) {
  require('../dist/cli/runBundle.cjs').runBundle(main);
} else {
  // V8's code cache for main.js's modules, where Node has it (22.1 and later; a no-op on 20).
  // Kept in warden's own state folder, not node's default under the shared /tmp: cached bytecode
  // runs as warden, so it must be somewhere another user cannot plant it and that sandboxed commands
  // do not see ($XDG_STATE_HOME/warden is among warden's own paths, hidden in every sandbox mode).
  // WARDEN_COMPILE_CACHE=0 turns it off (and runBundle's cache too).
  if (typeof module_.enableCompileCache === 'function' && process.env.WARDEN_COMPILE_CACHE !== '0') {
    const xdg = process.env.XDG_STATE_HOME;
    const state = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state');
    try {
      module_.enableCompileCache(join(state, 'warden', 'compile-cache'));
    } catch {
      // an unwritable cache folder only costs speed
    }
  }
  import(pathToFileURL(main).href).catch((error) => {
    process.stderr.write(`warden: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  });
}
