/**
 * Runs a command bundle (dist/cli/main.<command>.cjs, scripts/build.mjs) with V8's code cache, so a
 * start-up deserialises the bundle's compiled code instead of parsing and compiling ~0.9 MB of
 * JavaScript again (Node 20 has no module compile cache). bin/warden.js calls it for exec, hook and
 * serve; nothing else imports it, and it imports nothing of warden's but src/privateFiles.ts
 * (inlined by the build: runBundle.cjs requires only built-ins).
 *
 * The cache can only ever cost speed: it holds what V8 would compile from the same source, V8 checks
 * its own version, flags and the source's length and rejects a mismatch (then the script compiles
 * from source, as without a cache), and a file is used only when all of these hold, else ignored:
 * - it is named and headed by a SHA-256 of the bundle's bytes, the node version and arch, and node's
 *   options (V8's own source check is only the length), and its payload matches the SHA-256 in its
 *   header (a damaged file is never handed to V8);
 * - it is a regular file (opened without following a symlink) owned by this user and writable by
 *   nobody else, in a directory that is the same (src/privateFiles.ts): cached bytecode runs as
 *   warden, so no other user may be able to plant it;
 * - the directory is $XDG_STATE_HOME/warden/v8-cache (else $HOME/.local/state/warden/v8-cache),
 *   inside warden's own state folder, which every sandbox hides (hiddenPaths.ts wardenOwnPaths,
 *   resolved from the same two variables): a sandboxed command can neither read nor write it.
 * It is written after a run that found none (or a rejected one): at exit, or after SAVE_AFTER_MS
 * for a long-lived process (serve), and when the bundle asks (SAVE_NOW), to a temporary file renamed
 * into place. WARDEN_COMPILE_CACHE=0
 * turns it off. I/O: reads the bundle and the cache file, writes the cache.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';
import { readPrivateFile, wardenStateDir, writePrivateFile } from '../privateFiles.ts';

const MAGIC = Buffer.from('WRDNV8C1');
const HEADER = MAGIC.length + 32 + 32; // magic, key, SHA-256 of the payload
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
/** Cache files kept per bundle (one per node version or option set in use). */
const KEEP = 4;
/** A process still running after this long saves its cache now (an MCP server may never exit cleanly). */
const SAVE_AFTER_MS = 5_000;
/**
 * Where a bundle finds `saveNow` (a function, set only when this start found no usable cache): a
 * global under a registered symbol, so the bundle needs nothing of this file. `serve` calls it once
 * its first call of each tool is done, before answering: a cache saved at 5 s or at exit after only
 * `initialize` holds none of the code a tool call compiles (classification, the sandbox's plan, the
 * patch applier's conversation), and a first classification costs ~35% more CPU without it.
 */
export const SAVE_NOW = Symbol.for('warden.codeCache.saveNow');

/** The cache folder for this environment, or null (no absolute XDG_STATE_HOME or HOME, or turned off). Pure. */
export function codeCacheDir(env: NodeJS.ProcessEnv): string | null {
  if (env.WARDEN_COMPILE_CACHE === '0') return null;
  // warden's state folder, the one every sandbox hides
  const state = wardenStateDir(env);
  return state === null ? null : join(state, 'v8-cache');
}

/** The cache key: the bundle's bytes and everything of node's that shapes its compiled code. Pure. */
export function cacheKey(bundle: Buffer, env: NodeJS.ProcessEnv = process.env): Buffer {
  const h = createHash('sha256');
  h.update(['warden-v8-cache-1', process.version, process.arch, process.execArgv.join('\u0000'), env.NODE_OPTIONS ?? ''].join('\u0001'));
  h.update(bundle);
  return h.digest();
}

/** The cached data for `key` in `file`, or null when it is missing or fails any check above. I/O. */
export function readCache(file: string, key: Buffer): Buffer | null {
  const data = readPrivateFile(file, MAX_CACHE_BYTES);
  if (data === null || data.length <= HEADER) return null;
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  if (!data.subarray(MAGIC.length, MAGIC.length + 32).equals(key)) return null;
  const payload = data.subarray(HEADER);
  if (!createHash('sha256').update(payload).digest().equals(data.subarray(MAGIC.length + 32, HEADER))) return null;
  return payload;
}

