/**
 * The real effects behind the approval machine's named actors: classification by src/safety,
 * runs through src/sandbox, patches applied by a helper process that itself runs in the sandbox.
 * The `decide` effect is the surface's own (terminal, MCP) built with askForDecision.
 */
import type { RunResult, CommandRun, SandboxSpec } from '../sandbox/types.ts';
import type { Classification, ExecClassificationInput, PatchClassificationInput } from '../safety/types.ts';
import type { SandboxType } from '../policy.ts';
import { requestKey } from '../projections/sessionApprovals.projection.ts';
import type { ApprovalRequest, ExecutionPlan } from '../machines/approval.machine.ts';
import type { RequestEffects } from './runRequest.ts';
import type { DomainLists, StoredEvent } from '../events/types.ts';
import { mergeDomainLists } from '../network/domainPolicy.ts';
import { withDriverOverrides } from './gitDrivers.ts';
import { knownSafeRunArgv } from '../safety/programs/gitHardening.ts';
import { commandEnv, programLocatorFor } from './programLocator.ts';
import { planningEnvOnly } from '../sandbox/writableRoots.ts';
import { messageOf } from '../errors.ts';
import { APPLIER, patchConversation, requireApplier } from '../safety/patch/applyPatchCommand.ts';
import { ShellGrammarNotLoadedError } from '../safety/shellParse.ts';

export interface Classifier {
  /**
   * Loads the shell grammar, when a verdict threw ShellGrammarNotLoadedError (it reads the grammar
   * only for a script, and throws rather than guess without it); the verdict is then asked again.
   */
  loadGrammar?(): Promise<void>;
  exec(input: ExecClassificationInput): Classification;
  patch(input: PatchClassificationInput): Classification;
}

/**
 * The session's own events as one classification reads them: at most one read of the store, shared
 * by approvedForSession and networkFor (each used to read the whole session again; I/O).
 */
export type SessionEvents = () => Promise<readonly StoredEvent[]>;

export interface EffectDeps {
  classifier: Classifier;
  platformSandbox: SandboxType;
  /** Reads what the session folds need of a session (I/O): fresh for each classification, once for all it asks. */
  readSession?(sessionId: string): Promise<readonly StoredEvent[]>;
  /** Whether an identical request was approved for this session (I/O allowed). */
  approvedForSession(sessionId: string, key: string, session: SessionEvents): boolean | Promise<boolean>;
  /**
   * What the rules file and this session's domain approvals add to the request's domain lists, or
   * undefined for nothing (I/O allowed). Recorded in the classification, so replay needs no rules file.
   */
  networkFor?(sessionId: string, request: ApprovalRequest, session: SessionEvents): DomainLists | undefined | Promise<DomainLists | undefined>;
  run(request: CommandRun): Promise<RunResult>;
  /** argv of the helper a patch is applied through (applyPatchCommand.ts), in the request's cwd. */
  patchCommand: string[];
  decide: RequestEffects['decide'];
  env?: NodeJS.ProcessEnv;
}

/**
 * Fail closed: a classifier that throws (a bug, or a grammar that would not load) makes the
 * request ask, never run. A verdict that needs the grammar before it is loaded is asked again once
 * it is: the same pure verdict, which cannot depend on the load since the first try never read it.
 */
async function safely(classify: () => Classification, platformSandbox: SandboxType, loadGrammar?: () => Promise<void>): Promise<Classification> {
  try {
    try {
      return classify();
    } catch (error) {
      if (!(error instanceof ShellGrammarNotLoadedError) || loadGrammar === undefined) throw error;
    }
    await loadGrammar();
    return classify();
  } catch (error) {
    return {
      outcome: 'ask',
      sandbox: platformSandbox,
      knownSafe: false,
      dangerous: false,
      commands: null,
      reason: `classification failed (${messageOf(error)}); asking instead`,
      askReason: 'not-known-safe',
    };
  }
}

/**
 * The domain lists of a run: the request's own (flags), what its classification added (rules file,
 * session approvals) and the names a person allowed for this retry. Deny wins over all of them.
 */
export function runDomains(request: ApprovalRequest, plan: ExecutionPlan, classification: Classification | null): DomainLists | undefined {
  const retry = plan.domains === undefined ? undefined : { allow: [], deny: [], approved: plan.domains };
  return mergeDomainLists(request.policy.domains, classification?.domains, retry);
}

export function sandboxSpecFor(request: ApprovalRequest, plan: ExecutionPlan, classification: Classification | null = null): SandboxSpec | null {
  if (plan.sandboxType === 'none' || plan.mode === null || plan.mode === 'danger-full-access') return null;
  if (plan.writable !== undefined) {
    // a person-approved patch: exactly the approved paths' directories, and warden's own applier needs no network
    return {
      mode: 'workspace-write',
      writableRoots: plan.writable,
      onlyRoots: true,
      network: false,
      tmpWrite: false,
      ...(request.policy.hidden === undefined ? {} : { hidden: request.policy.hidden }),
    };
  }
  const domains = runDomains(request, plan, classification);
  return {
    mode: plan.mode,
    writableRoots: request.policy.writableRoots,
    network: request.policy.network,
    tmpWrite: request.policy.tmpWrite,
    ...(request.policy.hidden === undefined ? {} : { hidden: request.policy.hidden }),
    ...(request.policy.allowUnixSockets === undefined ? {} : { allowUnixSockets: request.policy.allowUnixSockets }),
    ...(domains === undefined ? {} : { domains }),
  };
}

