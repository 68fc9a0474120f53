/**
 * Parser for the apply_patch format (the Codex CLI's patch envelope, CODEX-REFERENCE §10). Pure: no
 * I/O. Produces a typed hunk list that `classifyPatch` judges and `applyPatch` applies. Every
 * failure is a `PatchParseError` naming the 1-based line number and the offending line; nothing
 * else is ever thrown, whatever the input (CRLF, NUL bytes, megabytes of junk).
 */
import { WardenError } from '../../errors.ts';

/** Larger patches are refused outright: parsing is linear, but nobody reviews 8 MiB by hand. */
export const MAX_PATCH_BYTES = 8 * 1024 * 1024;

export const BEGIN_PATCH = '*** Begin Patch';
export const END_PATCH = '*** End Patch';
const ADD_FILE = '*** Add File: ';
const DELETE_FILE = '*** Delete File: ';
const UPDATE_FILE = '*** Update File: ';
const MOVE_TO = '*** Move to: ';
const END_OF_FILE = '*** End of File';
const CONTEXT_MARKER = '@@ ';
const EMPTY_CONTEXT_MARKER = '@@';

export interface AddFileHunk {
  kind: 'add';
  path: string;
  /** Full new contents; every `+` line plus "\n". */
  contents: string;
  /** 1-based line of the header in the original text. */
  line: number;
}

export interface DeleteFileHunk {
  kind: 'delete';
  path: string;
  line: number;
}

export interface UpdateFileChunk {
  /** `@@ <text>` lines before the chunk body, outermost first; each narrows where the chunk applies. */
  contexts: string[];
  /** Lines the file must contain (context and `-` lines), in order. */
  oldLines: string[];
  /** What replaces them (context and `+` lines), in order. */
  newLines: string[];
  added: number;
  removed: number;
  /** `*** End of File`: the old lines must be the last lines of the file. */
  isEndOfFile: boolean;
  line: number;
}

export interface UpdateFileHunk {
  kind: 'update';
  path: string;
  moveTo?: string;
  chunks: UpdateFileChunk[];
  line: number;
}

export type PatchHunk = AddFileHunk | DeleteFileHunk | UpdateFileHunk;

export interface ParsedPatch {
  hunks: PatchHunk[];
}

/** The patch text does not follow the grammar. `line` is 1-based (0 when not about one line). */
export class PatchParseError extends WardenError {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly lineText: string | null,
  ) {
    super('PATCH_PARSE', formatParseError(reason, line, lineText));
  }
}

export const isPatchParseError = (e: unknown): e is PatchParseError => e instanceof PatchParseError;

function formatParseError(reason: string, line: number, lineText: string | null): string {
  if (line <= 0) return reason;
  const shown = lineText === null ? '' : `: '${truncateForMessage(lineText)}'`;
  return `line ${line}: ${reason}${shown}`;
}

/** Long or binary lines are shortened and escaped so an error message stays one readable line. */
function truncateForMessage(text: string): string {
  const escaped = JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text).slice(1, -1);
  return escaped;
}

export type ParseResult = { ok: true; patch: ParsedPatch } | { ok: false; error: PatchParseError };

/** Like `parsePatch`, but the failure is a value. Never throws. */
export function tryParsePatch(text: unknown): ParseResult {
  try {
    return { ok: true, patch: parsePatch(text) };
  } catch (error) {
    if (isPatchParseError(error)) return { ok: false, error };
    // A bug in the parser must still fail closed, as a parse error.
    return { ok: false, error: new PatchParseError(`internal parser error: ${String(error)}`, 0, null) };
  }
}

interface NumberedLine {
  text: string;
  /** 1-based number in the caller's text. */
  no: number;
}

/**
 * Parses an apply_patch envelope. Throws only `PatchParseError`. Lenient as the reference is:
 * surrounding whitespace, whitespace-padded markers and a `<<'EOF' ... EOF` heredoc wrapper.
 */
