/**
 * apply_patch support: parsing (parsePatch), safety (classifyPatch), and applying (applyPatch, whose
 * file-system calls the native helper of applyPatchCommand makes inside the sandbox). What it may
 * import: README.md here (checked by test/unit/architecture.test.ts).
 */
export { parsePatch, tryParsePatch, PatchParseError, isPatchParseError, MAX_PATCH_BYTES } from './parsePatch.ts';
export type { ParsedPatch, PatchHunk, AddFileHunk, DeleteFileHunk, UpdateFileHunk, UpdateFileChunk } from './parsePatch.ts';
export { classifyPatch, patchFiles } from './classifyPatch.ts';
export { applyPatch, PatchApplyError, isPatchApplyError } from './applyPatch.ts';
export type { ApplyReport, AppliedFile, ApplyOptions } from './applyPatch.ts';
export { applyPatchCommand, patchConversation, PatchApplierMissingError } from './applyPatchCommand.ts';
