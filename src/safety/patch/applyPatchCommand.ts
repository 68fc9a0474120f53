/**
 * How warden applies a patch inside the sandbox: the executor spawns `applyPatchCommand()` (the
 * native helper native/build/warden-apply) under the request's sandbox plan and talks with it
 * through `patchConversation`: applyPatch.ts runs here, in warden, and every file-system call it
 * makes is done by the helper in the sandbox (remotePatchFs.ts), so the sandbox, not this code,
 * confines what is read and written. The conversation's answer is what the agent and the person
 * read (`Success. Updated the following files:` then `A path (+1 -0)` lines, as Codex's
 * apply_patch answers, or one `apply_patch: ...` line and exit 1); the helper's protocol never is.
 *
 * Not node: node's own start in the sandbox was ~60 ms of the 30 ms an apply_patch call has
 * (issue #14); the helper starts in about a millisecond. Where it could not be built (no C
 * compiler) a patch fails closed, with the advice to build it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageOf } from '../../errors.ts';
import { applyPatch } from './applyPatch.ts';
import { remotePatchFs } from './remotePatchFs.ts';

/**
 * The package root is the nearest folder above this file that holds package.json: this code runs
 * from src/safety/patch (a test), dist/safety/patch (one file per module) or dist/cli (inlined into
 * a command's bundle, scripts/build.mjs), so no fixed depth fits all three.
 */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** Built by `npm run build` (scripts/build-native.mjs) from native/warden-apply.c. */
export const APPLIER = path.join(packageRoot(path.dirname(fileURLToPath(import.meta.url))), 'native', 'build', 'warden-apply');

/** `['/…/native/build/warden-apply']`. Pure. */
export function applyPatchCommand(): string[] {
  return [APPLIER];
}

export class PatchApplierMissingError extends Error {
  constructor() {
    super(`the patch applier ${APPLIER} is missing, so no patch can be applied; build it with \`npm run build\` (needs a C compiler: cc)`);
    this.name = 'PatchApplierMissingError';
  }
}

/** Throws PatchApplierMissingError when `argv` is warden's own applier and it was never built (I/O). */
export function requireApplier(argv: readonly string[]): void {
  if (argv[0] === APPLIER && !existsSync(APPLIER)) throw new PatchApplierMissingError();
}

/** What a patch's run reports: its output for the agent and its exit status. */
export interface PatchOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Applies `patch` under `cwd` through the helper whose stdin is `input` and stdout `output`; never
 * rejects (a failure is an outcome with exit 1). I/O through the helper.
 */
export function patchConversation(patch: string, cwd: string) {
  return async (io: { input: NodeJS.WritableStream; output: NodeJS.ReadableStream }): Promise<PatchOutcome> => {
    const fs = remotePatchFs(io.input, io.output);
    try {
      const report = await applyPatch(patch, cwd, { fs });
      return { stdout: `Success. Updated the following files:\n${report.summary}\n`, stderr: '', exitCode: 0 };
    } catch (error) {
      return { stdout: '', stderr: `apply_patch: ${messageOf(error)}\n`, exitCode: 1 };
    } finally {
      fs.close();
    }
  };
}
