/**
 * Allow-listed option tables and the getopt-style reader the program rules share. A known-safe
 * program accepts only the options its table lists: a word the table does not know (a new flag, an
 * abbreviation, a value attached where none is taken) makes the command not known-safe. A second
 * table per program, `risky`, names the options that run a program or write a file; it feeds the
 * known-safe check, the danger check and the rule checks (a rule never covers a risky option).
 *
 * Tables are written in getopt's own notation so they can be checked against the man page line by
 * line: `short: 'an:c::'` (a flag, `n` with a required value, `c` with an optional attached one),
 * `long: ['all', 'lines=', 'color=?']`. Long options are exact names only: getopt_long also takes
 * unique prefixes (`--outp`), which this reader refuses (fail closed). Pure.
 */

export type Arity = 'none' | 'required' | 'optional';

export interface OptionTable {
  readonly short: ReadonlyMap<string, Arity>;
  readonly long: ReadonlyMap<string, Arity>;
  /** Spellings that mean the same option (`-o` and `--output`), mapped to one canonical name. */
  readonly aliases: ReadonlyMap<string, string>;
  /** Short flags may be grouped (`-la`). */
  readonly clusters: boolean;
  /** `-NUM` is an option (`head -5`, `git log -3`). */
  readonly numeric: boolean;
  /** Options may follow operands (GNU permutation); false: the first operand ends the options. */
  readonly permute: boolean;
  /** A required long value may be the next word (`--lines 5`); git's revision parser needs `=` for some. */
  readonly longSeparate: boolean;
}

/** What a risky option does: runs a program, writes where it names, or reads outside the workspace. */
export type RiskKind = 'exec' | 'write' | 'read';

export interface RiskyOption {
  /** Canonical spelling, as the table resolves it (`--output`, or `-o` when it has no long form). */
  readonly option: string;
  readonly kind: RiskKind;
  /** The attack the entry blocks, shown in reasons (`sort -o` writes a file). */
  readonly why: string;
}

export interface TableSpec {
  short?: string;
  long?: readonly string[];
  /** Pairs [short letter, long name] that are the same option: `[['o', 'output']]`. */
  same?: ReadonlyArray<readonly [string, string]>;
  clusters?: boolean;
  numeric?: boolean;
  permute?: boolean;
  longSeparate?: boolean;
}

/** Builds a table from getopt notation. Throws on a malformed spec (a bug in a table, found by the tests). */
export function optionTable(spec: TableSpec): OptionTable {
  const short = new Map<string, Arity>();
  const s = spec.short ?? '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === ':') throw new Error(`option table: stray ':' in ${s}`);
    let arity: Arity = 'none';
    if (s[i + 1] === ':') {
      arity = s[i + 2] === ':' ? 'optional' : 'required';
      i += arity === 'optional' ? 2 : 1;
    }
    if (short.has(ch)) throw new Error(`option table: -${ch} listed twice`);
    short.set(ch, arity);
  }
  const long = new Map<string, Arity>();
  for (const entry of spec.long ?? []) {
    const arity: Arity = entry.endsWith('=?') ? 'optional' : entry.endsWith('=') ? 'required' : 'none';
    const name = entry.replace(/=\??$/, '');
    if (name === '' || name.startsWith('-')) throw new Error(`option table: bad long option ${entry}`);
    if (long.has(`--${name}`)) throw new Error(`option table: --${name} listed twice`);
    long.set(`--${name}`, arity);
  }
  const aliases = new Map<string, string>();
  for (const [letter, name] of spec.same ?? []) {
    if (!short.has(letter) || !long.has(`--${name}`)) throw new Error(`option table: alias -${letter}/--${name} not in the table`);
    if (short.get(letter) !== long.get(`--${name}`)) throw new Error(`option table: -${letter} and --${name} differ in arity`);
    aliases.set(`-${letter}`, `--${name}`);
  }
  return {
    short,
    long,
    aliases,
    clusters: spec.clusters ?? true,
    numeric: spec.numeric ?? false,
    permute: spec.permute ?? true,
    longSeparate: spec.longSeparate ?? true,
  };
}

/** One option as read: its canonical name, the word(s) it came from, its value if any. */
export interface ReadOption {
  name: string;
  value: string | null;
  /** Index of the word in args where the option starts. */
  index: number;
  /** The word as written (`-nrz`, `--lines=5`). */
  word: string;
}

export interface ReadArgs {
  options: ReadOption[];
  operands: string[];
  /** Index in args of each operand. */
  operandIndexes: number[];
}

/** Why a word was not understood; `word` is what a reason quotes. */
export interface Unknown {
  word: string;
  why: string;
}

export type ReadResult = { ok: true; args: ReadArgs } | { ok: false; unknown: Unknown };

function canonical(table: OptionTable, spelled: string): string {
  return table.aliases.get(spelled) ?? spelled;
}

/**
 * Reads args (after the program name) against the table, as getopt_long would, except that
 * abbreviations are refused. Pure. An unknown or malformed option is reported, not skipped.
 */
