/**
 * The argv that runs the patch applier (stdin: the patch; cwd: where to apply). The executor spawns
 * exactly this, inside the sandbox, so tests and production apply patches the same way. Pure.
 *
 * The applier is always the compiled dist/safety/patch/applyPatchMain.js started with plain `node`:
 * a transpiler in the sandbox cost a second start of tsx per patch (2.2 s for a one-file add, issue
 * #14). The package root is the nearest folder above this file that holds package.json: this code
 * runs from src/safety/patch (a test), dist/safety/patch (one file per module) or dist/cli (inlined
 * into a command's bundle, scripts/build.mjs), so no fixed depth fits all three.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

const ROOT = packageRoot(path.dirname(fileURLToPath(import.meta.url)));
export const APPLIER = path.join(ROOT, 'dist', 'safety', 'patch', 'applyPatchMain.js');

/** `[node, '/…/dist/safety/patch/applyPatchMain.js']`. Pure. */
export function applyPatchCommand(): string[] {
  return [process.execPath, APPLIER];
}
