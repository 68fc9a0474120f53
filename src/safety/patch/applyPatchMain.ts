/**
 * The process that applies a patch: reads the patch on stdin, applies it in its working directory,
 * prints the ApplyReport as one JSON line on stdout and exits 0; on any failure prints one clear
 * line on stderr and exits 1. The executor runs it inside the OS sandbox (argv from
 * `applyPatchCommand()`), so the sandbox, not this code, is what confines the writes.
 */
import { applyPatch } from './applyPatch.ts';
import { MAX_PATCH_BYTES } from './parsePatch.ts';

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
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exitCode = 0;
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`apply_patch: ${message}\n`);
  process.exitCode = 1;
}
