/**
 * Builds what a surface (exec, serve) needs to run requests: the store's session cache, the
 * classifier with the user's rules, the platform sandbox, and the effects for the machine.
 * I/O: reads the rules file, probes the sandbox, follows the store.
 */
import type { EventStore } from '../events/eventStore.ts';
import { createEffects, type Classifier } from '../machines/effects.ts';
import { createDecider, type PersonChannel } from '../machines/decider.ts';
import type { RequestEffects } from '../machines/runRequest.ts';
import { followProjection, type LiveProjection } from '../projections/liveProjection.ts';
import {
  isApprovedForSession,
  sessionApprovalsProjection,
  type SessionApprovalsDoc,
} from '../projections/sessionApprovals.projection.ts';
import { classifyExec } from '../safety/classifyExec.ts';
import { initShellParser, shellScriptOf } from '../safety/shellParse.ts';
import { createRuleBook, type RuleBook } from '../safety/rules.ts';
import { classifyPatch } from '../safety/patch/classifyPatch.ts';
import { applyPatchCommand } from '../safety/patch/applyPatchCommand.ts';
import { platformSandbox } from '../sandbox/platform.ts';
import { runCommand } from '../sandbox/runCommand.ts';

export interface RuntimeOptions {
  store: EventStore;
  rulesPath?: string;
  /** null: nobody can be asked through this surface. */
  channel: PersonChannel | null;
  decisionTimeoutMs: number | null;
}

export interface Runtime {
  effects: RequestEffects;
  rules: RuleBook;
  sessions: LiveProjection<SessionApprovalsDoc>;
  close(): void;
}

export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const rules = createRuleBook(opts.rulesPath);
  const sessions = followProjection(opts.store, sessionApprovalsProjection);
  await sessions.caughtUp();
  const classifier: Classifier = {
    // The shell grammar costs most of a second to load: only scripts need it.
    prepare: async (request) => {
      if (request.kind === 'exec' && shellScriptOf(request.command ?? []) !== null) await initShellParser();
    },
    exec: (input) => classifyExec(input, rules.current()),
    patch: (input) => classifyPatch(input),
  };
  const effects = createEffects({
    classifier,
    platformSandbox: platformSandbox(),
    approvedForSession: async (sessionId, key) => {
      await sessions.caughtUp();
      return isApprovedForSession(sessions.doc, sessionId, key);
    },
    run: runCommand,
    patchCommand: applyPatchCommand(),
    decide: createDecider({
      store: opts.store,
      channel: opts.channel,
      timeoutMs: opts.decisionTimeoutMs,
      onAlwaysApproved: async (prefix) => {
        rules.appendAllow(prefix);
      },
    }),
  });
  return { effects, rules, sessions, close: () => sessions.close() };
}
