/**
 * Turns `bash -lc <script>` (and `-c`, `zsh`, `sh`) into the plain word-only commands it runs, with
 * tree-sitter-bash through web-tree-sitter's wasm: the same grammar Codex uses (CODEX-REFERENCE §4).
 * Only words joined by `&&`, `||`, `;`, `|` and newlines qualify; everything else (redirection,
 * substitution, expansion, assignment, subshell, group, background, heredoc, comment, control flow,
 * parse error) makes the script "not parsed" (null), and the caller treats it as opaque.
 *
 * Stricter than Codex: a backslash anywhere in a word or a double-quoted string rejects the script
 * (Codex keeps the text verbatim, so `--out\put=x` would be checked as written but run as
 * `--output=x`), and unquoted glob, brace or tilde characters are reported per command so the rules
 * can refuse to reason about arguments the shell will rewrite. `deepScanScript` is the lenient
 * companion used only to find dangerous commands hidden inside substitutions and redirections.
 *
 * The wasm must be loaded once with `await loadShellGrammar()`; parsing is synchronous after that,
 * and before it every reader throws ShellGrammarNotLoadedError (a classification never guesses
 * without it), except for a one-command script of plain words, which needs no grammar
 * (plainWordsAnalysis).
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
// Types only: the package is imported in initShellParser, so a command bundle (scripts/build.mjs)
// loads its ESM build when the grammar is loaded, as src/ does, and not its CommonJS twin.
import type { Language, Parser, Query, Node } from 'web-tree-sitter';

/** Scripts larger than this are never parsed: not known-safe, and no time is spent on them. */
export const MAX_SCRIPT_BYTES = 1024 * 1024;

/**
 * Scripts with more shell tokens than this (blanks, quotes and operators counted) are not parsed:
 * tree-sitter's wasm costs a few microseconds per node, so this bounds a classification to well
 * under a second. Word-only parsing says "not parsed"; the deep scan says "dangerous".
 */
export const MAX_SCRIPT_TOKENS = 50_000;

/** Cheap, deterministic upper bound on the number of syntax nodes a script can produce. */
export function isTooComplex(script: string): boolean {
  if (script.length > MAX_SCRIPT_BYTES) return true;
  let tokens = 0;
  for (let i = 0; i < script.length; i++) {
    const c = script.charCodeAt(i);
    // space \t \n ; & | ( ) < > $ ` " ' { }
    if (c === 32 || c === 9 || c === 10 || c === 59 || c === 38 || c === 124 || c === 40 || c === 41 || c === 60 ||
        c === 62 || c === 36 || c === 96 || c === 34 || c === 39 || c === 123 || c === 125) {
      tokens += 1;
      if (tokens > MAX_SCRIPT_TOKENS) return true;
    }
  }
  return false;
}

let parser: Parser | null = null;
/** Node type ids allowed in a word-only script (named kinds and anonymous tokens alike). */
let allowedIds: Uint8Array = new Uint8Array(0);
let commandId = -1;
/**
 * Captures every command (@c) and every node outside the allow-list (@b), matched inside wasm.
 * Compiled on the first parse, not at load: compiling it is most of the grammar's start-up cost
 * (about 100 ms of the 150), and `warden exec -- true` parses no script. The verdict cannot
 * depend on when it is compiled: it is a pure function of the pinned grammar, the walk gives the
 * same reading (a differential test holds them equal), and a failure to compile throws on every
 * parse alike, which the classifier turns into its fail-closed answer.
 */
let shapeQuery: Query | null = null;
/** The loaded grammar and the package's Query class (imported with it) that shapeQuery is built from. */
let bash: BashGrammar | null = null;
type BashGrammar = { language: Language; Query: typeof Query };
let initPromise: Promise<void> | null = null;

/** Loads the tree-sitter wasm (I/O, once). Safe to call many times and concurrently. */
export function initShellParser(): Promise<void> {
  initPromise ??= (async () => {
    const require = createRequire(import.meta.url);
    // Baseline (Liftoff) wasm code only. Node 20's V8 otherwise spends about 1.7 s of CPU compiling
    // the grammar's wasm with TurboFan on worker threads, and the main thread waits for it: on a
    // loaded 2-core machine one `warden hook` call took 15-45 s (2.2 s CPU) and hit its own
    // watchdog, which fails closed but blocks the agent's call; with this flag 3-6 s (0.5 s CPU) at
    // the same load. Parsing an agent's short scripts is dominated by the JS-wasm glue, not by the
    // quality of the compiled code. Read by V8 at compile time, so it must come before Parser.init.
    setFlagsFromString('--liftoff-only');
    const { Parser, Language, Query } = await import('web-tree-sitter');
    await Parser.init();
    const language = await Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'));
    const p = new Parser();
    p.setLanguage(language);
    ({ allowedIds, commandId } = symbolTables(language));
    bash = { language, Query };
    parser = p;
  })().catch((error: unknown) => {
    initPromise = null;
    throw error;
  });
  return initPromise;
}