/** Writes `payload` for `key` as `file` (atomically, private), and drops the bundle's oldest files past KEEP. I/O; never throws. */
export function writeCache(file: string, key: Buffer, payload: Buffer, bundleName: string): void {
  const digest = createHash('sha256').update(payload).digest();
  writePrivateFile(file, Buffer.concat([MAGIC, key, digest, payload]));
  try {
    const dir = dirname(file);
    const mine = readdirSync(dir)
      .filter((name) => name.startsWith(`${bundleName}.`) && name.endsWith('.v8'))
      .map((name) => ({ path: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of mine.slice(KEEP)) rmSync(old.path, { force: true });
  } catch {
    // an unreadable cache folder only costs disk space
  }
}

/**
 * Runs the CommonJS bundle at `bundlePath` as node's own loader would (strict, with `require` and
 * `module` of its own file), plus the two names the build gives it instead of ESM syntax:
 * `__wardenImportMetaUrl` (the bundle's file URL) and `__wardenImport` (dynamic import: a relative
 * specifier from the bundle's folder, a package or built-in as from any file of warden's).
 * Returns how the cache was used: 'hit', 'miss' (none, or failed a check), 'rejected' (by V8; both
 * saved anew), 'off'. I/O: the bundle, the cache.
 */
export function runBundle(bundlePath: string, env: NodeJS.ProcessEnv = process.env): 'hit' | 'miss' | 'rejected' | 'off' {
  // The shell grammar's wasm runs on Liftoff only (shellParse.ts sets this before loading it). Set
  // here, before the bundle compiles, so the V8 flags a cache is made under (at exit, after the
  // grammar loaded) are the flags the next start compiles under; a cache made under other flags is
  // rejected by V8. Only wasm compilation reads this flag, and every bundled command loads the grammar.
  setFlagsFromString('--liftoff-only');
  // The young generation grows 16-fold at a scavenge instead of 2-fold: a start-up allocates ~15 MB
  // and scavenged 5 times (~8 ms); now twice (~4 ms). Set before the compile for the same reason.
  setFlagsFromString('--semi-space-growth-factor=16');
  const source = readFileSync(bundlePath);
  const dir = codeCacheDir(env);
  const name = basename(bundlePath);
  const key = dir === null ? null : cacheKey(source, env);
  const file = dir === null || key === null ? null : join(dir, `${name}.${key.toString('hex').slice(0, 32)}.v8`);
  const cachedData = file === null || key === null ? undefined : (readCache(file, key) ?? undefined);
  const url = pathToFileURL(bundlePath);
  // One line: the bundle's own line numbers stay right in stack traces.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, __wardenImportMetaUrl, __wardenImport) {${source.toString('utf8')}\n})`, {
    filename: bundlePath,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  if (file !== null && key !== null && (cachedData === undefined || script.cachedDataRejected === true)) {
    let saved = false;
    const save = () => {
      if (saved) return;
      saved = true;
      writeCache(file, key, script.createCachedData(), name);
    };
    process.once('exit', save);
    setTimeout(save, SAVE_AFTER_MS).unref();
    // Saved again, whatever the timer did: it holds the code compiled since (nothing else changes).
    (globalThis as Record<symbol, unknown>)[SAVE_NOW] = () => {
      saved = true;
      writeCache(file, key, script.createCachedData(), name);
    };
  }
  const wardenImport = (specifier: string): Promise<unknown> =>
    import(specifier.startsWith('./') || specifier.startsWith('../') ? new URL(specifier, url).href : specifier);
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath), url.href, wardenImport);
  return file === null ? 'off' : cachedData === undefined ? 'miss' : script.cachedDataRejected === true ? 'rejected' : 'hit';
}
