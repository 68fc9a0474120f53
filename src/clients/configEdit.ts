/**
 * Putting warden's entries into a client's config file and taking exactly those out again, as text
 * in, text out. A JSON file is parsed, edited at named places (a key, a hook group, an array
 * member) and written back with the rest of the object as it was (key order kept; formatting is
 * JSON.stringify's). A TOML file is never re-serialised, since that would drop the user's comments:
 * warden's tables go in one marked block at the end, and the whole result is parsed to prove it is
 * still valid TOML. A file that does not parse is refused, never overwritten. Pure.
 */
import { parse as parseToml } from 'smol-toml';
import { WardenError } from '../errors.ts';

/** A config file warden will not touch (it does not parse, or holds something in warden's place). */
export class ConfigRefusedError extends WardenError {
  constructor(message: string) {
    super('CONFIG_REFUSED', message);
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file's object; no file (or an empty one) is an empty object. */
export function parseJsonConfig(text: string | null, path: string): JsonObject {
  if (text === null || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // JSON with comments (VS Code's JSONC, hand-edited settings) is refused, not rewritten without them.
    throw new ConfigRefusedError(`${path} is not plain JSON (${(error as Error).message}); warden did not change it`);
  }
  if (!isObject(value)) throw new ConfigRefusedError(`${path} does not hold a JSON object; warden did not change it`);
  return value;
}

export function renderJson(doc: JsonObject): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The object at `path`, created on the way when `create`; null when a step is missing or not an object. */
function objectAt(doc: JsonObject, path: readonly string[], create: boolean, file: string): JsonObject | null {
  let here: JsonObject = doc;
  for (const key of path) {
    const next = here[key];
    if (next === undefined && create) {
      const made: JsonObject = {};
      here[key] = made;
      here = made;
    } else if (isObject(next)) {
      here = next;
    } else if (next === undefined) {
      return null;
    } else {
      throw new ConfigRefusedError(`${file}: "${path.join('.')}" is not an object; warden did not change it`);
    }
  }
  return here;
}

/** Deletes the objects along `path` (deepest first) that an edit left empty. */
function pruneEmpty(doc: JsonObject, path: readonly string[]): void {
  for (let depth = path.length; depth > 0; depth--) {
    const parent = objectAt(doc, path.slice(0, depth - 1), false, '')!;
    const key = path[depth - 1]!;
    const value = parent[key];
    const empty = (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
    if (!empty) return;
    delete parent[key];
  }
}

/** One place in a JSON config that warden owns. */
export type JsonEdit =
  /** `path` ends in warden's own key (e.g. mcpServers.warden): set to `value`, removed whole. */
  | { kind: 'key'; path: readonly string[]; value: Json }
  /** A hook group appended to the array at `path` (hooks.PreToolUse); warden's earlier groups are replaced. */
  | { kind: 'hookGroup'; path: readonly string[]; group: JsonObject }
  /** A string in the array at `path` (enabledMcpjsonServers: ["warden"]). */
  | { kind: 'member'; path: readonly string[]; value: string };

/**
 * A hook entry is warden's when its command runs `warden … hook <client>`: recognised by its
 * shape, not by an exact string, so `--remove` finds entries an earlier `init` (another store,
 * another install path) wrote.
 */
export function isWardenHook(hook: unknown): boolean {
  if (!isObject(hook) || typeof hook.command !== 'string') return false;
  return /warden/.test(hook.command) && /\shook\s+(claude-code|codex|gemini)(\s|$)/.test(hook.command);
}

/** The hook groups with warden's entries taken out; a group left with no entries is dropped. */
function withoutWardenHooks(groups: Json[]): Json[] {
  const kept: Json[] = [];
  for (const group of groups) {
    if (!isObject(group) || !Array.isArray(group.hooks)) {
      kept.push(group);
      continue;
    }
    const hooks = group.hooks.filter((h) => !isWardenHook(h));
    if (hooks.length === group.hooks.length) kept.push(group);
    else if (hooks.length > 0) kept.push({ ...group, hooks });
  }
  return kept;
}

function arrayAt(doc: JsonObject, path: readonly string[], create: boolean, file: string): Json[] | null {
  const parent = objectAt(doc, path.slice(0, -1), create, file);
  if (!parent) return null;
  const key = path.at(-1)!;
  const value = parent[key];
  if (value === undefined) {
    if (!create) return null;
    parent[key] = [];
    return parent[key] as Json[];
  }
  if (!Array.isArray(value)) throw new ConfigRefusedError(`${file}: "${path.join('.')}" is not an array; warden did not change it`);
  return value;
}

/** Applies warden's edits (`add`) or takes warden's entries out (`remove`) of a parsed config. */
export function editJson(doc: JsonObject, edits: readonly JsonEdit[], mode: 'add' | 'remove', file: string): JsonObject {
  const out = structuredClone(doc);
  for (const edit of edits) {
    const parentPath = edit.path.slice(0, -1);
    const key = edit.path.at(-1)!;
    if (edit.kind === 'key') {
      if (mode === 'add') objectAt(out, parentPath, true, file)![key] = structuredClone(edit.value);
      else {
        const parent = objectAt(out, parentPath, false, file);
        if (parent && key in parent) {
          delete parent[key];
          pruneEmpty(out, parentPath);
        }
      }
    } else if (edit.kind === 'hookGroup') {
      const groups = arrayAt(out, edit.path, mode === 'add', file);
      if (!groups) continue;
      const kept = withoutWardenHooks(groups);
      if (mode === 'add') kept.push(structuredClone(edit.group));
      groups.splice(0, groups.length, ...kept);
      if (mode === 'remove') pruneEmpty(out, edit.path);
    } else {
      const list = arrayAt(out, edit.path, mode === 'add', file);
      if (!list) continue;
      const kept = list.filter((v) => v !== edit.value);
      if (mode === 'add') kept.push(edit.value);
      list.splice(0, list.length, ...kept);
      if (mode === 'remove') pruneEmpty(out, edit.path);
    }
  }
  return out;
}

export const TOML_BEGIN = '# >>> warden: added by `warden init`; `warden init --remove` takes this block out';
export const TOML_END = '# <<< warden';

/** The text without warden's block (and the blank line before it). Refuses a block that is not closed. */
export function withoutTomlBlock(text: string, file: string): string {
  const begin = text.indexOf(TOML_BEGIN);
  if (begin < 0) return text;
  const end = text.indexOf(TOML_END, begin);
  if (end < 0) throw new ConfigRefusedError(`${file}: warden's block has no end marker (${TOML_END}); warden did not change it`);
  let after = end + TOML_END.length;
  if (text[after] === '\n') after += 1;
  const before = text.slice(0, begin).replace(/\n\n$/, '\n');
  return before + text.slice(after);
}

function parseTomlOrRefuse(text: string, file: string, what: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigRefusedError(`${file} ${what} (${(error as Error).message.split('\n')[0]}); warden did not change it`);
  }
}

/** The file's TOML as data (no file: empty). Refuses TOML that does not parse. */
export function parseTomlConfig(text: string | null, file: string): Record<string, unknown> {
  return parseTomlOrRefuse(text ?? '', file, 'is not valid TOML');
}

/**
 * The TOML text with warden's block (`block`, TOML text) at the end, replacing an earlier one.
 * `owned` lists the dotted table names the block defines: one already defined outside the block
 * is the user's, and warden refuses rather than shadow or duplicate it.
 */
export function withTomlBlock(text: string | null, block: string, owned: readonly string[], file: string): string {
  const rest = withoutTomlBlock(text ?? '', file);
  const parsed = parseTomlOrRefuse(rest, file, 'is not valid TOML');
  for (const name of owned) {
    let here: unknown = parsed;
    for (const part of name.split('.')) here = isObject(here) ? (here as Record<string, unknown>)[part] : undefined;
    if (here !== undefined) throw new ConfigRefusedError(`${file} already defines [${name}] outside warden's block; warden did not change it`);
  }
  const body = rest === '' || rest.endsWith('\n\n') ? rest : rest.endsWith('\n') ? `${rest}\n` : `${rest}\n\n`;
  const next = `${body}${TOML_BEGIN}\n${block.trimEnd()}\n${TOML_END}\n`;
  parseTomlOrRefuse(next, file, 'would not be valid TOML with warden\'s block');
  return next;
}
