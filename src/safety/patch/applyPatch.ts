/**
 * Applies an apply_patch envelope to the files under a directory, all or nothing as far as a
 * file system allows. Does I/O. Its calls are made inside the OS sandbox (see applyPatchCommand.ts),
 * which is what confines the writes; this module's job is to not corrupt anything.
 *
 * Stricter than the reference, which writes file by file and leaves earlier files changed when a
 * later hunk fails:
 * 1. every hunk is checked against the current contents and every new content computed first;
 * 2. every new file is written to a temp file in its own directory and fsynced;
 * 3. only then are the temp files renamed over their targets and deletions made. A failure in 2
 *    leaves nothing changed; a failure in 3 restores what was already replaced from memory.
 * Renaming also means a write never goes through a symlink or a hard link at the target: the
 * link itself is replaced, its target is never touched.
 *
 * Every file-system call goes through a PatchFs (patchFs.ts): node's own by default, the native
 * helper inside the sandbox when warden applies an agent's patch (remotePatchFs.ts).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { WardenError } from '../../errors.ts';
import { parsePatch, type ParsedPatch, type UpdateFileChunk } from './parsePatch.ts';
import { seekSequence } from './seekSequence.ts';
import { nodePatchFs, type PatchFs } from './patchFs.ts';

export interface AppliedFile {
  kind: 'add' | 'delete' | 'update';
  /** Absolute. */
  path: string;
  /** Absolute destination of an update with `*** Move to:`. */
  moveTo?: string;
  added: number;
  removed: number;
}

export interface ApplyReport {
  files: AppliedFile[];
  /** `A path`, `D path`, `M path` lines as `git status --short` would, for a person. */
  summary: string;
}

/** The patch cannot be applied to the files as they are (missing file, context not found ...). Nothing was written. */
export class PatchApplyError extends WardenError {
  constructor(
    message: string,
    readonly file: string | null,
    options?: { cause?: unknown },
  ) {
    super('PATCH_APPLY', message, options);
  }
}
export const isPatchApplyError = (e: unknown): e is PatchApplyError => e instanceof PatchApplyError;

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Owner {
  uid: number;
  gid: number;
}

/** A path as it is before the patch: bytes (null = absent or unreadable link), mode, owner, link text. */
interface Original {
  bytes: Buffer | null;
  mode: number | null;
  owner: Owner | null;
  /** Set when the path is a symlink, so a rollback can put the link back. */
  linkTarget: string | null;
}

/** What the patch makes of a path: new text (null = deleted), and the mode and owner it keeps. */
interface Target {
  content: string | null;
  mode: number | null;
  owner: Owner | null;
}

const NONE: Pick<Target, 'mode' | 'owner'> = { mode: null, owner: null };
/** Temp names must stay under NAME_MAX (255) even for long file names. */
const tempName = (target: string, tag: string) =>
  path.join(path.dirname(target), `.${path.basename(target).slice(0, 100)}.warden-${tag}-${randomBytes(6).toString('hex')}.tmp`);

