/**
 * The MCP tools' `workdir`: under workspace-write the directory a command runs in is writable, so
 * the agent may not pick one outside the directory warden serves and the person's writable roots
 * (redteam: `workdir: ~/.cargo/bin` made it writable for a command run without asking).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellTool } from '../../src/mcp/shellTool.ts';
import { applyPatchTool } from '../../src/mcp/applyPatchTool.ts';
import type { ToolCallContext } from '../../src/mcp/tool.ts';
import type { RequestPolicy } from '../../src/events/types.ts';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-workdir-')));
const project = join(base, 'project');
const root = join(base, 'cache');
const outside = join(base, 'home', '.cargo', 'bin');
for (const d of [join(project, 'sub'), root, outside]) mkdirSync(d, { recursive: true });
process.on('exit', () => rmSync(base, { recursive: true, force: true }));

const ctx = (sandbox: RequestPolicy['sandbox']): ToolCallContext => ({
  policy: { approval: 'on-request', sandbox, writableRoots: [root], network: false, tmpWrite: true },
  defaultCwd: project,
  origin: { surface: 'mcp', pid: process.pid, host: 'test' },
});
const cwdOf = (r: ReturnType<typeof shellTool.toRequest>) => ('refused' in r ? null : r.cwd);

test('workspace-write: a workdir outside the project and the writable roots is refused, nothing runs', () => {
  for (const workdir of [outside, base, '..', '/']) {
    const r = shellTool.toRequest({ command: ['touch', 'cargo'], workdir }, ctx('workspace-write'));
    assert.ok('refused' in r, workdir);
    assert.match(r.refused, /outside the directory warden serves/);
    const p = applyPatchTool.toRequest({ patch: '*** Begin Patch\n*** Add File: cargo\n+x\n*** End Patch', workdir }, ctx('workspace-write'));
    assert.ok('refused' in p, `apply_patch ${workdir}`);
  }
});

test('workspace-write: the project, a directory in it and a writable root are fine', () => {
  assert.equal(cwdOf(shellTool.toRequest({ command: ['ls'] }, ctx('workspace-write'))), project);
  assert.equal(cwdOf(shellTool.toRequest({ command: ['ls'], workdir: 'sub' }, ctx('workspace-write'))), join(project, 'sub'));
  assert.equal(cwdOf(shellTool.toRequest({ command: ['ls'], workdir: join(project, 'sub') }, ctx('workspace-write'))), join(project, 'sub'));
  assert.equal(cwdOf(shellTool.toRequest({ command: ['ls'], workdir: root }, ctx('workspace-write'))), root);
});

test('read-only and danger-full-access: the run directory grants nothing, any existing workdir is taken', () => {
  assert.equal(cwdOf(shellTool.toRequest({ command: ['ls'], workdir: outside }, ctx('read-only'))), outside);
  assert.equal(cwdOf(shellTool.toRequest({ command: ['ls'], workdir: outside }, ctx('danger-full-access'))), outside);
});
