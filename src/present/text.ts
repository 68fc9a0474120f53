/**
 * Requests as one line of text: the command as a person would type it, a patch as its files, and
 * the one `clip` every fixed-width column and excerpt uses. Pure.
 */
import type { PatchFile } from '../events/types.ts';

/** Characters a POSIX shell never treats specially inside a word (so `https://x` stays as typed). */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./~^-]+$/;

/**
 * argv as a person would type it: plain words bare, anything else single-quoted (`'a b'`, `''`).
 * Unambiguous (pasting it into a shell gives the same argv), unlike shell-quote's escaping of `:`.
 * A leading `~` or `=` is quoted, since a shell expands those at the start of a word.
 */
export function shellWord(arg: string): string {
  if (arg !== '' && PLAIN_WORD.test(arg) && !/^[~=]/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandText(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}

/**
 * `text` fitted to `width` characters: cut with `…` when longer, padded when `pad` is set.
 * Control characters become visible escapes first, so a command cannot move the cursor or
 * recolour the terminal it is shown on (an agent chooses the text).
 */
export function clip(text: string, width: number, opts: { pad?: boolean } = {}): string {
  const safe = visible(text);
  const out = safe.length <= width ? safe : `${safe.slice(0, Math.max(0, width - 1))}…`;
  return opts.pad ? out.padEnd(width) : out;
}

/**
 * Control characters (ESC, CR, backspace, the C1 range, bidi overrides) as `\x1b`-style escapes:
 * every text an agent chose passes here before it reaches a terminal, so it cannot rewrite the
 * prompt around it (a `\r` or `ESC[2K` inside a command would paint over the real one).
 */
export function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A multi-line excerpt cut at `max` characters, saying how much was left out. */
export function excerpt(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters not shown)`;
}

export function fileChangeText(f: PatchFile): string {
  if (f.moveTo) return `move ${f.path} → ${f.moveTo}`;
  return `${f.kind === 'add' ? 'add' : f.kind === 'delete' ? 'delete' : 'edit'} ${f.path}`;
}

/** One line naming what a request does: `touch x`, `patch: edit a.txt, add b.txt`. */
export function describeRequest(r: { kind: 'exec' | 'patch'; command?: readonly string[] | null; files?: readonly PatchFile[] | null }): string {
  if (r.kind === 'exec') return commandText(r.command ?? []);
  const files = r.files ?? [];
  return files.length > 0 ? `patch: ${files.map(fileChangeText).join(', ')}` : 'patch';
}