/**
 * Loads the grammar: before the first verdict in `classify` and `explain` (they read many
 * commands), on demand for a request (src/requests/effects.ts asks a verdict again once it is
 * loaded, after the verdict threw ShellGrammarNotLoadedError: verdicts never depend on whether an
 * earlier request loaded it). I/O once; safe to call many times.
 */
export function loadShellGrammar(): Promise<void> {
  return initShellParser();
}

export class ShellGrammarNotLoadedError extends Error {
  constructor() {
    super('shell grammar not loaded: await loadShellGrammar() once before classifying');
    this.name = 'ShellGrammarNotLoadedError';
  }
}

function requireParser(): Parser {
  if (parser === null) throw new ShellGrammarNotLoadedError();
  return parser;
}

/** Shells whose `-c` script we parse; zsh and sh are read with the bash grammar, as Codex does. */
export const PARSED_SHELLS: ReadonlySet<string> = new Set(['bash', 'zsh', 'sh']);

/**
 * The script of an exact `[shell, -lc|-c, script]` argv, else null. A fourth element, another flag,
 * or a shell outside PARSED_SHELLS is not this shape (Codex: a 4-arg `bash -lc git status` is not).
 */
export function shellScriptOf(argv: readonly string[]): { shell: string; script: string } | null {
  if (argv.length !== 3) return null;
  const [shell, flag, script] = argv as [string, string, string];
  if (flag !== '-lc' && flag !== '-c') return null;
  const name = basename(shell);
  if (!PARSED_SHELLS.has(name)) return null;
  return { shell, script };
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** Named node kinds that may appear in a word-only script (Codex's allow-list). */
const ALLOWED_NAMED = new Set([
  'program',
  'list',
  'pipeline',
  'command',
  'command_name',
  'word',
  'string',
  'string_content',
  'raw_string',
  'number',
  'concatenation',
]);
/** Anonymous tokens that may appear: the four joiners and the quote characters. */
const ALLOWED_ANONYMOUS = new Set(['&&', '||', ';', '|', '"', "'"]);

/** Maps the allow-lists to the grammar's type ids once, so the walk compares numbers. */
function symbolTables(language: Language): { allowedIds: Uint8Array; commandId: number } {
  const ids = new Uint8Array(language.nodeTypeCount);
  let command = -1;
  for (let id = 0; id < language.nodeTypeCount; id++) {
    const type = language.nodeTypeForId(id);
    if (type === null) continue;
    const named = language.nodeTypeIsNamed(id);
    if (named ? ALLOWED_NAMED.has(type) : ALLOWED_ANONYMOUS.has(type) || type.trim() === '') ids[id] = 1;
    if (named && type === 'command') command = id;
  }
  if (command < 0) throw new Error('tree-sitter-bash grammar has no command node');
  return { allowedIds: ids, commandId: command };
}

/**
 * The allow-list as a query: one alternation of every visible node kind and token that is NOT
 * allowed. Hidden grammar symbols (`_statement`, `*_repeat1`, ...) never appear in a tree and do
 * not compile as query atoms; they are skipped. Matching in wasm is far cheaper than walking every
 * node from JS; a differential test checks it against the walk.
 */
function buildShapeQuery(grammar: BashGrammar): Query {
  const { language } = grammar;
  const atoms = new Set<string>();
  for (let id = 0; id < language.nodeTypeCount; id++) {
    const type = language.nodeTypeForId(id);
    if (type === null || type.startsWith('_')) continue;
    const named = language.nodeTypeIsNamed(id);
    if (named ? ALLOWED_NAMED.has(type) : ALLOWED_ANONYMOUS.has(type) || type.trim() === '') continue;
    // An internal symbol with no visible node does not compile as an atom. Asking the grammar
    // instead of compiling a trial query per symbol (225 of them, ~10 ms each) keeps start-up at
    // tens of milliseconds; the two agree on every symbol of tree-sitter-bash, and a visible symbol
    // that still failed would make the query below throw, so the parser never starts half-built.
    if (!language.nodeTypeIsVisible(id)) continue;
    atoms.add(named ? `(${type})` : JSON.stringify(type));
  }
  return new grammar.Query(language, `(command) @c\n[${[...atoms].join(' ')}] @b`);
}

/** Unquoted characters the shell rewrites: globs (`*?[]`), braces (`{a,b}`) and tilde. */
const EXPANDING = /[*?[\]{}~]/;

/**
 * How the shell may rewrite a command's arguments: 'none'; 'prefixed' when every expanding word
 * is a glob or tilde whose expansion cannot start with `-` or `+` (a non-empty literal prefix
 * before the first wildcard, or a leading `~`, which expands to an absolute path); 'unsafe'
 * otherwise (`*.py` could expand to a file named `--pre=x.py`; brace expansion is never read).
 */
export type Expansion = 'none' | 'prefixed' | 'unsafe';

export interface ParsedScript {
  /** Each sub-command's words, in source order. */
  commands: string[][];
  /** Per command: true when an unquoted argument holds glob, brace or tilde characters. */
  expands: boolean[];
  /** Per command: the worst expansion among its arguments. */
  expansion: Expansion[];
  /** Per command: the first argument whose expansion is unsafe (for reasons), else null. */
  expandingWord: (string | null)[];
}

/** Word-only commands of a script, or null when it is anything more than plain words. Sync. */
export function parseWordOnlyScript(script: string): string[][] | null {
  return parseWordOnlyScriptDetailed(script)?.commands ?? null;
}

/** As parseWordOnlyScript, with the per-command expansion flags the rules need. Sync, no I/O. */
export function parseWordOnlyScriptDetailed(script: string): ParsedScript | null {
  const parsed = analyze(script).parsed;
  return parsed === null
    ? null
    : { commands: parsed.commands.map((c) => [...c]), expands: [...parsed.expands], expansion: [...parsed.expansion], expandingWord: [...parsed.expandingWord] };
}

interface Analysis {
  parsed: ParsedScript | null;
  deep: string[][];
}

/**
 * One tree-sitter parse serves both readings of a script. The last answer is kept, because one
 * classification asks about the same script up to three times (commands, known-safe, dangerous);
 * the results are plain data and never handed out without a copy.
 */
let last: { script: string; analysis: Analysis } | null = null;

function analyze(script: string): Analysis {
  if (last !== null && last.script === script) return last.analysis;
  const analysis = plainWordsAnalysis(script) ?? analyzeUncached(script);
  last = { script, analysis };
  return analysis;
}

function analyzeUncached(script: string, useWalk = false): Analysis {
  const p = requireParser();
  // too big to read in time: not parsed, and one unknowable command, which the danger check flags
  if (isTooComplex(script)) return { parsed: null, deep: [[DYNAMIC_WORD]] };
  // NUL cannot reach a real shell script (argv strings end there): refuse it, scan it as a blank
  const source = script.includes('\0') ? script.replaceAll('\0', ' ') : script;
  const tree = p.parse(source);
  if (tree === null) return { parsed: null, deep: [[DYNAMIC_WORD]] };
  try {
    const root = tree.rootNode;
    // a tree with errors (or MISSING nodes, which queries do not see) is read by the full walk,
    // so the danger scan finds every command tree-sitter recovered
    const walked = useWalk || root.hasError ? walkTree(root) : queryTree(root);
    const commandNodes = walked.commands;
    const plain = walked.plain && !root.hasError && !script.includes('\0') && script.trim() !== '';
    const deep: string[][] = [];
    for (const node of commandNodes) {
      for (const words of looseCommandWords(node, source)) if (words.length > 0) deep.push(words);
    }
    if (!plain || commandNodes.length === 0) return { parsed: null, deep };
    commandNodes.sort((a, b) => a.startIndex - b.startIndex);
    const commands: string[][] = [];
    const expands: boolean[] = [];
    const expansion: Expansion[] = [];
    const expandingWord: (string | null)[] = [];
    for (const node of commandNodes) {
      const words = commandWords(node, source);
      if (words === null) return { parsed: null, deep };
      commands.push(words.words);
      expands.push(words.expansion !== 'none');
      expansion.push(words.expansion);
      expandingWord.push(words.expandingWord);
    }
    return { parsed: { commands, expands, expansion, expandingWord }, deep };
  } finally {
    tree.delete();
  }
}

/**
 * Characters of a script that is plain words however bash reads it: letters, digits and
 * `_ - . / = : + ,`, words split by spaces (not `@`: tree-sitter reads `x@y` as other words than bash does). No quote, escape, expansion (`$ \` ~ * ? [ { `),
 * operator (`; & | < > ( )`), comment (`#`), history or negation (`!`), job spec (`%`), tab or line break.
 */
const PLAIN_WORDS = /^[A-Za-z0-9_\-./=:+, ]+$/;
/**
 * A first word the grammar reads as a plain command name: from a letter, `_`, `.` or `/`, of
 * letters, digits and `_ - . /`. Tree-sitter reads a leading number (`5`, `-5`) as a number node,
 * `a=`, `a+=` and even `a+:` as assignments.
 */
const PLAIN_NAME = /^[A-Za-z_./][A-Za-z0-9_\-./]*$/;
/** Words that are bash syntax where a command may start (reserved words; `in` for `for` and `case`). */
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done', 'in', 'function', 'time', 'coproc',
  // the grammar's declaration and unset commands, not plain commands to it
  'declare', 'typeset', 'export', 'local', 'readonly', 'unset', 'unsetenv']);

