/**
 * A client's file edit (Claude Code's Write/Edit/MultiEdit, Gemini CLI's write_file/replace)
 * written as an apply_patch patch, so the same patch safety that judges warden's own apply_patch
 * judges it (which paths, add or update, inside the writable roots or not) and the record shows
 * what changed. The patch only describes the edit: the client applies it. Pure.
 */

export type FileEdit =
  /** The whole file's new content; `current` is what is there now (null: the file does not exist). */
  | { kind: 'write'; path: string; content: string; current: string | null }
  /** Each `old` text replaced by `new` in order. */
  | { kind: 'replace'; path: string; edits: Array<{ old: string; new: string }> };

/** One text replacement as a client applies it: the first occurrence, or every one (`all`). */
export interface TextEdit {
  old: string;
  new: string;
  all: boolean;
}

/**
 * The edit to judge for replacements that may each replace every occurrence (Claude Code's
 * `replace_all`, Gemini's `allow_multiple`). A replace-all chunk would show one occurrence where the
 * client changes many, so the person would approve less than runs: such edits become the whole
 * file's new content, worked out from what is there now. Throws when the file cannot be read
 * (the hook blocks). I/O only through `readCurrent`.
 */
export function replacementEdit(path: string, edits: TextEdit[], readCurrent: (path: string) => string | null): FileEdit {
  if (!edits.some((e) => e.all)) return { kind: 'replace', path, edits: edits.map((e) => ({ old: e.old, new: e.new })) };
  const current = readCurrent(path);
  if (current === null) throw new Error(`cannot read ${path} to show what replacing every occurrence changes`);
  let content = current;
  for (const e of edits) content = e.all ? content.split(e.old).join(e.new) : content.replace(e.old, () => e.new);
  return { kind: 'write', path, content, current };
}

function lines(text: string): string[] {
  if (text === '') return [];
  const split = text.replace(/\r\n/g, '\n').split('\n');
  if (split.at(-1) === '') split.pop();
  return split;
}

function chunk(oldText: string, newText: string): string[] {
  return ['@@', ...lines(oldText).map((l) => `-${l}`), ...lines(newText).map((l) => `+${l}`)];
}

/** The apply_patch envelope for one edit; the path is kept absolute (the patch safety resolves it). */
export function editAsPatch(edit: FileEdit): string {
  const body: string[] = [];
  if (edit.kind === 'write') {
    if (edit.current === null) body.push(`*** Add File: ${edit.path}`, ...lines(edit.content).map((l) => `+${l}`));
    else body.push(`*** Update File: ${edit.path}`, ...chunk(edit.current, edit.content));
  } else {
    body.push(`*** Update File: ${edit.path}`);
    for (const e of edit.edits) body.push(...chunk(e.old, e.new));
  }
  return ['*** Begin Patch', ...body, '*** End Patch', ''].join('\n');
}
