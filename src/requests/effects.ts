/**
 * The real effects behind the approval machine's named actors: classification by src/safety,
 * runs through src/sandbox, patches applied by a helper process that itself runs in the sandbox.
 * The `decide` effect is the surface's own (terminal, MCP) built with createDecider.
 */
import type { RunOutcome, RunRequest, SandboxSpec } from '../sandbox/types.ts';
import type { Classification, ExecClassificationInput, PatchClassificationInput } from '../safety/types.ts';
import type { SandboxType } from '../policy.ts';
import { requestKey } from '../projections/sessionApprovals.projection.ts';
import type { ApprovalRequest, ExecutionPlan } from '../machines/approval.machine.ts';
import type { RequestEffects } from './runRequest.ts';

export interface Classifier {
  /** Loads what classifying this request needs (the shell grammar is only loaded for shell scripts). */
  prepare?(request: ApprovalRequest): Promise<void>;
  exec(input: ExecClassificationInput): Classification;
  patch(input: PatchClassificationInput): Classification;
}

export interface EffectDeps {
  classifier: Classifier;
  platformSandbox: SandboxType;
  /** Whether an identical request was approved for this session (I/O allowed). */
  approvedForSession(sessionId: string, key: string): boolean | Promise<boolean>;
  run(request: RunRequest): Promise<RunOutcome>;
  /** argv of the program that applies a patch read on stdin, in its cwd. */
  patchCommand: string[];
  decide: RequestEffects['decide'];
  env?: NodeJS.ProcessEnv;
}

/** Fail closed: a classifier that throws (a bug) makes the request ask, never run. */
function safely(classify: () => Classification, platformSandbox: SandboxType): Classification {
  try {
    return classify();
  } catch (error) {
    return {
      outcome: 'ask',
      sandbox: platformSandbox,
      knownSafe: false,
      dangerous: false,
      commands: null,
      reason: `classification failed (${error instanceof Error ? error.message : String(error)}); asking instead`,
      askReason: 'not-known-safe',
    };
  }
}

export function sandboxSpecFor(request: ApprovalRequest, plan: ExecutionPlan): SandboxSpec | null {
  if (plan.sandbox === 'none' || plan.mode === null || plan.mode === 'danger-full-access') return null;
  return {
    mode: plan.mode,
    writableRoots: request.policy.writableRoots,
    network: request.policy.network,
    tmpWrite: request.policy.tmpWrite,
    ...(request.policy.hidden === undefined ? {} : { hidden: request.policy.hidden }),
    ...(request.policy.allowUnixSockets === undefined ? {} : { allowUnixSockets: request.policy.allowUnixSockets }),
  };
}

export function runRequestFor(request: ApprovalRequest, plan: ExecutionPlan, patchCommand: string[], env?: NodeJS.ProcessEnv): RunRequest {
  const sandbox = sandboxSpecFor(request, plan);
  if (request.kind === 'patch') {
    return { command: patchCommand, cwd: request.cwd, stdin: request.patch ?? '', sandbox, timeoutMs: request.timeoutMs, env };
  }
  return { command: request.command ?? [], cwd: request.cwd, sandbox, timeoutMs: request.timeoutMs, env };
}

/** The classification's environment additions (known-safe git's hardening) over the runner's env. */
export function withRunEnv(env: NodeJS.ProcessEnv | undefined, classification: Classification | null): NodeJS.ProcessEnv | undefined {
  if (!classification?.runEnv) return env;
  return { ...(env ?? process.env), ...classification.runEnv };
}

export function createEffects(deps: EffectDeps): RequestEffects {
  return {
    async classify({ sessionId, request }) {
      await deps.classifier.prepare?.(request);
      const approvedForSession = await deps.approvedForSession(sessionId, requestKey(request));
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
          }),
        deps.platformSandbox,
      );
    },
    runSandboxed: ({ request, plan, classification }) => deps.run(runRequestFor(request, plan, deps.patchCommand, withRunEnv(deps.env, classification))),
    execute: ({ request, plan, classification }) => deps.run(runRequestFor(request, plan, deps.patchCommand, withRunEnv(deps.env, classification))),
    decide: deps.decide,
  };
}
