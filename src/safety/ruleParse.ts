/**
 * The rules file's text to rules (pure): TOML with `[[rule]]` tables (docs/rules.md), validated by
 * zod, each rule's `match` / `not_match` examples checked here so a rule that fails its examples
 * stops the load. Also the text of the block `approved_always` appends, so what is written is what
 * this parser reads back. File I/O is ruleFile.ts; matching is ruleMatch.ts.
 */
import { parse as parseToml } from 'smol-toml';
import * as z from 'zod';
import { ConfigError } from '../errors.ts';
import { isIP } from 'node:net';
import { RULE_DECISIONS, type NetworkTable, type PrefixRule, type RuleSet, isSubcommandPrefix, ruleMatches } from './ruleMatch.ts';
import { normalizeHost, parseDomainPattern } from '../network/domainPolicy.ts';

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
  domains: z.array(z.string()).optional(),
  exact: z.boolean().optional(),
});
const NetworkSchema = z.strictObject({
  allow: z.array(z.string()).optional(),
  deny: z.array(z.string()).optional(),
  approved: z.array(z.string()).optional(),
});
const FileSchema = z.strictObject({ rule: z.array(z.unknown()).optional(), network: z.unknown().optional() });

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
    throw new ConfigError(`rules file ${source}: ${formatIssues(top.error)} (only [[rule]] tables and a [network] table are allowed)`);
  }
  const network = top.data.network === undefined ? undefined : parseNetworkTable(top.data.network, source);
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
      domains: (r.domains ?? []).map(domainOf(source, `${name}: domains`)),
      exact: r.exact ?? false,
    };
    if (r.decision !== 'allow' && (r.options !== undefined || r.any_options !== undefined || r.exact !== undefined)) {
      // a prompt or forbidden rule is never narrowed: it holds every command with its prefix
      throw new ConfigError(`rules file ${source}: ${name}: options, any_options and exact belong to allow rules only`);
    }
    if (r.exact === true && (r.options !== undefined || r.any_options !== undefined)) {
      throw new ConfigError(`rules file ${source}: ${name}: an exact rule covers no word after its pattern, so options and any_options cannot go with it`);
    }
    // A forbidden command never runs: domains for it would be a promise nothing keeps.
    if (r.decision === 'forbidden' && r.domains !== undefined) {
      throw new ConfigError(`rules file ${source}: ${name}: domains belong to allow and prompt rules only`);
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
  return network === undefined ? { rules, source } : { rules, source, network };
}

/** A domain pattern of the rules file, checked as the flags are; an error names where it stands. */
function domainOf(source: string, where: string) {
  return (raw: string): string => {
    try {
      return parseDomainPattern(raw);
    } catch (error) {
      throw new ConfigError(`rules file ${source}: ${where}: ${(error as Error).message}`);
    }
  };
}

/**
 * `approved` holds exact names only: it is what a person said yes to, and a yes reaches a name's public
 * addresses only (a wildcard or an address there would open more than was asked).
 */
export function approvedName(source: string) {
  return (raw: string): string => {
    const host = normalizeHost(raw);
    if (host === null || raw.startsWith('*.') || isIP(host) !== 0) {
      throw new ConfigError(`rules file ${source}: [network] approved: an exact domain name, not a wildcard or an address: ${JSON.stringify(raw)}`);
    }
    return host;
  };
}

function parseNetworkTable(raw: unknown, source: string): NetworkTable {
  const parsed = NetworkSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`rules file ${source}: [network]: ${formatIssues(parsed.error)}`);
  return {
    allow: (parsed.data.allow ?? []).map(domainOf(source, '[network] allow')),
    deny: (parsed.data.deny ?? []).map(domainOf(source, '[network] deny')),
    approved: (parsed.data.approved ?? []).map(approvedName(source)),
  };
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
/** TOML basic string: JSON's escapes are all valid TOML except lone surrogates, refused here. */
function tomlString(s: string): string {
  if (/[\ud800-\udfff]/u.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
    throw new ConfigError(`cannot store a token with a lone surrogate: ${JSON.stringify(s)}`);
  }
  return JSON.stringify(s);
}

export const APPROVED_ALWAYS_JUSTIFICATION = 'approved always by the user';

/**
 * The `[[rule]]` block `approved_always` appends after `existing` (pure): separated by a blank line,
 * one pattern of single tokens, decision allow, `exact = true` for a literal argv (not the two-word
 * subcommand form), a justification dated `now`. Throws ConfigError for a token TOML cannot hold.
 */
export function allowRuleBlock(existing: string, prefix: readonly string[], now: Date): string {
  return (
    `${existing === '' || existing.endsWith('\n') ? '' : '\n'}${existing === '' ? '' : '\n'}[[rule]]\n` +
    `pattern = [${prefix.map(tomlString).join(', ')}]\n` +
    `decision = "allow"\n` +
    (isSubcommandPrefix(prefix) ? '' : 'exact = true\n') +
    `justification = ${tomlString(`${APPROVED_ALWAYS_JUSTIFICATION} on ${now.toISOString()}`)}\n`
  );
}

/**
 * The text after adding `fresh` (exact names, not yet there) to `[network] approved` (pure): a new
 * `[network]` table at the end when the file has none; else its one-line `approved = [...]` replaced,
 * or one added under the table header. Comments and every other line are kept as they are. A table
 * not written as a plain `[network]` header, or a multi-line `approved` list, is refused (the person
 * edits it by hand) rather than rewritten.
 */
export function approvedDomainsText(existing: string, current: RuleSet, fresh: readonly string[], now: Date, source: string): string {
  const all = [...(current.network?.approved ?? []), ...fresh];
  const stamp = `# approved always by the user on ${now.toISOString()}: ${fresh.join(', ')}`;
  const line = `approved = [${all.map(tomlString).join(', ')}]`;
  if (current.network === undefined) {
    const sep = existing === '' ? '' : existing.endsWith('\n') ? '\n' : '\n\n';
    return `${existing}${sep}[network]\n${stamp}\n${line}\n`;
  }
  const lines = existing.split('\n');
  const header = lines.findIndex((l) => /^\s*\[network\]\s*(#.*)?$/.test(l));
  if (header < 0) throw new ConfigError(`rules file ${source}: the [network] table is not written as a plain [network] header; add the domains by hand`);
  let end = lines.length;
  for (let i = header + 1; i < lines.length; i++) {
    if (/^\s*\[/.test(lines[i]!)) {
      end = i;
      break;
    }
  }
  const at = lines.slice(header + 1, end).findIndex((l) => /^\s*approved\s*=/.test(l));
  if (at < 0) {
    lines.splice(header + 1, 0, stamp, line);
    return lines.join('\n');
  }
  const idx = header + 1 + at;
  if (!/\]\s*(#.*)?$/.test(lines[idx]!)) throw new ConfigError(`rules file ${source}: [network] approved spans several lines; add the domains by hand`);
  lines.splice(idx, 1, stamp, line);
  return lines.join('\n');
}
