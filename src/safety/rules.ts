/**
 * User rules: a TOML file of prefix rules (`allow`, `prompt`, `forbidden`), after Codex's execpolicy
 * prefix rules (CODEX-REFERENCE §9) with TOML in place of Starlark. Each rule carries its own
 * `match` / `not_match` examples, checked at load: a rule that fails its examples stops the load.
 * The strictest matching rule wins (forbidden > prompt > allow). `approved_always` appends an allow
 * rule through `appendAllowRule`, atomically (temp file, fsync, rename) and under a lock file.
 * The file format is documented in docs/rules.md. Loading and appending do file I/O; matching is pure.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { programName } from './programs/programPath.ts';
import { findRiskyWord } from './programs/riskyOptions.ts';

export const RULE_DECISIONS = ['allow', 'prompt', 'forbidden'] as const;
export type RuleDecision = (typeof RULE_DECISIONS)[number];

const STRICTNESS: Record<RuleDecision, number> = { allow: 0, prompt: 1, forbidden: 2 };

export interface PrefixRule {
  /** Position in the file, from 0; shown as `rule #index+1`. */
  index: number;
  /** Per position, the accepted tokens. */
  pattern: string[][];
  decision: RuleDecision;
  justification: string;
  /** Allow rules: option words the rule also covers after its prefix (`options = ["--watch"]`). */
  options: readonly string[];
  /** Allow rules: cover any option after the prefix, except the program's exec/write table. */
  anyOptions: boolean;
}

export interface RuleSet {
  rules: readonly PrefixRule[];
  /** The file the rules came from, or null for none. */
  source: string | null;
}

export const EMPTY_RULE_SET: RuleSet = Object.freeze({ rules: Object.freeze([]), source: null });

const Token = z.string().min(1, 'a pattern token cannot be empty');
const Example = z.union([z.string(), z.array(z.string()).min(1)]);
const RuleSchema = z.strictObject({
  pattern: z.array(z.union([Token, z.array(Token).min(1, 'a list of alternatives cannot be empty')])).min(1, 'prefix cannot be empty'),
  decision: z.enum(RULE_DECISIONS),
  justification: z.string().refine((s) => s.trim() !== '', 'justification cannot be empty'),
  match: z.array(Example).optional(),
  not_match: z.array(Example).optional(),
  options: z.array(z.string().regex(/^-/, 'an option starts with -')).optional(),
  any_options: z.boolean().optional(),
});
const FileSchema = z.strictObject({ rule: z.array(z.unknown()).optional() });

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

/** Parses and validates rules text (pure). Throws ConfigError naming the rule at fault. */
export function parseRules(text: string, source: string): RuleSet {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (error) {
    throw new ConfigError(`rules file ${source}: not valid TOML: ${(error as Error).message}`, { cause: error });
  }
  const top = FileSchema.safeParse(doc);
  if (!top.success) {
    throw new ConfigError(`rules file ${source}: ${formatIssues(top.error)} (only [[rule]] tables are allowed)`);
  }
  const rules: PrefixRule[] = [];
  (top.data.rule ?? []).forEach((raw, index) => {
    const name = describeRaw(index, raw);
    const parsed = RuleSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigError(`rules file ${source}: ${name}: ${formatIssues(parsed.error)}`);
    const r = parsed.data;
    const rule: PrefixRule = {
      index,
      pattern: r.pattern.map((p) => (typeof p === 'string' ? [p] : [...p])),
      decision: r.decision,
      justification: r.justification.trim(),
      options: r.options ?? [],
      anyOptions: r.any_options ?? false,
    };
    if (r.decision !== 'allow' && (r.options !== undefined || r.any_options !== undefined)) {
      throw new ConfigError(`rules file ${source}: ${name}: options and any_options belong to allow rules only`);
    }
    for (const example of r.match ?? []) {
      const argv = exampleArgv(example, source, name);
      if (!ruleMatches(rule, argv)) {
        throw new ConfigError(`rules file ${source}: ${name}: match example ${JSON.stringify(argv)} does not match the pattern`);
      }
    }
    for (const example of r.not_match ?? []) {
      const argv = exampleArgv(example, source, name);
      if (ruleMatches(rule, argv)) {
        throw new ConfigError(`rules file ${source}: ${name}: not_match example ${JSON.stringify(argv)} matches the pattern`);
      }
    }
    rules.push(rule);
  });
  return { rules, source };
}

function describeRaw(index: number, raw: unknown): string {
  const pattern = typeof raw === 'object' && raw !== null && 'pattern' in raw ? (raw as { pattern: unknown }).pattern : undefined;
  return `rule #${index + 1} (pattern ${pattern === undefined ? 'missing' : JSON.stringify(pattern)})`;
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function exampleArgv(example: string | string[], source: string, name: string): string[] {
  if (Array.isArray(example)) return example;
  const words = splitExample(example);
  if (words === null || words.length === 0) {
    throw new ConfigError(`rules file ${source}: ${name}: example ${JSON.stringify(example)} is not a plain command line`);
  }
  return words;
}

/** Splits an example command line on blanks with '...' and "..." quoting; null on unbalanced quotes. */
export function splitExample(line: string): string[] | null {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (const ch of line) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      else current += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote !== null) return null;
  if (inWord) words.push(current);
  return words;
}