/**
 * The analysis of a one-command script of plain words (`git status`, `ls -la src`), read without
 * the grammar: what an agent's shell tool sends most, and `warden hook` starts a process per call,
 * so this spares it the grammar's ~25 ms load. Null for anything else (the grammar reads it): a
 * first word that is not PLAIN_NAME, a reserved word anywhere, or a word from `=` (tree-sitter reads
 * `==` as an operator).
 * A property test checks this against the grammar's query and walk on generated scripts.
 */
function plainWordsAnalysis(script: string): Analysis | null {
  if (!PLAIN_WORDS.test(script) || isTooComplex(script)) return null;
  const words = script.split(' ').filter((w) => w !== '');
  if (words.length === 0 || !PLAIN_NAME.test(words[0]!) || words.some((w) => RESERVED.has(w) || w.startsWith('='))) return null;
  return { parsed: { commands: [words], expands: [false], expansion: ['none'], expandingWord: [null] }, deep: [[...words]] };
}

/** The plain-words reading alone (null when a script is not plain words), for the property test against the grammar. Sync. */
export function parseWordOnlyScriptByPlainWords(script: string): { parsed: ParsedScript | null; deep: string[][] } | null {
  return plainWordsAnalysis(script);
}

/** The shape check by query; falls back to the walk if the query hit its match limit. */
function queryTree(root: Node): { plain: boolean; commands: Node[] } {
  if (shapeQuery === null && bash !== null) shapeQuery = buildShapeQuery(bash);
  const query = shapeQuery;
  if (query === null) return walkTree(root);
  const captures = query.captures(root);
  if (query.didExceedMatchLimit()) return walkTree(root);
  const commands: Node[] = [];
  let plain = true;
  for (const capture of captures) {
    if (capture.name === 'c') commands.push(capture.node);
    else plain = false;
  }
  return { plain, commands };
}

