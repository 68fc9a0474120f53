/**
 * The case table for classifyPatch, kept beside it: each row is a request and the verdict it must
 * get, with the attack or rule it pins. Paths live under a directory that does not exist, so the
 * rows are lexical; the symlink and `.git`-file rows need a real disk and live in the unit test.
 * Data only; test/unit/patch.classify.test.ts runs it.
 */
import type { ApprovalPolicy, SandboxMode, SandboxType } from '../../policy.ts';
import type { Outcome } from '../types.ts';

export interface PatchCase {
  why: string;
  body: string[];
  approval: ApprovalPolicy;
  sandbox?: SandboxMode;
  roots?: string[];
  platformSandbox?: SandboxType;
  approvedForSession?: boolean;
  expect: Outcome;
  expectSandbox?: SandboxType;
  reason?: RegExp;
}

/** The workspace of every row; it must not exist on disk. */
export const CASE_CWD = '/nonexistent-warden-case-ws/project';

export const PATCH_CASES: PatchCase[] = [
  // --- auto-approve: confined to the workspace
  { why: 'add inside cwd', body: ['*** Add File: a.txt', '+x'], approval: 'on-request', expect: 'auto-approve', expectSandbox: 'bwrap' },
  { why: 'nested new directories', body: ['*** Add File: src/deep/er/a.ts', '+x'], approval: 'never', expect: 'auto-approve' },
  { why: '.. that stays inside', body: ['*** Add File: src/../lib/a.ts', '+x'], approval: 'on-request', expect: 'auto-approve' },
  { why: 'absolute path inside cwd', body: [`*** Add File: ${CASE_CWD}/a.txt`, '+x'], approval: 'on-request', expect: 'auto-approve' },
  { why: 'a name that merely starts with .git', body: ['*** Add File: .gitignore', '+x'], approval: 'on-request', expect: 'auto-approve' },
  { why: 'a name that merely contains .warden', body: ['*** Add File: docs/.wardenrc.md', '+x'], approval: 'on-request', expect: 'auto-approve' },
  { why: 'extra writable root', body: ['*** Add File: /nonexistent-warden-case-ws/shared/a', '+x'], approval: 'on-request', roots: ['/nonexistent-warden-case-ws/shared'], expect: 'auto-approve' },
  { why: 'relative extra root resolves against cwd', body: ['*** Add File: ../sib/a', '+x'], approval: 'on-request', roots: ['../sib'], expect: 'auto-approve' },
  { why: 'move within cwd', body: ['*** Update File: a', '*** Move to: b/c', '@@', '-x', '+y'], approval: 'on-request', expect: 'auto-approve' },
  { why: 'danger-full-access runs bare', body: ['*** Add File: /etc/x', '+x'], approval: 'on-request', sandbox: 'danger-full-access', expect: 'auto-approve', expectSandbox: 'none' },
  { why: 'danger-full-access needs no platform sandbox', body: ['*** Add File: a', '+x'], approval: 'never', sandbox: 'danger-full-access', platformSandbox: 'none', expect: 'auto-approve', expectSandbox: 'none' },
  { why: 'on-failure outside the roots: sandboxed, a denial escalates', body: ['*** Add File: /etc/x', '+x'], approval: 'on-failure', expect: 'auto-approve', expectSandbox: 'bwrap', reason: /on-failure/ },
  { why: 'on-failure under read-only', body: ['*** Add File: a', '+x'], approval: 'on-failure', sandbox: 'read-only', expect: 'auto-approve', expectSandbox: 'bwrap' },
  { why: 'seatbelt is passed through', body: ['*** Add File: a', '+x'], approval: 'on-request', platformSandbox: 'seatbelt', expect: 'auto-approve', expectSandbox: 'seatbelt' },
  { why: 'session cache: approved before, confined, keeps the sandbox', body: ['*** Add File: a', '+x'], approval: 'untrusted', approvedForSession: true, expect: 'auto-approve', expectSandbox: 'bwrap' },
  { why: 'session cache: approved before, outside, runs bare as approved', body: ['*** Add File: /etc/x', '+x'], approval: 'on-request', approvedForSession: true, expect: 'auto-approve', expectSandbox: 'none' },

  // --- ask
  { why: 'untrusted asks even when confined', body: ['*** Add File: a', '+x'], approval: 'untrusted', expect: 'ask' },
  { why: 'absolute path outside', body: ['*** Add File: /etc/cron.d/x', '+x'], approval: 'on-request', expect: 'ask', reason: /outside the writable roots/ },
  { why: '.. escapes cwd', body: ['*** Add File: ../x', '+x'], approval: 'on-request', expect: 'ask' },
  { why: 'deep .. escape', body: ['*** Add File: a/b/../../../../etc/x', '+x'], approval: 'on-request', expect: 'ask' },
  { why: 'sibling whose name extends cwd is not inside it', body: [`*** Add File: ${CASE_CWD}-evil/x`, '+x'], approval: 'on-request', expect: 'ask' },
  { why: 'delete outside', body: ['*** Delete File: /home/u/.bashrc'], approval: 'on-request', expect: 'ask' },
  { why: 'update outside', body: ['*** Update File: ../../x', '@@', '-a', '+b'], approval: 'on-request', expect: 'ask' },
  { why: 'move destination outside', body: ['*** Update File: a', '*** Move to: ../b', '@@', '-a', '+b'], approval: 'on-request', expect: 'ask' },
  { why: 'one bad hunk among good ones', body: ['*** Add File: a', '+x', '*** Delete File: b', '*** Add File: /x', '+y'], approval: 'on-request', expect: 'ask' },
  { why: '.git/hooks runs code on the next git command', body: ['*** Add File: .git/hooks/pre-commit', '+#!/bin/sh'], approval: 'on-request', expect: 'ask', reason: /\.git/ },
  { why: '.git config can set core.fsmonitor', body: ['*** Update File: .git/config', '@@', '-a', '+b'], approval: 'on-request', expect: 'ask' },
  { why: '.git via .. inside the path', body: ['*** Add File: src/../.git/config', '+x'], approval: 'on-request', expect: 'ask' },
  { why: 'moving a file into .git', body: ['*** Update File: a', '*** Move to: .git/hooks/post-checkout', '@@', '-a', '+b'], approval: 'on-request', expect: 'ask' },
  { why: 'deleting .git content', body: ['*** Delete File: .git/HEAD'], approval: 'on-request', expect: 'ask' },
  { why: 'nested repository .git (submodule, vendored repo)', body: ['*** Add File: vendor/lib/.git/hooks/x', '+x'], approval: 'on-request', expect: 'ask' },
  { why: '.GIT on a case-insensitive file system is .git', body: ['*** Add File: .GIT/hooks/pre-commit', '+x'], approval: 'on-request', expect: 'ask' },
  { why: 'warden config would change warden rules', body: ['*** Add File: .warden/rules.toml', '+x'], approval: 'on-request', expect: 'ask', reason: /\.warden/ },
  { why: '.git of an extra root', body: ['*** Add File: /nonexistent-warden-case-ws/shared/.git/config', '+x'], approval: 'on-request', roots: ['/nonexistent-warden-case-ws/shared'], expect: 'ask' },
  { why: 'read-only never confines', body: ['*** Add File: a', '+x'], approval: 'on-request', sandbox: 'read-only', expect: 'ask', reason: /read-only/ },
  { why: 'confined but no platform sandbox to enforce it', body: ['*** Add File: a', '+x'], approval: 'on-request', platformSandbox: 'none', expect: 'ask', reason: /no platform sandbox/ },
  { why: 'on-failure outside but no platform sandbox', body: ['*** Add File: /x', '+x'], approval: 'on-failure', platformSandbox: 'none', expect: 'ask' },
  { why: '/tmp is not writable when the policy leaves it out', body: ['*** Add File: /tmp/x', '+x'], approval: 'on-request', expect: 'ask' },

  // --- issue #13: aliases of protected names, persistence files, planted git directories, Windows syntax
  ...['.GIT/config', '.g\u200cit/config', '.git\ufeff/config', '.git./config', '.git /config', 'GIT~1/config', '.git::$INDEX_ALLOCATION/config', 'WARDEN~1/rules.toml', '.warden./rules.toml'].map(
    (p): PatchCase => ({ why: `alias of a protected name: ${JSON.stringify(p)}`, body: [`*** Add File: ${p}`, '+x'], approval: 'on-request', expect: 'ask', reason: /inside/ }),
  ),
  ...['.bashrc', '.zshrc', '.profile', '.bash_profile', '.gitconfig', '.gitmodules', '.envrc', '.mcp.json', '.vscode/tasks.json', '.idea/workspace.xml', '.claude/settings.json', '.codex/config.toml', '.gemini/settings.json', '.cursor/mcp.json', 'sub/dir/.envrc'].map(
    (p): PatchCase => ({ why: `persistence file ${p} runs later outside the sandbox`, body: [`*** Add File: ${p}`, '+x'], approval: 'on-request', expect: 'ask' }),
  ),
  {
    why: 'a patch that plants a git directory (HEAD + objects/ + refs/ + config with fsmonitor) asks',
    body: ['*** Add File: vendor/x/HEAD', '+ref: refs/heads/main', '*** Add File: vendor/x/objects/info/packs', '+', '*** Add File: vendor/x/refs/heads/main', '+0000000000000000000000000000000000000000', '*** Add File: vendor/x/config', '+[core]', '+fsmonitor = touch /tmp/pwned'],
    approval: 'on-request',
    expect: 'ask',
    reason: /git directory/,
  },
  { why: 'HEAD alone is not a git directory', body: ['*** Add File: vendor/y/HEAD', '+x'], approval: 'on-request', expect: 'auto-approve' },
  { why: 'backslashes are separators on Windows', body: ['*** Add File: ..\\..\\etc\\passwd', '+x'], approval: 'on-request', expect: 'ask', reason: /backslash/ },
  { why: 'a drive letter', body: ['*** Add File: C:/x', '+x'], approval: 'on-request', expect: 'ask', reason: /drive letter/ },

  // --- reject
  { why: 'never + outside', body: ['*** Add File: /etc/x', '+x'], approval: 'never', expect: 'reject', reason: /writing outside of the project/ },
  { why: 'never + .git', body: ['*** Add File: .git/hooks/x', '+x'], approval: 'never', expect: 'reject' },
  { why: 'never + read-only', body: ['*** Add File: a', '+x'], approval: 'never', sandbox: 'read-only', expect: 'reject' },
  { why: 'never + no sandbox cannot ask', body: ['*** Add File: a', '+x'], approval: 'never', platformSandbox: 'none', expect: 'reject' },
  { why: 'empty patch, even approved for session', body: [], approval: 'on-failure', approvedForSession: true, expect: 'reject', reason: /^empty patch$/ },
  { why: 'unparsable, even under danger-full-access', body: ['*** Bogus: x'], approval: 'on-request', sandbox: 'danger-full-access', expect: 'reject', reason: /invalid patch: line 2/ },
  { why: 'unparsable under untrusted', body: ['*** Update File: a'], approval: 'untrusted', expect: 'reject', reason: /is empty/ },
];
