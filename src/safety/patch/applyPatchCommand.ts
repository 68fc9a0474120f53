/**
 * The argv that runs the patch applier (stdin: the patch; cwd: where to apply). The executor spawns
 * exactly this, inside the sandbox, so tests and production apply patches the same way. Pure.
 *
 * The applier is always the compiled dist/safety/patch/applyPatchMain.js started with plain `node`:
 * a transpiler in the sandbox cost a second start of tsx per patch (2.2 s for a one-file add, issue
 * #14). This file sits three levels below the package root in src/ and in dist/ alike, so the path
 * is the same whether warden runs compiled or its source is imported by a test (which builds first).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const APPLIER = path.join(ROOT, 'dist', 'safety', 'patch', 'applyPatchMain.js');

/** `[node, '/…/dist/safety/patch/applyPatchMain.js']`. Pure. */
export function applyPatchCommand(): string[] {
  return [process.execPath, APPLIER];
}
