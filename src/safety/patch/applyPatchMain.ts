/**
 * The process that applies a patch: reads the patch on stdin, applies it in its working directory,
 * prints what changed for the agent and the person (`Success. Updated the following files:` then
 * `A path (+1 -0)` lines, as Codex's apply_patch answers) and exits 0; on any failure prints one
 * clear line on stderr and exits 1. Its stdout becomes the tool result as is, so it carries no
 * internal protocol (issue #14: the result used to be this process's JSON). The executor runs it inside the OS sandbox (argv from
 * `applyPatchCommand()`), so the sandbox, not this code, is what confines the writes.
 */
import { applyPatch } from './applyPatch.ts';
import { MAX_PATCH_BYTES } from './parsePatch.ts';
import { messageOf } from '../../errors.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PATCH_BYTES) throw new Error(`patch is larger than ${MAX_PATCH_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

try {
  const report = await applyPatch(await readStdin(), process.cwd());
  process.stdout.write(`Success. Updated the following files:\n${report.summary}\n`);
  process.exitCode = 0;
} catch (error) {
  const message = messageOf(error);
  process.stderr.write(`apply_patch: ${message}\n`);
  process.exitCode = 1;
}
