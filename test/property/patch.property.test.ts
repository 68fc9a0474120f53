/** Laws of patch parsing and patch safety, checked on generated input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { classifyPatch } from '../../src/safety/patch/classifyPatch.ts';
import { parsePatch, PatchParseError } from '../../src/safety/patch/parsePatch.ts';
import { APPROVAL_POLICIES, SANDBOX_MODES, SANDBOX_TYPES } from '../../src/policy.ts';

const CWD = '/nonexistent-warden-prop/work/project';
const OUTCOMES = new Set(['auto-approve', 'ask', 'reject']);

test('classifyPatch never throws and always returns a verdict, whatever the strings', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(fc.string(), { maxLength: 8 }).map((ls) => ['*** Begin Patch', ...ls, '*** End Patch'].join('\n'))),
      fc.oneof(fc.constant(CWD), fc.string()),
      fc.constantFrom(...APPROVAL_POLICIES),
      fc.constantFrom(...SANDBOX_MODES),
      fc.constantFrom(...SANDBOX_TYPES),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.boolean(),
      (patch, cwd, approval, sandbox, platformSandbox, writableRoots, approvedForSession) => {
        const v = classifyPatch({
          patch,
          cwd,
          policy: { approval, sandbox, writableRoots, network: false, tmpWrite: false },
          platformSandbox,
          approvedForSession,
        });
        assert.ok(OUTCOMES.has(v.outcome));
        assert.equal(typeof v.reason, 'string');
        assert.ok(v.reason.length > 0);
      },
    ),
    { numRuns: 2000 },
  );
});

test('parsePatch throws nothing but PatchParseError', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.string(),
          fc.constantFrom('*** Begin Patch', '*** End Patch', '*** Add File: a', '*** Update File: b', '*** Delete File: c', '*** Move to: d', '@@', '@@ ctx', '*** End of File', '+x', '-y', ' z', '', '\r', '\0'),
        ),
        { maxLength: 20 },
      ),
      (lines) => {
        try {
          parsePatch(lines.join('\n'));
        } catch (error) {
          assert.ok(error instanceof PatchParseError, String(error));
          assert.ok(error.line >= 0);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constant('..') },
  { weight: 1, arbitrary: fc.constant('.') },
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/) },
);

test('a path whose .. segments escape cwd is never auto-approved under workspace-write with on-request', () => {
  fc.assert(
    fc.property(
      fc.array(segment, { minLength: 1, maxLength: 10 }),
      fc.constantFrom('add', 'delete', 'update', 'move'),
      fc.boolean(),
      (segments, kind, goodFirst) => {
        const rel = segments.join('/');
        const abs = path.resolve(CWD, rel);
        fc.pre(!(abs === CWD || abs.startsWith(`${CWD}/`)));
        const hunk =
          kind === 'add'
            ? [`*** Add File: ${rel}`, '+x']
            : kind === 'delete'
              ? [`*** Delete File: ${rel}`]
              : kind === 'update'
                ? [`*** Update File: ${rel}`, '@@', '-a', '+b']
                : ['*** Update File: inside.txt', `*** Move to: ${rel}`, '@@', '-a', '+b'];
        const body = goodFirst ? ['*** Add File: ok.txt', '+fine', ...hunk] : hunk;
        const v = classifyPatch({
          patch: ['*** Begin Patch', ...body, '*** End Patch'].join('\n'),
          cwd: CWD,
          policy: { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: false },
          platformSandbox: 'bwrap',
          approvedForSession: false,
        });
        assert.notEqual(v.outcome, 'auto-approve', `${rel} → ${abs}: ${v.reason}`);
      },
    ),
    { numRuns: 2000 },
  );
});

test('Add File contents round-trip through the parser', () => {
  fc.assert(
    fc.property(fc.array(fc.string().filter((s) => !/[\r\n]/.test(s)), { maxLength: 20 }), (lines) => {
      const p = parsePatch(['*** Begin Patch', '*** Add File: f', ...lines.map((l) => `+${l}`), '*** End Patch'].join('\n'));
      assert.equal(p.hunks.length, 1);
      const h = p.hunks[0]!;
      assert.ok(h.kind === 'add');
      assert.equal(h.contents, lines.map((l) => `${l}\n`).join(''));
    }),
    { numRuns: 1000 },
  );
});

test('classification is deterministic', () => {
  fc.assert(
    fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.constantFrom(...APPROVAL_POLICIES), (segments, approval) => {
      const input = {
        patch: `*** Begin Patch\n*** Add File: ${segments.join('/')}\n+x\n*** End Patch`,
        cwd: CWD,
        policy: { approval, sandbox: 'workspace-write' as const, writableRoots: [], network: false, tmpWrite: false },
        platformSandbox: 'bwrap' as const,
        approvedForSession: false,
      };
      assert.deepEqual(classifyPatch(input), classifyPatch(input));
    }),
    { numRuns: 500 },
  );
});