/**
 * Does `rule` match `argv` as a prefix? Tokens compare exactly (no option skipping, as in Codex).
 * For prompt and forbidden rules the program also matches by basename (`/usr/bin/git push` is held
 * by a `git push` rule); an allow rule needs the program spelled as in the rule.
 */
export function ruleMatches(rule: PrefixRule, argv: readonly string[]): boolean {
  return prefixMatches(rule, argv) && (rule.decision !== 'allow' || uncoveredWord(rule, argv) === null);
}

function prefixMatches(rule: PrefixRule, argv: readonly string[]): boolean {
  if (argv.length < rule.pattern.length) return false;
  for (let i = 0; i < rule.pattern.length; i++) {
    const token = argv[i]!;
    const alternatives = rule.pattern[i]!;
    if (alternatives.includes(token)) continue;
    if (i === 0 && rule.decision !== 'allow' && alternatives.includes(programName(token))) continue;
    return false;
  }
  return true;
}

/**
 * Why an allow rule whose prefix matches does not cover the rest of argv, or null when it does.
 * The words after the prefix may hold no word of the program's exec/write table (whatever the
 * rule says: `allow ["git","fetch"]` never covers `--upload-pack=CMD` or an `ext::` URL), and no
 * option at all unless the rule lists it (`options`) or takes any (`any_options`). After `--`
 * every word is an operand. Pure.
 */
export function uncoveredWord(rule: PrefixRule, argv: readonly string[]): { word: string; why: string } | null {
  const risky = findRiskyWord(argv, rule.pattern.length);
  if (risky !== null) return { word: risky.word, why: `\`${risky.word}\` ${risky.why}` };
  for (let i = rule.pattern.length; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') break;
    if (!word.startsWith('-') || word === '-') continue;
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    if (rule.options.includes(word) || rule.options.includes(name) || rule.anyOptions) continue;
    return { word, why: `the rule covers no option it does not list, and \`${word}\` is not listed` };
  }
  return null;
}

/** Allow rules whose prefix matches argv but which do not cover it, with the word why (for reasons). */
export function declinedAllowRules(ruleSet: RuleSet, argv: readonly string[]): Array<{ rule: PrefixRule; word: string; why: string }> {
  const out: Array<{ rule: PrefixRule; word: string; why: string }> = [];
  for (const rule of ruleSet.rules) {
    if (rule.decision !== 'allow' || !prefixMatches(rule, argv)) continue;
    const w = uncoveredWord(rule, argv);
    if (w !== null) out.push({ rule, ...w });
  }
  return out;
}

export interface RuleVerdict {
  /** The strictest decision among matching rules, or null when no rule decides. */
  decision: RuleDecision | null;
  /** The strictest matching rule (its justification is shown). */
  rule: PrefixRule | null;
  /** Every matching rule, for the record. */
  matched: PrefixRule[];
}

/** Strictest rule matching `argv` (pure). */
export function matchRules(ruleSet: RuleSet, argv: readonly string[]): RuleVerdict {
  const matched = ruleSet.rules.filter((r) => ruleMatches(r, argv));
  let best: PrefixRule | null = null;
  for (const r of matched) if (best === null || STRICTNESS[r.decision] > STRICTNESS[best.decision]) best = r;
  return { decision: best?.decision ?? null, rule: best, matched };
}

export function stricterDecision(a: RuleDecision | null, b: RuleDecision | null): RuleDecision | null {
  if (a === null) return b;
  if (b === null) return a;
  return STRICTNESS[a] >= STRICTNESS[b] ? a : b;
}

/** TOML basic string: JSON's escapes are all valid TOML except lone surrogates, refused here. */
function tomlString(s: string): string {
  if (/[\ud800-\udfff]/u.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
    throw new ConfigError(`cannot store a token with a lone surrogate: ${JSON.stringify(s)}`);
  }
  return JSON.stringify(s);
}

export const APPROVED_ALWAYS_JUSTIFICATION = 'approved always by the user';

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
    let existing = '';
    try {
      existing = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`cannot read rules file ${path}: ${(error as Error).message}`, { cause: error });
    }
    const current = parseRules(existing, path);
    const duplicate = current.rules.some(
      (r) => r.decision === 'allow' && r.pattern.length === prefix.length && r.pattern.every((alts, i) => alts.length === 1 && alts[0] === prefix[i]),
    );
    if (duplicate) return current;
    const block =
      `${existing === '' || existing.endsWith('\n') ? '' : '\n'}${existing === '' ? '' : '\n'}[[rule]]\n` +
      `pattern = [${prefix.map(tomlString).join(', ')}]\n` +
      `decision = "allow"\n` +
      `justification = ${tomlString(`${APPROVED_ALWAYS_JUSTIFICATION} on ${new Date().toISOString()}`)}\n`;
    const next = existing + block;
    const result = parseRules(next, path); // never write what we could not read back
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
  };
}
