/**
 * A patch as the unified diff a person reviews: file headers (`--- old`/`+++ new`, with `new file`,
 * `deleted file` and `rename from/to` lines for adds, deletes and moves), `@@` hunks with context,
 * `-`/`+` lines. Built once as typed lines; each surface renders them (ANSI colour in a terminal,
 * spans in the inspector, plain text for MCP) and cuts long ones with a count of what was left out.
 * `diffDigest` fingerprints the full canonical text, which the DecisionRequested event records so
 * an audit can prove which diff was on the screen. Pure.
 *
 * The canonical text is part of the record: changing how lines are built changes every digest, so
 * such a change needs a new DIFF_FORMAT (replay re-derives the digest of old requests with it).
 */
import { createHash } from 'node:crypto';
import { tryParsePatch, type PatchHunk, type UpdateFileChunk } from './parsePatch.ts';

export const DIFF_FORMAT = 'unified/1';

export type DiffLineKind = 'file' | 'meta' | 'hunk' | 'add' | 'del' | 'ctx' | 'note';

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
}

export interface FileDiff {
  path: string;
  change: 'add' | 'delete' | 'update' | 'move';
  moveTo?: string;
  added: number;
  removed: number;
  lines: DiffLine[];
}

export interface PatchDiff {
  /** False when the patch does not parse; `lines` then says so and nothing else. */
  ok: boolean;
  files: FileDiff[];
  lines: DiffLine[];
  added: number;
  removed: number;
}

/** Past this many cells a chunk's line diff falls back to "common ends as context". */
const LCS_CELLS = 4_000_000;

/** Line diff of one chunk: -/+/context in order (longest common subsequence). */
function chunkLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const out: DiffLine[] = a.slice(0, head).map((l) => ({ kind: 'ctx', text: ` ${l}` }));
  const ma = a.slice(head, a.length - tail);
  const mb = b.slice(head, b.length - tail);
  if (ma.length * mb.length > LCS_CELLS) {
    for (const l of ma) out.push({ kind: 'del', text: `-${l}` });
    for (const l of mb) out.push({ kind: 'add', text: `+${l}` });
  } else {
    const n = ma.length;
    const m = mb.length;
    const w = m + 1;
    const dp = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        dp[i * w + j] = ma[i] === mb[j] ? dp[(i + 1) * w + j + 1]! + 1 : Math.max(dp[(i + 1) * w + j]!, dp[i * w + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && ma[i] === mb[j]) {
        out.push({ kind: 'ctx', text: ` ${ma[i]}` });
        i++;
        j++;
      } else if (i < n && (j === m || dp[(i + 1) * w + j]! >= dp[i * w + j + 1]!)) {
        // removals before additions, as diff(1) prints a change
        out.push({ kind: 'del', text: `-${ma[i]}` });
        i++;
      } else {
        out.push({ kind: 'add', text: `+${mb[j]}` });
        j++;
      }
    }
  }
  for (const l of a.slice(a.length - tail)) out.push({ kind: 'ctx', text: ` ${l}` });
  return out;
}

function chunkHeader(chunk: UpdateFileChunk): DiffLine {
  const where = chunk.contexts.join(' ').trim();
  return { kind: 'hunk', text: where ? `@@ ${where} @@` : '@@' };
}