/** `runId` is the request id: the run's processes carry it (WARDEN_RUN_ID) for recovery to find. */
export function runRequestFor(
  request: ApprovalRequest,
  plan: ExecutionPlan,
  patchCommand: string[],
  env?: NodeJS.ProcessEnv,
  runId?: string,
  classification: Classification | null = null,
): CommandRun {
  const sandbox = sandboxSpecFor(request, plan, classification);
  const id = runId === undefined ? {} : { runId };
  if (request.kind === 'patch') {
    const converse = patchConversation(request.patch ?? '', request.cwd);
    // The helper forks nothing and opens no socket (its own seccomp filter): no process-limit cgroup
    // to join, no network namespace to set up (the network is off for it in any case). It reads
    // no environment either: what reaches it is only what plans its sandbox, so nothing else of
    // warden's (or the agent's) environment sits in a process the patch's files can point at.
    const own = patchCommand[0] === APPLIER ? { makesNoProcesses: true, opensNoSockets: true, env: planningEnvOnly(env ?? process.env) } : { env };
    return { command: patchCommand, cwd: request.cwd, converse, sandboxSpec: sandbox, timeoutMs: request.timeoutMs, ...own, ...id };
  }
  return { command: request.command ?? [], cwd: request.cwd, sandboxSpec: sandbox, timeoutMs: request.timeoutMs, env, ...id };
}

/** The classification's environment additions (known-safe git's hardening) over the runner's env. */
export function withRunEnv(env: NodeJS.ProcessEnv | undefined, classification: Classification | null): NodeJS.ProcessEnv | undefined {
  if (!classification?.runEnv) return env;
  return { ...(env ?? process.env), ...classification.runEnv };
}

/**
 * The environment a run gets (I/O for known-safe git: its repository's drivers are listed and
 * neutralised just before the run, see gitDrivers.ts).
 */
async function runEnvFor(env: NodeJS.ProcessEnv | undefined, request: ApprovalRequest, classification: Classification | null): Promise<NodeJS.ProcessEnv | undefined> {
  const withPath = request.kind === 'exec' ? commandEnv(env ?? process.env, request, classification) : env;
  const withHardening = withRunEnv(withPath, classification);
  if (request.kind !== 'exec' || withHardening === undefined) return withHardening;
  return withDriverOverrides(withHardening, classification, request.cwd);
}

/**
 * The request as it runs: a known-safe plain git diff/log/show gets `--no-ext-diff --no-textconv`
 * after its subcommand, a known-safe `bash -lc` loses its `-l` (programs/gitHardening.ts
 * knownSafeRunArgv). The recorded request keeps the agent's argv. Pure.
 */
export function hardenedRequest(request: ApprovalRequest, classification: Classification | null): ApprovalRequest {
  if (request.kind !== 'exec' || !classification?.knownSafe || request.command === undefined) return request;
  return { ...request, command: knownSafeRunArgv(request.command, classification.commands) };
}

export function createEffects(deps: EffectDeps): RequestEffects {
  const run = (request: ApprovalRequest, plan: ExecutionPlan, classification: Classification | null, requestId: string, env: NodeJS.ProcessEnv | undefined) => {
    // fails the run (with the advice to build it) rather than start a sandbox with nothing to apply the patch
    if (request.kind === 'patch') requireApplier(deps.patchCommand);
    return deps.run(runRequestFor(hardenedRequest(request, classification), plan, deps.patchCommand, env, requestId, classification));
  };
  return {
    async classify(input) {
      let read: Promise<readonly StoredEvent[]> | null = null;
      const session: SessionEvents = () => (read ??= deps.readSession?.(input.sessionId) ?? Promise.resolve([]));
      const network = await deps.networkFor?.(input.sessionId, input.request, session);
      const c = await classifyOnly(input, session);
      return network === undefined ? c : { ...c, domains: network };
    },
    runSandboxed: async ({ requestId, request, plan, classification }) => run(request, plan, classification, requestId, await runEnvFor(deps.env, request, classification)),
    execute: async ({ requestId, request, plan, classification }) => run(request, plan, classification, requestId, await runEnvFor(deps.env, request, classification)),
    decide: deps.decide,
  };

  async function classifyOnly({ sessionId, request }: { sessionId: string; request: ApprovalRequest }, session: SessionEvents): Promise<Classification> {
    const approvedForSession = await deps.approvedForSession(sessionId, requestKey(request), session);
    if (request.kind === 'patch') {
      return safely(
        () =>
          deps.classifier.patch({
            patch: request.patch ?? '',
            cwd: request.cwd,
            policy: request.policy,
            platformSandbox: deps.platformSandbox,
            approvedForSession,
          }),
        deps.platformSandbox,
        deps.classifier.loadGrammar,
      );
    }
    return safely(
      () =>
        deps.classifier.exec({
          command: request.command ?? [],
          cwd: request.cwd,
          withEscalatedPermissions: request.withEscalatedPermissions,
          policy: request.policy,
          platformSandbox: deps.platformSandbox,
          approvedForSession,
          programs: programLocatorFor(deps.env ?? process.env, { ...request, clientRuns: request.origin?.runner === 'client' }),
          ...(request.origin?.runner === 'client' ? { clientRuns: true } : {}),
        }),
      deps.platformSandbox,
      deps.classifier.loadGrammar,
    );
  }
}
