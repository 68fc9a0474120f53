import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elicitationParams, parsedCommand, patchChanges, requestedSchema } from '../../src/mcp/elicitation.ts';
import type { DecideInput } from '../../src/machines/approval.machine.ts';
import type { Decision } from '../../src/policy.ts';

const policy = { approval: 'untrusted' as const, sandbox: 'workspace-write' as const, writableRoots: [], network: false, tmpWrite: true };
const origin = { surface: 'mcp', pid: 1, host: 'h' };

function execInput(command: string[], offered: Decision[], extra: Partial<DecideInput['request']> = {}): DecideInput {
  return {
    requestId: 'req-1',
    sessionId: 's',
    request: { kind: 'exec', command, cwd: '/w', withEscalatedPermissions: false, policy, origin, ...extra },
    classification: { outcome: 'ask', sandbox: 'bwrap', knownSafe: false, dangerous: true, commands: [command], reason: 'dangerous' },
    reason: 'dangerous',
    message: 'Allow the agent to run `rm -rf build` in /w? Asked because it looks dangerous.',
    offered,
    escalation: null,
  };
}

test('requestedSchema: decision is a required enum of exactly the offered decisions', () => {
  const offered: Decision[] = ['approved', 'approved_for_session', 'denied', 'abort'];
  const s = requestedSchema(offered);
  assert.deepEqual(s.properties.decision.enum, offered);
  assert.deepEqual(s.required, ['decision']);
  assert.deepEqual(Object.keys(s.properties), ['decision']);
  assert.equal(s.properties.decision.enumNames.length, offered.length);
});

test('exec elicitation carries the Codex metadata and a message a person can decide from', () => {
  const p = elicitationParams(execInput(['rm', '-rf', 'build dir'], ['approved', 'denied'], { justification: 'clean build' }), { mcpToolCallId: '7' });
  assert.equal(p.codex_elicitation, 'exec-approval');
  assert.equal(p.codex_mcp_tool_call_id, '7');
  assert.equal(p.codex_event_id, 'req-1');
  assert.equal(p.codex_call_id, 'req-1');
  assert.deepEqual(p.codex_command, ['rm', '-rf', 'build dir']);
  assert.equal(p.codex_cwd, '/w');
  assert.equal(p.codex_reason, 'clean build');
  assert.deepEqual(p.codex_parsed_cmd, [{ type: 'unknown', cmd: "rm -rf 'build dir'" }]);
  assert.match(String(p.message), /rm -rf 'build dir'/);
  assert.match(String(p.message), /Working directory: \/w/);
  assert.match(String(p.message), /DANGEROUS: `rm -rf 'build dir'` might destroy data or history/);
});

test('no justification: no codex_reason', () => {
  const p = elicitationParams(execInput(['ls'], ['approved']), { mcpToolCallId: '1' });
  assert.equal('codex_reason' in p, false);
});

test('patch elicitation carries codex_changes per file', () => {
  const patch = [
    '*** Begin Patch',
    '*** Add File: a.txt',
    '+hello',
    '*** Delete File: b.txt',
    '*** Update File: c.txt',
    '*** Move to: d.txt',
    '@@',
    ' keep',
    '-old',
    '+new',
    '*** End Patch',
  ].join('\n');
  const input = execInput([], ['approved', 'denied']);
  input.request = { kind: 'patch', patch, cwd: '/w', withEscalatedPermissions: false, policy, origin };
  input.classification = { ...input.classification, files: [{ path: '/w/a.txt', kind: 'add' }] };
  const p = elicitationParams(input, { mcpToolCallId: '2' });
  assert.equal(p.codex_elicitation, 'patch-approval');
  assert.equal('codex_command' in p, false);
  assert.deepEqual(p.codex_changes, {
    'a.txt': { type: 'add', content: 'hello\n' },
    'b.txt': { type: 'delete', content: '' },
    'c.txt': { type: 'update', unified_diff: '@@\n keep\n-old\n+new', move_path: 'd.txt' },
  });
  const message = String(p.message);
  assert.match(message, /^Apply these edits\?/);
  assert.match(message, /Files: add \/w\/a\.txt/);
  // the diff itself, in unified format with file headers; a move and a delete say so
  assert.match(message, /--- \/dev\/null\n\+\+\+ a\.txt\nnew file\n@@ -0,0 \+1,1 @@\n\+hello\n/);
  assert.match(message, /--- b\.txt\n\+\+\+ \/dev\/null\ndeleted file/);
  assert.match(message, /--- c\.txt\n\+\+\+ d\.txt\nrename from c\.txt\nrename to d\.txt\n@@\n keep\n-old\n\+new\n/);
  assert.match(message, /Changes: 3 files, \+2 -1/);
});

test('a long patch: the message carries as much of the diff as fits, then how much more there is', () => {
  const body = Array.from({ length: 500 }, (_, i) => `+line ${i}`);
  const input = execInput([], ['approved', 'denied']);
  input.request = { kind: 'patch', patch: ['*** Begin Patch', '*** Add File: big.txt', ...body, '*** End Patch'].join('\n'), cwd: '/w', withEscalatedPermissions: false, policy, origin };
  const message = String(elicitationParams(input, { mcpToolCallId: '3' }).message);
  assert.match(message, /\+line 0\n/);
  assert.doesNotMatch(message, /\+line 499/);
  const cut = /… (\d+) more lines not shown \(\+(\d+) -0\)/.exec(message);
  assert.ok(cut, message.slice(-300));
  const shown = message.split('\n').filter((l) => /^\+line \d+$/.test(l)).length;
  assert.equal(shown + Number(cut[2]), 500, 'shown plus counted as cut is every added line');
});

test('an unparsable patch has no changes to show', () => {
  assert.deepEqual(patchChanges('not a patch'), {});
});

const PARSED: Array<[string[], unknown]> = [
  [['cat', 'src/a.ts'], { type: 'read', cmd: 'cat src/a.ts', name: 'a.ts', path: 'src/a.ts' }],
  [['head', '-n', '5', 'x'], { type: 'unknown', cmd: 'head -n 5 x' }], // two operands: not sure which is the file
  [['ls', '-la'], { type: 'list_files', cmd: 'ls -la' }],
  [['ls', 'src'], { type: 'list_files', cmd: 'ls src', path: 'src' }],
  [['rg', 'TODO', 'src'], { type: 'search', cmd: 'rg TODO src', query: 'TODO', path: 'src' }],
  [['make'], { type: 'unknown', cmd: 'make' }],
];
for (const [argv, expected] of PARSED) {
  test(`parsedCommand ${JSON.stringify(argv)}`, () => assert.deepEqual(parsedCommand(argv), expected));
}
