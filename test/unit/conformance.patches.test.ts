/**
 * Every patch vector taken from the Codex CLI's test suite (../shared/conformance/patches.jsonl)
 * must classify as it expects. The vectors assume a platform sandbox exists, hence 'bwrap'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyPatch } from '../../src/safety/patch/classifyPatch.ts';
import { ApprovalPolicySchema, SandboxModeSchema } from '../../src/policy.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const conformanceDir = path.resolve(repoRoot, '..', 'shared', 'conformance');
const file = path.join(conformanceDir, 'patches.jsonl');

interface PatchVector {
  id: string;
  patch: string;
  cwd: string;
  writable_roots: string[];
  expect: 'auto-approve' | 'ask' | 'reject';
  policy: string;
  sandbox: string;
  note?: string;
}

test('the conformance folder is present', () => {
  assert.ok(existsSync(file), `missing ${file}: the conformance vectors must sit in ../shared/conformance`);
});

const vectors: PatchVector[] = existsSync(file)
  ? readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as PatchVector)
  : [];

test('there are patch vectors to check', () => {
  assert.ok(vectors.length >= 40, `only ${vectors.length} vectors found`);
});

for (const v of vectors) {
  test(`${v.id}: ${v.policy}/${v.sandbox} → ${v.expect}`, () => {
    const c = classifyPatch({
      patch: v.patch,
      cwd: v.cwd,
      policy: {
        approval: ApprovalPolicySchema.parse(v.policy),
        sandbox: SandboxModeSchema.parse(v.sandbox),
        writableRoots: v.writable_roots,
        network: false,
        // The vectors list /tmp explicitly where they want it.
        tmpWrite: false,
      },
      platformSandbox: 'bwrap',
      approvedForSession: false,
    });
    assert.equal(c.outcome, v.expect, `${v.note ?? ''}\nreason: ${c.reason}`);
    if (c.outcome === 'auto-approve') {
      assert.equal(c.sandbox, v.sandbox === 'danger-full-access' ? 'none' : 'bwrap');
    }
    if (v.note?.includes('empty patch')) assert.equal(c.reason, 'empty patch');
  });
}