/**
 * The reference reading by a full node walk, for differential tests against the query. Sync.
 */
export function parseWordOnlyScriptByWalk(script: string): { parsed: ParsedScript | null; deep: string[][] } {
  requireParser();
  return analyzeUncached(script, true);
}

/** As parseWordOnlyScriptByWalk, by the production (query) path, uncached. Sync. */
export function parseWordOnlyScriptByQuery(script: string): { parsed: ParsedScript | null; deep: string[][] } {
  requireParser();
  return analyzeUncached(script, false);
}

/**
 * One iterative walk (no recursion limit on deep nesting) over every node: collects every command
 * node in source order and notes whether any node falls outside the word-only allow-list.
 */
function walkTree(root: Node): { plain: boolean; commands: Node[] } {
  const commands: Node[] = [];
  let plain = true;
  const cursor = root.walk();
  try {
    for (;;) {
      const id = cursor.nodeTypeId;
      if (id === commandId) commands.push(cursor.currentNode);
      else if (allowedIds[id] !== 1) plain = false;
      if (cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return { plain, commands };
      }
    }
  } finally {
    cursor.delete();
  }
}

interface Words {
  words: string[];
  expansion: Expansion;
  expandingWord: string | null;
}

/**
 * True when the source between two sibling nodes holds a line break (other than a backslash
 * continuation). tree-sitter-bash 0.25 misreads `a | b | c\nd && e`, making `d` arguments of `c`:
 * bash runs `d` as a command. A command whose words span a line break is therefore refused.
 */
