/**
 * Aliases of protected names (issue #13): the spellings that are `.git` / `.warden` / a persistence
 * name on some file system (case-insensitive volumes, HFS+ ignorable code points, NTFS trailing dots,
 * spaces and streams, 8.3 short names), and look-alikes that are not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { protectedNameOf } from '../../src/sandbox/writableRoots.ts';

const ALIASES: Array<[string, string]> = [
  ['.git', '.git'],
  ['.GIT', '.git'],
  ['.Git', '.git'],
  ['.g\u200cit', '.git'],
  ['.git\ufeff', '.git'],
  ['\u200e.git', '.git'],
  ['.gi\u206ft', '.git'],
  ['.git.', '.git'],
  ['.git...', '.git'],
  ['.git ', '.git'],
  ['.git. .', '.git'],
  ['GIT~1', '.git'],
  ['git~12', '.git'],
  ['.git::$INDEX_ALLOCATION', '.git'],
  ['.git:stream:$DATA', '.git'],
  ['.warden', '.warden'],
  ['.WARDEN.', '.warden'],
  ['WARDEN~1', '.warden'],
  ['.w\u200darden', '.warden'],
  ['.bashrc', '.bashrc'],
  ['.BASHRC', '.bashrc'],
  ['.vscode', '.vscode'],
  ['VSCODE~1', '.vscode'],
  ['.mcp.json', '.mcp.json'],
  ['.claude', '.claude'],
];

const NOT: string[] = ['.gitignore', '.github', 'git', '.gitx', 'GIT~', 'GIT~A', 'x.git', '.wardenrc', 'src', '.', '', 'README.md', '.bashrc.bak'];

for (const [name, want] of ALIASES) {
  test(`alias ${JSON.stringify(name)} is ${want}`, () => assert.equal(protectedNameOf(name), want));
}
for (const name of NOT) {
  test(`${JSON.stringify(name)} is not protected`, () => assert.equal(protectedNameOf(name), null));
}
