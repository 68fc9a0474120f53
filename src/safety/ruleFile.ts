/**
 * The rules file on disk (I/O): where it is (`$XDG_CONFIG_HOME/warden/rules.toml`), loading it,
 * appending the allow rule `approved_always` stores (atomically: temp file, fsync, rename, under a
 * lock file), and the reloadable RuleBook the runtime holds. Parsing is ruleParse.ts; matching is
 * ruleMatch.ts. Every function here does file I/O except `defaultRulesPath`.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import { isSubcommandPrefix, type RuleSet } from './ruleMatch.ts';
import { allowRuleBlock, approvedDomainsText, approvedName, parseRules } from './ruleParse.ts';

/** `$XDG_CONFIG_HOME/warden/rules.toml`, else `~/.config/warden/rules.toml`. */
export function defaultRulesPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.config');
  return join(base, 'warden', 'rules.toml');
}

/**
 * Reads and validates a rules file (I/O). With no path, the default file is used and its absence
 * means no rules; an explicitly named file that is missing is an error. Throws ConfigError.
 */
export function loadRules(path?: string, options: { explicit?: boolean } = {}): RuleSet {
  const explicit = options.explicit ?? path !== undefined;
  const file = path ?? defaultRulesPath();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return { rules: [], source: null };
    throw new ConfigError(`cannot read rules file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseRules(text, file);
}

/** The rules file's text, or '' when there is none yet (any other read failure is a ConfigError). I/O. */
function readRulesText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new ConfigError(`cannot read rules file ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Appends `allow` for `prefix` to the rules file (I/O): creates the directory and file as needed,
 * skips the write when an identical allow rule exists, writes a temp file in the same directory,
 * fsyncs it and renames it over the original, holding a lock file against concurrent appends.
 * Returns the rules now in force. Throws ConfigError if the existing file does not validate (it
 * is never overwritten then).
 */
export function appendAllowRule(path: string, prefix: readonly string[]): RuleSet {
  if (prefix.length === 0 || prefix.some((t) => t === '')) throw new ConfigError('an allow rule needs a non-empty prefix of non-empty tokens');
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return withLock(`${path}.lock`, () => {
    const existing = readRulesText(path);
    const current = parseRules(existing, path);
    const duplicate = current.rules.some(
      (r) =>
        r.decision === 'allow' &&
        r.exact === !isSubcommandPrefix(prefix) &&
        r.pattern.length === prefix.length &&
        r.pattern.every((alts, i) => alts.length === 1 && alts[0] === prefix[i]),
    );
    if (duplicate) return current;
    const next = existing + allowRuleBlock(existing, prefix, new Date());
    const result = parseRules(next, path); // never write what we could not read back
    writeAtomically(path, next);
    return result;
  });
}

/**
 * Adds `domains` (exact names) to the `[network]` table's `approved` list (I/O): an "always" answer to
 * a domain question. The same care as appendAllowRule: under the lock, atomic, skipping names already
 * there, never over a file that does not validate, and never writing what does not read back with the
 * names in it. Returns the rules now in force.
 */
export function appendApprovedDomains(path: string, domains: readonly string[]): RuleSet {
  const names = domains.map(approvedName(path));
  if (names.length === 0) throw new ConfigError('no domain to store');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return withLock(`${path}.lock`, () => {
    const existing = readRulesText(path);
    const current = parseRules(existing, path);
    const have = new Set(current.network?.approved ?? []);
    const fresh = [...new Set(names)].filter((n) => !have.has(n));
    if (fresh.length === 0) return current;
    const next = approvedDomainsText(existing, current, fresh, new Date(), path);
    const result = parseRules(next, path);
    const got = new Set(result.network?.approved ?? []);
    if (!fresh.every((n) => got.has(n))) throw new ConfigError(`rules file ${path}: could not add ${fresh.join(', ')} to [network] approved`);
    writeAtomically(path, next);
    return result;
  });
}

function writeAtomically(path: string, text: string): void {
  const dir = dirname(path);
  let mode = 0o600;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    // new file: private by default
  }
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.rules.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(tmp);
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (error) {
    unlinkSync(tmp);
    throw error;
  }
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** A lock file taken with O_EXCL; a lock older than 30 s is taken to be left by a dead process. */
function withLock<T>(lockPath: string, body: () => T): T {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      closeSync(openSync(lockPath, 'wx', 0o600));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > 30_000) unlinkSync(lockPath);
      } catch {
        // removed meanwhile
      }
      if (Date.now() > deadline) throw new ConfigError(`rules file is locked by another process: ${lockPath}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    return body();
  } finally {
    try {
      unlinkSync(lockPath);
    } catch {
      // already gone
    }
  }
}

/**
 * The rules in force, reloadable so an appended rule takes effect at once. `current()` is pure;
 * `reload()` and `appendAllow()` do I/O and replace what `current()` returns.
 */
export interface RuleBook {
  readonly path: string;
  current(): RuleSet;
  reload(): RuleSet;
  appendAllow(prefix: readonly string[]): RuleSet;
  /** Adds exact names to `[network] approved` (an "always" answer to a domain question). */
  appendApprovedDomains(domains: readonly string[]): RuleSet;
}

/** Loads the rules at `path` (or the default path) and keeps them reloadable. Throws ConfigError. */
export function createRuleBook(path?: string, options: { explicit?: boolean } = {}): RuleBook {
  const file = path ?? defaultRulesPath();
  const explicit = options.explicit ?? path !== undefined;
  let rules = loadRules(file, { explicit });
  return {
    path: file,
    current: () => rules,
    reload: () => {
      rules = loadRules(file, { explicit });
      return rules;
    },
    appendAllow: (prefix) => {
      rules = appendAllowRule(file, prefix);
      return rules;
    },
    appendApprovedDomains: (domains) => {
      rules = appendApprovedDomains(file, domains);
      return rules;
    },
  };
}