function countLines(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** New contents of a file after its chunks (the reference's replacement algorithm). Pure. */
export function applyChunks(original: string, chunks: readonly UpdateFileChunk[], displayPath: string): string {
  const lines = original.split('\n');
  // A final newline yields an empty last element; drop it so counts match `diff`.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const replacements: Array<{ start: number; oldLen: number; newLines: string[] }> = [];
  let index = 0;
  for (const chunk of chunks) {
    for (const ctx of chunk.contexts) {
      const at = seekSequence(lines, [ctx], index, false);
      if (at === null) throw new PatchApplyError(`failed to find context '${ctx}' in ${displayPath}`, displayPath);
      index = at + 1;
    }
    if (chunk.oldLines.length === 0) {
      // Pure addition: goes at the end of the file (before a final blank line, as the reference).
      const at = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
      replacements.push({ start: at, oldLen: 0, newLines: [...chunk.newLines] });
      continue;
    }
    let pattern = chunk.oldLines;
    let newLines = chunk.newLines;
    let found = seekSequence(lines, pattern, index, chunk.isEndOfFile);
    if (found === null && pattern[pattern.length - 1] === '') {
      // A trailing blank context line often stands for the file's final newline.
      pattern = pattern.slice(0, -1);
      if (newLines[newLines.length - 1] === '') newLines = newLines.slice(0, -1);
      found = seekSequence(lines, pattern, index, chunk.isEndOfFile);
    }
    if (found === null) {
      throw new PatchApplyError(
        `failed to find expected lines in ${displayPath}:\n${chunk.oldLines.join('\n')}`,
        displayPath,
      );
    }
    replacements.push({ start: found, oldLen: pattern.length, newLines: [...newLines] });
    index = found + pattern.length;
  }
  replacements.sort((a, b) => a.start - b.start);
  for (let i = 1; i < replacements.length; i++) {
    const prev = replacements[i - 1]!;
    // Two chunks claiming the same lines would make the result depend on order: refuse.
    if (replacements[i]!.start < prev.start + prev.oldLen) {
      throw new PatchApplyError(`chunks overlap in ${displayPath}`, displayPath);
    }
  }
  for (let i = replacements.length - 1; i >= 0; i--) {
    const r = replacements[i]!;
    lines.splice(r.start, r.oldLen, ...r.newLines);
  }
  if (lines.length === 0 || lines[lines.length - 1] !== '') lines.push('');
  return lines.join('\n');
}

/** Reads the pre-patch state of paths, once each, and remembers it for rollback. */
class Snapshot {
  readonly originals = new Map<string, Original>();
  /** Paths that are symlinks now (a dangling one still counts as existing for a delete). */
  readonly links = new Set<string>();

  constructor(private readonly fs: PatchFs) {}

  async get(abs: string, display: string): Promise<Original> {
    const known = this.originals.get(abs);
    if (known !== undefined) return known;
    let original: Original;
    try {
      const fs = this.fs;
      const st = await fs.lstat(abs);
      if (st.kind === 'directory') throw new PatchApplyError(`${display} is a directory`, display);
      if (st.kind === 'symlink') {
        // Read through the link (its text is what the patch was written against); the link
        // itself is what gets replaced or removed.
        let bytes: Buffer | null = null;
        try {
          if ((await fs.stat(abs)).kind === 'file') bytes = await fs.readFile(abs);
        } catch {
          bytes = null;
        }
        original = { bytes, mode: null, owner: null, linkTarget: await fs.readlink(abs) };
        // Remember that something exists here even when the link dangles.
        this.links.add(abs);
      } else if (st.kind !== 'file') {
        throw new PatchApplyError(`${display} is not a regular file`, display);
      } else {
        // setuid/setgid/sticky are not carried over: a rewritten file loses them, as with write(2).
        original = { bytes: await fs.readFile(abs), mode: st.mode & 0o777, owner: { uid: st.uid, gid: st.gid }, linkTarget: null };
      }
    } catch (e) {
      if (e instanceof PatchApplyError) throw e;
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') original = { bytes: null, mode: null, owner: null, linkTarget: null };
      else throw new PatchApplyError(`cannot read ${display}: ${(e as Error).message}`, display, { cause: e });
    }
    this.originals.set(abs, original);
    return original;
  }
}

export interface ApplyOptions {
  /**
   * Called after every new content is staged and before the first rename. Tests use it to
   * simulate a concurrent change to the tree (the race phase 3's rollback exists for).
   */
  beforeCommit?: () => Promise<void> | void;
  /** Where the file-system calls go (default: this process's own). */
  fs?: PatchFs;
}

/** Applies `patch` under `cwd` (relative paths resolve against it). Does I/O; all or nothing. */
export async function applyPatch(patch: string | ParsedPatch, cwd: string, options: ApplyOptions = {}): Promise<ApplyReport> {
  const parsed = typeof patch === 'string' ? parsePatch(patch) : patch;
  if (parsed.hunks.length === 0) throw new PatchApplyError('no files were modified: the patch is empty', null);
  const base = path.resolve(cwd);
  const fs = options.fs ?? nodePatchFs;

  // Phase 1: compute every final state from the current contents; nothing is written.
  const snapshot = new Snapshot(fs);
  const state = new Map<string, Target>();
  const files: AppliedFile[] = [];
  const current = async (abs: string, display: string): Promise<string | null> => {
    const pending = state.get(abs);
    if (pending !== undefined) return pending.content;
    const o = await snapshot.get(abs, display);
    if (o.bytes === null) return null; // absent, or a link to nothing readable
    try {
      return utf8.decode(o.bytes);
    } catch {
      throw new PatchApplyError(`${display} is not valid UTF-8 text`, display);
    }
  };

  for (const hunk of parsed.hunks) {
    const abs = path.resolve(base, hunk.path);
    if (hunk.kind === 'add') {
      const before = await current(abs, hunk.path); // also refuses a directory
      // Overwriting an existing file keeps its mode and owner (the reference writes in place).
      const prior = state.get(abs) ?? snapshot.originals.get(abs);
      state.set(abs, { content: hunk.contents, mode: prior?.mode ?? null, owner: prior?.owner ?? null });
      files.push({ kind: 'add', path: abs, added: countLines(hunk.contents), removed: before === null ? 0 : countLines(before) });
    } else if (hunk.kind === 'delete') {
      const before = await current(abs, hunk.path);
      // A dangling symlink can be deleted (the link goes); an absent path cannot.
      const exists = before !== null || (!state.has(abs) && snapshot.links.has(abs));
      if (!exists) throw new PatchApplyError(`cannot delete ${hunk.path}: no such file`, hunk.path);
      state.set(abs, { content: null, ...NONE });
      files.push({ kind: 'delete', path: abs, added: 0, removed: before === null ? 0 : countLines(before) });
    } else {
      const before = await current(abs, hunk.path);
      if (before === null) throw new PatchApplyError(`cannot update ${hunk.path}: no such file`, hunk.path);
      const after = applyChunks(before, hunk.chunks, hunk.path);
      // An update keeps the file's mode and owner (also across a move); earlier hunks' state wins.
      const prior = state.get(abs) ?? snapshot.originals.get(abs);
      const keep = { mode: prior?.mode ?? null, owner: prior?.owner ?? null };
      const entry: AppliedFile = {
        kind: 'update',
        path: abs,
        added: hunk.chunks.reduce((n, c) => n + c.added, 0),
        removed: hunk.chunks.reduce((n, c) => n + c.removed, 0),
      };
      if (hunk.moveTo !== undefined) {
        const dest = path.resolve(base, hunk.moveTo);
        entry.moveTo = dest;
        if (dest !== abs) {
          await current(dest, hunk.moveTo); // snapshot it (rollback) and refuse a directory
          state.set(abs, { content: null, ...NONE });
        }
        state.set(dest, { content: after, ...keep });
      } else {
        state.set(abs, { content: after, ...keep });
      }
      files.push(entry);
    }
  }

  // Phase 2: write every new content beside its target; a failure here changes nothing visible.
  const staged: Array<{ target: string; temp: string }> = [];
  const createdDirs: string[] = [];
  try {
    for (const [target, t] of state) {
      if (t.content === null) continue;
      const dir = path.dirname(target);
      const made = await fs.mkdirp(dir);
      if (made !== undefined) createdDirs.push(made);
      const temp = tempName(target, 'new');
      // Staged before the write: a write that fails half-way still leaves a temp file to remove.
      staged.push({ target, temp });
      // Never through something planted at the temp name; renaming a new file in would hand
      // another user's file to root, so the owner is kept (patchFs.ts).
      await fs.writeNew(temp, t.content, t.mode, t.owner);
    }
  } catch (e) {
    await Promise.all(staged.map((s) => fs.unlink(s.temp).catch(() => {})));
    for (const d of createdDirs.reverse()) await removeEmptyDirs(fs, d);
    throw new PatchApplyError(`cannot write the patched files: ${(e as Error).message}`, null, { cause: e });
  }

  // Phase 3: commit. Renames replace targets atomically; deletions last so a move never loses data.
  const done: string[] = [];
  try {
    await options.beforeCommit?.();
    for (const s of staged) {
      await fs.rename(s.temp, s.target);
      done.push(s.target);
    }
    for (const [target, t] of state) {
      if (t.content !== null) continue;
      await fs.unlink(target);
      done.push(target);
    }
  } catch (e) {
    await Promise.all(staged.filter((s) => !done.includes(s.target)).map((s) => fs.unlink(s.temp).catch(() => {})));
    const failedRestores = await restore(fs, done, snapshot);
    const note = failedRestores.length === 0 ? 'earlier changes were rolled back' : `could not restore: ${failedRestores.join(', ')}`;
    throw new PatchApplyError(`applying the patch failed (${note}): ${(e as Error).message}`, null, { cause: e });
  }
  await syncDirs(fs, [...state.keys()].map((p) => path.dirname(p)));

  return { files, summary: summarize(files, base) };
}

/** Best effort: put back what phase 3 already changed. Returns the paths it could not restore. */
async function restore(fs: PatchFs, done: string[], snapshot: Snapshot): Promise<string[]> {
  const failed: string[] = [];
  for (const target of done.reverse()) {
    const o = snapshot.originals.get(target);
    try {
      if (o !== undefined && o.linkTarget !== null) {
        const temp = tempName(target, 'restore');
        await fs.symlink(o.linkTarget, temp);
        await fs.rename(temp, target);
      } else if (o === undefined || o.bytes === null) {
        await fs.unlink(target).catch((e: unknown) => {
          if (errno(e) !== 'ENOENT') throw e;
        });
      } else {
        const temp = tempName(target, 'restore');
        await fs.writeNew(temp, o.bytes, o.mode, o.owner);
        await fs.rename(temp, target);
      }
    } catch {
      failed.push(target);
    }
  }
  return failed;
}

/** Removes `dir` and its now-empty children that phase 2 created (mkdir -p returns the topmost). */
async function removeEmptyDirs(fs: PatchFs, top: string): Promise<void> {
  // Only the chain mkdir created is ours; rmdir refuses a non-empty directory, so nothing else goes.
  const walk = async (dir: string): Promise<void> => {
    let entries: string[] = [];
    try {
      entries = await fs.readdir(dir);
    } catch {
      return;
    }
    for (const name of entries) await walk(path.join(dir, name));
    await fs.rmdir(dir).catch(() => {});
  };
  await walk(top);
}

/** fsync the directories so the renames survive a crash; failures only cost durability. */
async function syncDirs(fs: PatchFs, dirs: string[]): Promise<void> {
  for (const dir of new Set(dirs)) {
    try {
      await fs.syncDir(dir);
    } catch {
      // a directory that cannot be opened for sync (some file systems) is still written
    }
  }
}

function summarize(files: AppliedFile[], base: string): string {
  const rel = (p: string) => {
    const r = path.relative(base, p);
    return r === '' || r.startsWith('..') ? p : r;
  };
  return files
    .map((f) => {
      const tag = f.kind === 'add' ? 'A' : f.kind === 'delete' ? 'D' : 'M';
      const name = f.moveTo !== undefined ? `${rel(f.path)} -> ${rel(f.moveTo)}` : rel(f.path);
      return `${tag} ${name} (+${f.added} -${f.removed})`;
    })
    .join('\n');
}
