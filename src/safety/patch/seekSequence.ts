/**
 * Finding where a chunk applies (CODEX-REFERENCE §10): the old lines are looked for with
 * progressively looser comparison (exact, then ignoring trailing whitespace, then ignoring
 * surrounding whitespace, then also folding typographic punctuation), so a model's
 * copy of the file with a smart quote or a stray space still lands in the one right place. Pure.
 */

/** Typographic dashes, quotes and spaces a model may emit for their ASCII forms. */
function foldPunctuation(s: string): string {
  let out = '';
  for (const ch of s.trim()) {
    const c = ch.codePointAt(0)!;
    if ((c >= 0x2010 && c <= 0x2015) || c === 0x2212) out += '-';
    else if (c >= 0x2018 && c <= 0x201b) out += "'";
    else if (c >= 0x201c && c <= 0x201f) out += '"';
    else if (c === 0x00a0 || (c >= 0x2002 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000) out += ' ';
    else out += ch;
  }
  return out;
}

const COMPARISONS: Array<(a: string, b: string) => boolean> = [
  (a, b) => a === b,
  (a, b) => a.trimEnd() === b.trimEnd(),
  (a, b) => a.trim() === b.trim(),
  (a, b) => foldPunctuation(a) === foldPunctuation(b),
];

/**
 * Index of the first occurrence of `pattern` in `lines` at or after `start`, or null. With `eof`
 * (`*** End of File`) the pattern must be the last lines of the file.
 */
export function seekSequence(lines: readonly string[], pattern: readonly string[], start: number, eof: boolean): number | null {
  if (pattern.length === 0) return start;
  if (pattern.length > lines.length) return null;
  const last = lines.length - pattern.length;
  const from = eof ? last : start;
  for (const same of COMPARISONS) {
    for (let i = from; i <= last; i++) {
      let ok = true;
      for (let p = 0; p < pattern.length; p++) {
        if (!same(lines[i + p]!, pattern[p]!)) {
          ok = false;
          break;
        }
      }
      if (ok) return i;
    }
  }
  return null;
}