function fileDiff(hunk: PatchHunk): FileDiff {
  switch (hunk.kind) {
    case 'add': {
      const body = hunk.contents === '' ? [] : hunk.contents.replace(/\n$/, '').split('\n');
      return {
        path: hunk.path,
        change: 'add',
        added: body.length,
        removed: 0,
        lines: [
          { kind: 'file', text: `--- /dev/null` },
          { kind: 'file', text: `+++ ${hunk.path}` },
          { kind: 'meta', text: `new file` },
          { kind: 'hunk', text: `@@ -0,0 +1,${body.length} @@` },
          ...body.map((l): DiffLine => ({ kind: 'add', text: `+${l}` })),
        ],
      };
    }
    case 'delete':
      return {
        path: hunk.path,
        change: 'delete',
        added: 0,
        removed: 0,
        lines: [
          { kind: 'file', text: `--- ${hunk.path}` },
          { kind: 'file', text: `+++ /dev/null` },
          { kind: 'meta', text: `deleted file (the whole file is removed; a patch does not carry its contents)` },
        ],
      };
    case 'update': {
      const lines: DiffLine[] = [
        { kind: 'file', text: `--- ${hunk.path}` },
        { kind: 'file', text: `+++ ${hunk.moveTo ?? hunk.path}` },
      ];
      if (hunk.moveTo) lines.push({ kind: 'meta', text: `rename from ${hunk.path}` }, { kind: 'meta', text: `rename to ${hunk.moveTo}` });
      let added = 0;
      let removed = 0;
      for (const chunk of hunk.chunks) {
        lines.push(chunkHeader(chunk));
        for (const l of chunkLines(chunk.oldLines, chunk.newLines)) {
          if (l.kind === 'add') added++;
          if (l.kind === 'del') removed++;
          lines.push(l);
        }
        if (chunk.isEndOfFile) lines.push({ kind: 'note', text: '\\ at the end of the file' });
      }
      return { path: hunk.path, change: hunk.moveTo ? 'move' : 'update', ...(hunk.moveTo ? { moveTo: hunk.moveTo } : {}), added, removed, lines };
    }
  }
}

export function patchDiff(patch: string): PatchDiff {
  const parsed = tryParsePatch(patch);
  if (!parsed.ok) return { ok: false, files: [], lines: [{ kind: 'note', text: 'the patch does not parse; nothing to show' }], added: 0, removed: 0 };
  const files = parsed.patch.hunks.map(fileDiff);
  return {
    ok: true,
    files,
    lines: files.flatMap((f) => f.lines),
    added: files.reduce((n, f) => n + f.added, 0),
    removed: files.reduce((n, f) => n + f.removed, 0),
  };
}

/** "2 files, +3 -1" */
export function diffStat(d: PatchDiff): string {
  return `${d.files.length} file${d.files.length === 1 ? '' : 's'}, +${d.added} -${d.removed}`;
}

/** The full diff as one plain text (what the digest covers). */
export function diffText(d: PatchDiff): string {
  return d.lines.map((l) => `${l.text}\n`).join('');
}

export interface DiffDigest {
  format: typeof DIFF_FORMAT;
  sha256: string;
  bytes: number;
  lines: number;
}

export function diffDigest(d: PatchDiff): DiffDigest {
  const text = diffText(d);
  return { format: DIFF_FORMAT, sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text), lines: d.lines.length };
}

export interface CutDiff {
  lines: DiffLine[];
  /** Lines left out, and how many of them were + / -. */
  omitted: number;
  omittedAdded: number;
  omittedRemoved: number;
  omittedFiles: number;
}

/**
 * The first `maxLines` lines, and a closing note line counting what was left out (lines, + and -,
 * files not reached at all). Cutting never hides that something was cut.
 */
export function cutDiff(d: PatchDiff, maxLines: number): CutDiff {
  if (d.lines.length <= maxLines) return { lines: d.lines, omitted: 0, omittedAdded: 0, omittedRemoved: 0, omittedFiles: 0 };
  const keep = Math.max(1, maxLines - 1);
  const rest = d.lines.slice(keep);
  let seen = 0;
  let omittedFiles = 0;
  for (const f of d.files) {
    if (seen >= keep) omittedFiles++;
    seen += f.lines.length;
  }
  const omittedAdded = rest.filter((l) => l.kind === 'add').length;
  const omittedRemoved = rest.filter((l) => l.kind === 'del').length;
  const files = omittedFiles > 0 ? `, ${omittedFiles} more file${omittedFiles === 1 ? '' : 's'}` : '';
  const note: DiffLine = { kind: 'note', text: `… ${rest.length} more line${rest.length === 1 ? '' : 's'} not shown (+${omittedAdded} -${omittedRemoved}${files})` };
  return { lines: [...d.lines.slice(0, keep), note], omitted: rest.length, omittedAdded, omittedRemoved, omittedFiles };
}
