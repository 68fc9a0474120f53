/**
 * Given-helpers shared by tests: requests, classifications and run results as the machine sees
 * them, and throw-away SQLite stores in temp directories.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApprovalRequest, RecordedDecision } from '../../src/machines/approval.machine.ts';
import type { RunRecord } from '../../src/events/types.ts';
import type { Classification } from '../../src/safety/types.ts';
import type { ApprovalPolicy } from '../../src/policy.ts';
import { createSqliteEventStore } from '../../src/events/sqliteEventStore.ts';
import type { EventStore } from '../../src/events/eventStore.ts';

export function execRequest(overrides: Partial<ApprovalRequest> = {}, approval: ApprovalPolicy = 'on-request'): ApprovalRequest {
  return {
    kind: 'exec',
    command: ['touch', 'x'],
    cwd: '/tmp',
    withEscalatedPermissions: false,
    policy: { approval, sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true },
    origin: { surface: 'test', pid: process.pid, host: 'test' },
    ...overrides,
  };
}

export const classification = {
  reject: (): Classification => ({ outcome: 'reject', sandbox: 'bwrap', knownSafe: false, dangerous: false, commands: [['touch', 'x']], reason: 'rejected by policy' }),
  knownSafe: (): Classification => ({ outcome: 'auto-approve', sandbox: 'bwrap', knownSafe: true, dangerous: false, commands: [['ls']], reason: 'known safe', decisionSource: 'policy' }),
  sandboxed: (): Classification => ({ outcome: 'auto-approve', sandbox: 'bwrap', knownSafe: false, dangerous: false, commands: [['touch', 'x']], reason: 'runs in the sandbox', decisionSource: 'policy' }),
  sessionCached: (): Classification => ({ outcome: 'auto-approve', sandbox: 'bwrap', knownSafe: false, dangerous: false, commands: [['touch', 'x']], reason: 'approved for this session', decisionSource: 'session-cache' }),
  ask: (): Classification => ({ outcome: 'ask', sandbox: 'bwrap', knownSafe: false, dangerous: false, commands: [['touch', 'x']], reason: 'not known safe', askReason: 'not-known-safe', proposedPrefix: ['touch'] }),
};

export function runResult(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    exitCode: 0,
    signal: null,
    timedOut: false,
    durationMs: 3,
    stdoutExcerpt: '',
    stderrExcerpt: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    truncated: false,
    denial: { denied: false },
    ...overrides,
  };
}

export const runs = {
  ok: () => runResult(),
  exit1: () => runResult({ exitCode: 1 }),
  denied: () => runResult({ exitCode: 1, stderrExcerpt: 'touch: cannot touch /etc/x: Read-only file system', denial: { denied: true, what: 'write to /etc/x' } }),
  timeout: () => runResult({ exitCode: null, signal: 'SIGKILL', timedOut: true, durationMs: 1000 }),
  /** The domain proxy refused a name no list mentions: a domain question, the retry stays sandboxed. */
  domainDenied: () =>
    runResult({
      exitCode: 56,
      stderrExcerpt: 'curl: (56) CONNECT tunnel failed, response 403',
      denial: { denied: true, what: 'network access to registry.test refused: registry.test is not in the allowed domains', domains: ['registry.test'] },
      network: { allowed: {}, refused: [{ host: 'registry.test', reason: 'registry.test is not in the allowed domains', kind: 'not-allowed', count: 1 }] },
    }),
};

export const decisions: Record<string, () => RecordedDecision> = {
  approved: () => ({ decision: 'approved', source: 'user', user: 'tester' }),
  approvedForSession: () => ({ decision: 'approved_for_session', source: 'user', user: 'tester' }),
  approvedAlways: () => ({ decision: 'approved_always', source: 'user', user: 'tester', rulePrefix: ['touch'] }),
  denied: () => ({ decision: 'denied', source: 'user', user: 'tester' }),
  malformed: () => ({ decision: 'denied', source: 'malformed', raw: '{"decision":"yes"}' }),
  timeout: () => ({ decision: 'denied', source: 'timeout', reason: 'no decision within 1 s' }),
  abort: () => ({ decision: 'abort', source: 'user', user: 'tester' }),
};

export interface TempStore {
  store: EventStore;
  path: string;
  dir: string;
  cleanup(): Promise<void>;
}

export function tempDir(prefix = 'warden-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function tempSqliteStore(): TempStore {
  const dir = tempDir();
  const path = join(dir, 'events.db');
  const store = createSqliteEventStore(path);
  return {
    store,
    path,
    dir,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
