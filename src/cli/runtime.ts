/**
 * Builds what a surface (exec, serve) needs to run requests: the classifier with the user's rules,
 * the session cache (read from the session's events when a request is classified), the platform
 * sandbox, and the effects for the machine. I/O: reads the rules file, probes the sandbox.
 */
import type { EventStore } from '../events/eventStore.ts';
import { createEffects, type Classifier } from '../requests/effects.ts';
import { createDecider, type PersonChannel } from '../requests/decider.ts';
import type { RequestEffects } from '../requests/runRequest.ts';
import { fold } from '../projections/projection.ts';
import { isApprovedForSession, sessionApprovalsProjection } from '../projections/sessionApprovals.projection.ts';
import { classifyExec } from '../safety/classifyExec.ts';
import { loadShellGrammar } from '../safety/shellParse.ts';
import { createRuleBook, type RuleBook } from '../safety/rules.ts';
import { classifyPatch } from '../safety/patch/classifyPatch.ts';
import { applyPatchCommand } from '../safety/patch/applyPatchCommand.ts';
import { platformSandbox } from '../sandbox/platform.ts';
import type { SandboxType } from '../policy.ts';
import { runCommand } from '../sandbox/runCommand.ts';

export interface RuntimeOptions {
  store: EventStore;
  rulesPath?: string;
  /** null: nobody can be asked through this surface. */
  channel: PersonChannel | null;
  decisionTimeoutMs: number | null;
  /**
   * false when every request of this surface runs under danger-full-access: no sandbox is used, so
   * the bwrap probe (a process spawn) is skipped and the platform sandbox counts as 'none'.
   */
  sandboxNeeded?: boolean;
  /**
   * The sandbox classification counts on; default the platform's. `none` for requests that a
   * client's own tool runs (hook mode without rewriting): warden cannot contain them, so only what
   * needs no sandbox runs without asking.
   */
  platformSandbox?: SandboxType;
}

export interface Runtime {
  effects: RequestEffects;
  rules: RuleBook;
}

export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const rules = createRuleBook(opts.rulesPath);
  const classifier: Classifier = {
    // Loaded before the first exec verdict, whatever the argv: a verdict must not depend on
    // whether an earlier request loaded the grammar (the danger scan reads wrapped scripts too).
    prepare: async (request) => {
      if (request.kind === 'exec') await loadShellGrammar();
    },
    exec: (input) => classifyExec(input, rules.current()),
    patch: (input) => classifyPatch(input),
  };
  const effects = createEffects({
    classifier,
    platformSandbox: opts.platformSandbox ?? (opts.sandboxNeeded === false ? 'none' : platformSandbox()),
    // Read fresh at each classification, from the session's own events (an index), not the whole log.
    approvedForSession: async (sessionId, key) =>
      isApprovedForSession(fold(sessionApprovalsProjection, await opts.store.readSession(sessionId)), sessionId, key),
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
  return { effects, rules };
}