export function readArgs(table: OptionTable, args: readonly string[]): ReadResult {
  const options: ReadOption[] = [];
  const operands: string[] = [];
  const operandIndexes: number[] = [];
  let optionsEnded = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (optionsEnded || word === '-' || !word.startsWith('-')) {
      operands.push(word);
      operandIndexes.push(i);
      if (!table.permute) optionsEnded = true;
      continue;
    }
    if (word === '--') {
      optionsEnded = true;
      continue;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word : word.slice(0, eq);
      const arity = table.long.get(name);
      if (arity === undefined) return { ok: false, unknown: { word, why: `\`${name}\` is not an option warden knows for this program` } };
      if (eq >= 0) {
        if (arity === 'none') return { ok: false, unknown: { word, why: `\`${name}\` takes no value` } };
        options.push({ name: canonical(table, name), value: word.slice(eq + 1), index: i, word });
        continue;
      }
      if (arity === 'required') {
        const value = args[i + 1];
        if (value === undefined || !table.longSeparate) return { ok: false, unknown: { word, why: `\`${name}\` needs a value` } };
        options.push({ name: canonical(table, name), value, index: i, word });
        i += 1;
        continue;
      }
      options.push({ name: canonical(table, name), value: null, index: i, word });
      continue;
    }
    // a short option or a cluster of them
    if (table.numeric && /^-[0-9]+$/.test(word)) {
      options.push({ name: '-NUM', value: word.slice(1), index: i, word });
      continue;
    }
    for (let j = 1; j < word.length; j++) {
      const letter = word[j]!;
      const arity = table.short.get(letter);
      if (arity === undefined) return { ok: false, unknown: { word, why: `\`-${letter}\` is not an option warden knows for this program` } };
      if (j > 1 && !table.clusters) return { ok: false, unknown: { word, why: 'this program does not group short options' } };
      const name = canonical(table, `-${letter}`);
      if (arity === 'none') {
        options.push({ name, value: null, index: i, word });
        continue;
      }
      const rest = word.slice(j + 1);
      if (rest !== '') {
        options.push({ name, value: rest, index: i, word });
      } else if (arity === 'required') {
        const value = args[i + 1];
        if (value === undefined) return { ok: false, unknown: { word, why: `\`-${letter}\` needs a value` } };
        options.push({ name, value, index: i, word });
        i += 1;
      } else {
        options.push({ name, value: null, index: i, word });
      }
      break;
    }
  }
  return { ok: true, args: { options, operands, operandIndexes } };
}

/** The first risky option read, if any. */
export function firstRisky(read: ReadArgs, risky: readonly RiskyOption[]): { option: ReadOption; risk: RiskyOption } | null {
  for (const option of read.options) {
    const risk = risky.find((r) => r.option === option.name);
    if (risk !== undefined) return { option, risk };
  }
  return null;
}

/**
 * Does a word name a risky option, in any spelling a permissive parser would take: exact, with
 * `=value`, a long-option abbreviation (`--outp`), or a short letter anywhere in a cluster (`-xo`)?
 * Used where no full table exists (rule checks on npm, cargo ...) and by the danger side, so it
 * over-finds on purpose: a false hit costs a prompt, a miss runs code.
 */
export function wordNamesRisky(word: string, risky: readonly RiskyOption[]): RiskyOption | null {
  if (!word.startsWith('-') || word === '-' || word === '--') return null;
  if (word.startsWith('--')) {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    for (const r of risky) {
      if (r.option.startsWith('--')) {
        if (name === r.option) return r;
        // an abbreviation, one letter included: getopt_long and nopt take any unique prefix (`sort --o=x` is --output)
        if (name.length >= 3 && r.option.startsWith(name)) return r;
      } else if (r.option.length === 2 && name === `-${r.option}`) {
        // nopt reads `--g` as `-g`, `--C=/x` as `-C /x` (npm)
        return r;
      }
    }
    return null;
  }
  for (const r of risky) {
    if (r.option.startsWith('--') || r.option.length !== 2) continue;
    if (word.slice(1).includes(r.option[1]!)) return r;
  }
  return null;
}

/** Verdict of a per-program check: safe, or the word that decided otherwise and why. */
export type SafeVerdict = { safe: true } | { safe: false; word: string; why: string };

export const SAFE: SafeVerdict = Object.freeze({ safe: true });

export function notSafe(word: string, why: string): SafeVerdict {
  return { safe: false, word, why };
}

/**
 * The common check: every word understood by the table, no risky option. `extra` runs on the read
 * arguments for operand rules (uniq's output file).
 */
export function checkWithTable(
  program: string,
  table: OptionTable,
  risky: readonly RiskyOption[],
  args: readonly string[],
  extra?: (read: ReadArgs) => SafeVerdict,
): SafeVerdict {
  const read = readArgs(table, args);
  if (!read.ok) return notSafe(read.unknown.word, `${program}: ${read.unknown.why}`);
  const hit = firstRisky(read.args, risky);
  if (hit !== null) return notSafe(hit.option.word, `\`${program} ${hit.option.word}\` ${hit.risk.why}`);
  return extra === undefined ? SAFE : extra(read.args);
}
