/**
 * Builds what a surface (exec, serve) needs to run requests: the classifier with the user's rules,
 * the session cache (read from the session's events when a request is classified), the platform
 * sandbox, and the effects for the machine. I/O: reads the rules file, probes the sandbox.
 */
import type { EventStore } from '../events/eventStore.ts';
import { createEffects, type Classifier } from '../requests/effects.ts';
import { askForDecision } from '../requests/askForDecision.ts';
import type { PersonChannel } from '../requests/personChannel.ts';
import type { RequestEffects } from '../requests/runRequest.ts';
import { fold } from '../projections/projection.ts';
import { isApprovedForSession, SESSION_WIDE_DECISIONS, sessionApprovalsProjection } from '../projections/sessionApprovals.projection.ts';
import { sessionDomains, sessionDomainsProjection } from '../projections/sessionDomains.projection.ts';
import { mergeDomainLists } from '../network/domainPolicy.ts';
import { classifyExec } from '../safety/classifyExec.ts';
import { loadShellGrammar } from '../safety/shellParse.ts';
import { createRuleBook, type RuleBook } from '../safety/ruleFile.ts';
import { networkForCommand } from '../safety/ruleMatch.ts';
import { classifyPatch } from '../safety/patch/classifyPatch.ts';
import { applyPatchCommand } from '../safety/patch/applyPatchCommand.ts';
import { startSandboxDetection } from '../sandbox/platform.ts';
import type { SandboxType } from '../policy.ts';
import { runCommand, type RunOptions } from '../sandbox/runCommand.ts';

export interface RuntimeOptions {
  store: EventStore;
  rulesPath?: string;
  /** null: nobody can be asked through this surface. */
  channel: PersonChannel | null;
  decisionTimeoutMs: number | null;
  /**
   * The sandbox classification counts on; default the platform's. `none` for requests that a
   * client's own tool runs (hook mode without rewriting): warden cannot contain them, so only what
   * needs no sandbox runs without asking.
   */
  platformSandbox?: SandboxType;
  /** How commands run: `exec` passes its stdin through, streams output and forwards signals. */
  runOptions?: RunOptions;
}

export interface Runtime {
  effects: RequestEffects;
  rules: RuleBook;
}

export async function createRuntime(opts: RuntimeOptions): Promise<Runtime> {
  // probed under every policy: known-safe runs in the read-only sandbox even under danger-full-access
  // (the surfaces start the probe before opening the store, so it is usually done by now)
  const sandbox = opts.platformSandbox ?? (await startSandboxDetection()).type;
  const rules = createRuleBook(opts.rulesPath);
  const classifier: Classifier = {
    // On demand: only a verdict that reads a script needs it (effects.ts asks such a verdict again).
    loadGrammar: loadShellGrammar,
    exec: (input) => classifyExec(input, rules.current()),
    patch: (input) => classifyPatch(input),
  };
  const effects = createEffects({
    classifier,
    platformSandbox: sandbox,
    // Read fresh at each classification, once for both questions below: of the session's events
    // (an index, not the whole log), only the streams that recorded a session-wide approval.
    readSession: (sessionId) => opts.store.readSessionDecided(sessionId, SESSION_WIDE_DECISIONS),
    approvedForSession: async (sessionId, key, session) => isApprovedForSession(fold(sessionApprovalsProjection, await session()), sessionId, key),
    // The rules file's [network] table and matching rules' domains, and the names this session's
    // people approved: read fresh at each classification and recorded in it.
    // A patch is applied by warden's own helper, which needs no network.
    networkFor: async (sessionId, request, session) => {
      if (request.kind !== 'exec') return undefined;
      const fromRules = networkForCommand(rules.current(), request.kind === 'exec' ? (request.command ?? []) : null);
      const approved = sessionDomains(fold(sessionDomainsProjection, await session()), sessionId);
      return mergeDomainLists(fromRules, approved.length > 0 ? { allow: [], deny: [], approved } : undefined);
    },
    run: (request) => runCommand(request, opts.runOptions),
    patchCommand: applyPatchCommand(),
    decide: askForDecision({
      store: opts.store,
      channel: opts.channel,
      timeoutMs: opts.decisionTimeoutMs,
      onAlwaysApproved: async (prefix) => {
        rules.appendAllow(prefix);
      },
      onDomainsAlwaysApproved: async (domains) => {
        rules.appendApprovedDomains(domains);
      },
    }),
  });
  return { effects, rules };
}