export function parsePatch(text: unknown): ParsedPatch {
  if (typeof text !== 'string') throw new PatchParseError('patch must be a string', 0, null);
  // Bytes, not UTF-16 units: the cap is about memory and review, and a cheap upper bound suffices.
  if (text.length > MAX_PATCH_BYTES || Buffer.byteLength(text, 'utf8') > MAX_PATCH_BYTES) {
    throw new PatchParseError(`patch is larger than ${MAX_PATCH_BYTES} bytes`, 0, null);
  }
  // JavaScript's trim() removes U+FEFF, so a byte-order mark before the envelope would pass unseen;
  // the reference refuses it, and a patch that is not what it looks like is not applied.
  if (/^[ \t\r\n]*\ufeff/.test(text)) throw new PatchParseError('the patch starts with a byte-order mark', 1, null);
  const lines = splitTrimmed(text);
  const body = findBody(lines);
  const hunks: PatchHunk[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i]!.text.trim() === '') {
      i++; // a blank line between hunks carries no meaning (the reference rejects it as a header)
      continue;
    }
    const { hunk, used } = parseOneHunk(body, i);
    hunks.push(hunk);
    i += used;
  }
  return { hunks };
}

/**
 * Trims the whole text (as the reference does) and splits on LF or CRLF, keeping the
 * original line numbers (leading blank lines removed by the trim still count).
 */
function splitTrimmed(text: string): NumberedLine[] {
  // As Rust's str::lines: LF ends a line and one CR before it is dropped; a lone CR is content.
  const raw = text.split(/\r?\n/);
  let start = 0;
  let end = raw.length - 1;
  while (start <= end && raw[start]!.trim() === '') start++;
  while (end >= start && raw[end]!.trim() === '') end--;
  const out: NumberedLine[] = [];
  for (let k = start; k <= end; k++) {
    let t = raw[k]!;
    // The trim applies to the text as a whole: only the first line's leading and last line's trailing space go.
    if (k === start) t = t.trimStart();
    if (k === end) t = t.trimEnd();
    out.push({ text: t, no: k + 1 });
  }
  return out;
}

function checkBoundaries(lines: NumberedLine[]): PatchParseError | null {
  const first = lines[0];
  const last = lines[lines.length - 1];
  if (first === undefined || first.text.trim() !== BEGIN_PATCH) {
    return new PatchParseError(`the first line of the patch must be '${BEGIN_PATCH}'`, first?.no ?? 1, first?.text ?? '');
  }
  if (lines.length < 2 || last === undefined || last.text.trim() !== END_PATCH) {
    return new PatchParseError(`the last line of the patch must be '${END_PATCH}'`, last?.no ?? 1, last?.text ?? '');
  }
  return null;
}

const HEREDOC_OPENERS = new Set(['<<EOF', "<<'EOF'", '<<"EOF"']);

/** The lines between the markers, after removing an optional heredoc wrapper. */
function findBody(lines: NumberedLine[]): NumberedLine[] {
  const strictError = checkBoundaries(lines);
  if (strictError === null) return lines.slice(1, -1);
  const first = lines[0];
  const last = lines[lines.length - 1];
  if (
    lines.length >= 4 &&
    first !== undefined &&
    last !== undefined &&
    HEREDOC_OPENERS.has(first.text.trim()) &&
    last.text.trim().endsWith('EOF')
  ) {
    const inner = lines.slice(1, -1);
    const innerError = checkBoundaries(inner);
    if (innerError !== null) throw innerError;
    return inner.slice(1, -1);
  }
  throw strictError;
}

function parsePath(raw: string, line: NumberedLine): string {
  const path = raw.trim();
  if (path === '') throw new PatchParseError('empty file path', line.no, line.text);
  // A NUL can never name a file; refusing it here keeps every later step simple.
  if (path.includes('\0')) throw new PatchParseError('file path contains a NUL byte', line.no, line.text);
  return path;
}