function gapBreaksLine(source: string, before: Node, after: Node): boolean {
  const gap = source.slice(before.endIndex, after.startIndex);
  return gap.replaceAll('\\\n', '').includes('\n');
}

function commandWords(command: Node, source: string): Words | null {
  const children = command.namedChildren.filter((c): c is Node => c !== null);
  for (let i = 1; i < children.length; i++) {
    // between words only blanks and backslash-newline continuations; anything else (a line break,
    // a `\ ` the grammar takes as blank but bash as a literal space) means we misread the command
    const gap = source.slice(children[i - 1]!.endIndex, children[i]!.startIndex);
    if (!/^(?:[ \t]|\\\r?\n)+$/.test(gap) || gapBreaksLine(source, children[i - 1]!, children[i]!)) return null;
  }
  const [nameNode, ...args] = children;
  if (nameNode === undefined || nameNode.type !== 'command_name') return null;
  // The program name must be one plain word: a quoted name ('git status') is refused, as are
  // names the shell would rewrite (glob, tilde, backslash).
  const nameWord = nameNode.namedChildren[0];
  if (nameNode.namedChildCount !== 1 || nameWord == null || nameWord.type !== 'word') return null;
  const name = nameWord.text;
  if (name.includes('\\') || EXPANDING.test(name)) return null;
  const words = [name];
  let expansion: Expansion = 'none';
  let expandingWord: string | null = null;
  for (const arg of args) {
    const piece = literal(arg);
    if (piece === null) return null;
    words.push(piece.text);
    const e = pieceExpansion(piece);
    if (e === 'unsafe' && expansion !== 'unsafe') {
      expansion = 'unsafe';
      expandingWord = piece.text;
    } else if (e === 'prefixed' && expansion === 'none') expansion = 'prefixed';
  }
  return { words, expansion, expandingWord };
}

interface Piece {
  text: string;
  /** Index in text of the first unquoted glob character (`*?[]`), or -1. */
  glob: number;
  /** The word starts with an unquoted `~` (tilde expansion). */
  tilde: boolean;
  /** An unquoted `{` or `}` (brace expansion, never read). */
  brace: boolean;
}

/** What the shell's expansion of a whole argument can look like (see Expansion). */
function pieceExpansion(piece: Piece): Expansion {
  if (piece.brace) return 'unsafe';
  if (piece.glob < 0) return piece.tilde ? 'prefixed' : 'none';
  if (piece.tilde) return 'prefixed';
  const prefix = piece.text.slice(0, piece.glob);
  return prefix === '' || prefix.startsWith('-') || prefix.startsWith('+') ? 'unsafe' : 'prefixed';
}

const GLOB_CHAR = /[*?[\]]/;

function unquotedPiece(text: string): Piece {
  const m = GLOB_CHAR.exec(text);
  return { text, glob: m === null ? -1 : m.index, tilde: text.startsWith('~'), brace: /[{}]/.test(text) };
}

function quotedPiece(text: string): Piece {
  return { text, glob: -1, tilde: false, brace: false };
}

/** The literal value of an argument node, or null when the shell would compute it. */
function literal(node: Node): Piece | null {
  switch (node.type) {
    case 'word':
    case 'number': {
      const text = node.text;
      // `--out\put` runs as `--output`: refuse rather than unescape.
      if (text.includes('\\')) return null;
      return unquotedPiece(text);
    }
    case 'raw_string': {
      const text = node.text;
      if (text.length < 2 || !text.startsWith("'") || !text.endsWith("'")) return null;
      return quotedPiece(text.slice(1, -1));
    }
    case 'string': {
      // Only string_content children (no $x, $(..), `..`); the value is the source between the
      // quotes, so newlines that tree-sitter leaves between content nodes are kept.
      for (const child of node.namedChildren) {
        if (child === null || child.type !== 'string_content') return null;
      }
      const text = node.text;
      if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return null;
      const inner = text.slice(1, -1);
      if (inner.includes('\\')) return null;
      return quotedPiece(inner);
    }
    case 'concatenation': {
      let text = '';
      let glob = -1;
      let tilde = false;
      let brace = false;
      let end = node.startIndex;
      for (const child of node.namedChildren) {
        if (child === null || child.type === 'concatenation') return null;
        // the pieces of one word touch; a gap would be text the grammar skipped
        if (child.startIndex !== end) return null;
        end = child.endIndex;
        const piece = literal(child);
        if (piece === null) return null;
        if (glob < 0 && piece.glob >= 0) glob = text.length + piece.glob;
        // only a `~` at the very start of the word is expanded
        if (text === '' && piece.tilde) tilde = true;
        brace ||= piece.brace;
        text += piece.text;
      }
      if (end !== node.endIndex) return null;
      return { text, glob, tilde, brace };
    }
    default:
      return null;
  }
}

