/**
 * The argv that runs applyPatchMain.ts (stdin: the patch; cwd: where to apply). The executor spawns
 * exactly this, inside the sandbox, so tests and production apply patches the same way. Pure.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'applyPatchMain.ts');
// `--import tsx` would resolve the package from the child's cwd (the user's project, which has
// no tsx): name warden's own copy by absolute URL instead. tsx copes with a read-only /tmp.
const TSX_LOADER = import.meta.resolve('tsx');

/** `[node, '--import', 'file:///…/tsx/dist/loader.mjs', '/…/applyPatchMain.ts']`. Pure. */
export function applyPatchCommand(): string[] {
  return [process.execPath, '--import', TSX_LOADER, MAIN];
}