function parseOneHunk(lines: NumberedLine[], start: number): { hunk: PatchHunk; used: number } {
  const header = lines[start]!;
  const first = header.text.trim();
  if (first.startsWith(ADD_FILE)) {
    const path = parsePath(first.slice(ADD_FILE.length), header);
    let contents = '';
    let used = 1;
    for (let k = start + 1; k < lines.length; k++) {
      const t = lines[k]!.text;
      if (!t.startsWith('+')) break;
      contents += `${t.slice(1)}\n`;
      used++;
    }
    return { hunk: { kind: 'add', path, contents, line: header.no }, used };
  }
  if (first.startsWith(DELETE_FILE)) {
    const path = parsePath(first.slice(DELETE_FILE.length), header);
    return { hunk: { kind: 'delete', path, line: header.no }, used: 1 };
  }
  if (first.startsWith(UPDATE_FILE)) {
    const path = parsePath(first.slice(UPDATE_FILE.length), header);
    let k = start + 1;
    let moveTo: string | undefined;
    const maybeMove = lines[k];
    if (maybeMove !== undefined && maybeMove.text.startsWith(MOVE_TO)) {
      moveTo = parsePath(maybeMove.text.slice(MOVE_TO.length), maybeMove);
      k++;
    }
    const chunks: UpdateFileChunk[] = [];
    while (k < lines.length) {
      const t = lines[k]!.text;
      if (t.trim() === '') {
        k++; // blank lines between chunks are skipped
        continue;
      }
      if (t.startsWith('***')) break; // the next hunk, or End of File misplaced (reported by that hunk)
      const { chunk, used } = parseChunk(lines, k, chunks.length === 0);
      chunks.push(chunk);
      k += used;
    }
    if (chunks.length === 0) {
      throw new PatchParseError(`update file hunk for path '${path}' is empty`, header.no, header.text);
    }
    const hunk: UpdateFileHunk = { kind: 'update', path, chunks, line: header.no };
    if (moveTo !== undefined) hunk.moveTo = moveTo;
    return { hunk, used: k - start };
  }
  throw new PatchParseError(
    "not a valid hunk header (valid: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}')",
    header.no,
    header.text,
  );
}

function parseChunk(lines: NumberedLine[], start: number, allowMissingContext: boolean): { chunk: UpdateFileChunk; used: number } {
  const head = lines[start]!;
  const contexts: string[] = [];
  let k = start;
  // One or more `@@` lines; stacked contexts narrow the search (class, then method).
  while (k < lines.length) {
    const t = lines[k]!.text;
    if (t === EMPTY_CONTEXT_MARKER || t.trimEnd() === EMPTY_CONTEXT_MARKER) {
      k++;
    } else if (t.startsWith(CONTEXT_MARKER)) {
      contexts.push(t.slice(CONTEXT_MARKER.length));
      k++;
    } else break;
  }
  if (k === start && !allowMissingContext) {
    throw new PatchParseError("expected update hunk to start with a '@@' context marker", head.no, head.text);
  }
  if (k >= lines.length) {
    throw new PatchParseError('update hunk does not contain any lines', lines[k - 1]!.no, lines[k - 1]!.text);
  }
  const chunk: UpdateFileChunk = {
    contexts,
    oldLines: [],
    newLines: [],
    added: 0,
    removed: 0,
    isEndOfFile: false,
    line: head.no,
  };
  let bodyLines = 0;
  for (; k < lines.length; k++) {
    const line = lines[k]!;
    const t = line.text;
    if (t.trim() === END_OF_FILE) {
      if (bodyLines === 0) throw new PatchParseError('update hunk does not contain any lines', line.no, t);
      chunk.isEndOfFile = true;
      k++;
      break;
    }
    const c = t.charAt(0);
    if (t === '') {
      chunk.oldLines.push('');
      chunk.newLines.push('');
    } else if (c === ' ') {
      chunk.oldLines.push(t.slice(1));
      chunk.newLines.push(t.slice(1));
    } else if (c === '+') {
      chunk.newLines.push(t.slice(1));
      chunk.added++;
    } else if (c === '-') {
      chunk.oldLines.push(t.slice(1));
      chunk.removed++;
    } else {
      if (bodyLines === 0) {
        throw new PatchParseError(
          "unexpected line in update hunk (every line should start with ' ', '+' or '-')",
          line.no,
          t,
        );
      }
      break; // starts the next hunk (or is an invalid header, reported there)
    }
    bodyLines++;
  }
  return { chunk, used: k - start };
}