/**
 * Every simple command anywhere in a script, including inside substitutions, subshells, pipelines
 * with redirections, control flow and (partially) broken input, with arguments taken literally when
 * possible and as DYNAMIC_WORD otherwise. Used only to look for DANGEROUS commands, where finding
 * too much is the safe error. A script too complex to read yields [[DYNAMIC_WORD]], which the
 * danger check flags. Throws if the grammar is not loaded. Sync.
 */
export function deepScanScript(script: string): string[][] {
  return analyze(script).deep.map((c) => [...c]);
}

/** Stands for a program name or argument the shell computes (`$CMD`, `$(..)`): unknowable here. */
export const DYNAMIC_WORD = '\u0000dynamic';

/** Loose words of a command; a line break between words starts a new command (see gapBreaksLine). */
function looseCommandWords(command: Node, source: string): string[][] {
  const out: string[][] = [];
  let words: string[] = [];
  let seenName = false;
  let previous: Node | null = null;
  for (const child of command.namedChildren) {
    if (child === null) continue;
    if (previous !== null && seenName && gapBreaksLine(source, previous, child)) {
      out.push(words);
      words = [];
      seenName = false;
    }
    previous = child;
    if (!seenName) {
      if (child.type === 'command_name') {
        seenName = true;
        const inner = child.namedChildren[0];
        words.push(child.namedChildCount === 1 && inner ? (looseLiteral(inner) ?? DYNAMIC_WORD) : DYNAMIC_WORD);
        continue;
      }
      // assignments (FOO=bar) and redirections before the name are not the program
      if (child.type === 'variable_assignment' || child.type.endsWith('redirect') || (words.length === 0 && out.length === 0)) continue;
      // a word after a line break is the next command's name
      seenName = true;
      words.push(looseLiteral(child) ?? DYNAMIC_WORD);
      continue;
    }
    if (child.type.endsWith('redirect')) continue;
    words.push(looseLiteral(child) ?? DYNAMIC_WORD);
  }
  out.push(words);
  return out;
}

/**
 * What the shell would make of a word when that is knowable without running anything: quotes
 * removed, backslash escapes and ANSI-C `$'..'` escapes decoded (`$'\x72m'` is `rm`). Null when the
 * word holds an expansion or substitution.
 */
function looseLiteral(node: Node): string | null {
  switch (node.type) {
    case 'word':
    case 'number':
      return node.text.replace(/\\(.)/gs, '$1');
    case 'raw_string':
      return node.text.slice(1, -1);
    case 'ansi_c_string':
      return decodeAnsiC(node.text.slice(2, -1));
    case 'string': {
      for (const child of node.namedChildren) if (child === null || child.type !== 'string_content') return null;
      return node.text.slice(1, -1).replace(/\\([$`"\\\n])/g, '$1');
    }
    case 'concatenation': {
      let out = '';
      for (const child of node.namedChildren) {
        if (child === null) continue;
        const piece = looseLiteral(child);
        if (piece === null) return null;
        out += piece;
      }
      return out;
    }
    default:
      return null;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?',
};

/** Decodes the body of a bash `$'...'` string. */
export function decodeAnsiC(body: string): string {
  return body.replace(/\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)/gs, (_m, esc: string) => {
    const head = esc[0]!;
    if (head === 'x' || head === 'u' || head === 'U') {
      const cp = Number.parseInt(esc.slice(1), 16);
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
    }
    if (/[0-7]/.test(head)) return String.fromCharCode(Number.parseInt(esc, 8) & 0xff);
    if (head === 'c') return String.fromCharCode(esc.charCodeAt(1) & 0x1f);
    return SIMPLE_ESCAPES[head] ?? `\\${esc}`;
  });
}
