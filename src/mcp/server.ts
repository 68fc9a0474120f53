/**
 * warden's MCP server: the `shell` and `apply_patch` tools, each call run through the approval
 * machine with this connection's session and person channel (elicitation). `buildServer` only
 * builds: connecting a transport (stdio, in `warden serve`) is the caller's job. Malformed
 * arguments are a JSON-RPC error (nothing is recorded); every domain outcome, a denial included,
 * is a tool result.
 */
import { randomUUID } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { EventStore } from '../events/eventStore.ts';
import type { RequestPolicy } from '../events/types.ts';
import type { ApprovalRequest } from '../machines/approval.machine.ts';
import type { PersonChannel } from '../requests/decider.ts';
import { runRequest, type RequestEffects } from '../requests/runRequest.ts';
import { logger } from '../log.ts';
import { createElicitationChannel, supportsFormElicitation, type CallContext } from './channel.ts';
import { toToolResult, type ToolResult } from './result.ts';
import { ApplyPatchArgs, ShellArgs, toolList } from './tools.ts';

export interface ServerDeps {
  store: EventStore;
  /** The machine's effects; their `decide` must ask through the channel `buildServer` returns. */
  effects: RequestEffects;
  policy: RequestPolicy;
  /** One MCP connection is one session: `approved_for_session` applies within it only. */
  sessionId: string;
  /** Where a call without `workdir` runs. */
  defaultCwd: string;
  decisionTimeoutMs: number;
  /** A client answer sooner than this after the question is the client's own, not a person's (default 500). */
  minDecisionMs?: number;
  /**
   * The decision timeout of a call that carries no progressToken, when shorter: such a client cannot
   * be kept waiting past its own request timeout (60 s in the SDKs), so warden must decide first.
   */
  decisionTimeoutWithoutProgressMs?: number;
  /**
   * How the person can decide out of band, e.g. "run `warden approve --store X` in a terminal".
   * For warden's log only: nothing sent to the client names the store or the approve command, or
   * the agent would be told how to approve its own request.
   */
  outOfBandHint: string;
  /** Who asked: `mcpCallId` is the JSON-RPC id of the tools/call, `clientCallId` the client's own id from `_meta`. */
  origin(mcpCallId: string, clientCallId?: string): ApprovalRequest['origin'];
  /** How often a call that carries a progressToken reports that it is still running (default 10 s). */
  progressIntervalMs?: number;
  /** The response guard's unwrap, when stdin passes through one. */
  unwrapResult?: (result: unknown) => unknown;
  version?: string;
}

export interface BuiltServer {
  server: Server;
  channel: PersonChannel;
  /** Resolves when every tool call in progress has finished (and its events are stored). */
  idle(): Promise<void>;
}

function parseArgs<T extends z.ZodType>(schema: T, tool: string, args: unknown): z.infer<T> {
  const parsed = schema.safeParse(args ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new McpError(ErrorCode.InvalidParams, `invalid arguments for ${tool}: ${where}${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** The directory a call runs in, resolved through symlinks; null when it is not an existing directory. */
function resolveWorkdir(workdir: string | undefined, defaultCwd: string): string | null {
  const path = workdir === undefined ? defaultCwd : isAbsolute(workdir) ? workdir : resolve(defaultCwd, workdir);
  try {
    const real = realpathSync(path);
    return statSync(real).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

function errorResult(sentence: string): ToolResult {
  return { content: [{ type: 'text', text: sentence }], structuredContent: { summary: sentence, state: 'not-started' }, isError: true };
}

const MAX_CALL_ID_CHARS = 200;

/**
 * The client's own id for this tool call, so an audit row joins the client's transcript: Codex sends
 * `_meta.callId`, Claude Code `_meta["claudecode/toolUseId"]`; other clients are read generically
 * (a string key ending in toolUseId / toolCallId / callId). Only recorded, never trusted: the agent's
 * runtime chooses it.
 */
export function clientCallId(meta: Record<string, unknown> | undefined): string | undefined {
  if (!meta) return undefined;
  const known = [meta['claudecode/toolUseId'], meta.callId];
  const generic = Object.entries(meta)
    .filter(([k]) => /(^|[/_.-])(tool_?use_?id|tool_?call_?id|call_?id)$/i.test(k))
    .map(([, v]) => v);
  const id = [...known, ...generic].find((v): v is string => typeof v === 'string' && v.length > 0);
  return id === undefined ? undefined : id.slice(0, MAX_CALL_ID_CHARS);
}

export function buildServer(deps: ServerDeps): BuiltServer {
  const server = new Server(
    { name: 'warden', version: deps.version ?? '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        'Run commands with the shell tool and edit files with apply_patch. warden runs safe commands at once, sandboxes others, and asks the person when needed. A result that says the person said no means: do not retry the same thing.',
    },
  );
  const calls = new Map<string, CallContext>();
  const inflight = new Set<Promise<unknown>>();
  const channel = createElicitationChannel({
    server,
    callContext: (requestId) => calls.get(requestId),
    decisionTimeoutMs: deps.decisionTimeoutMs,
    ...(deps.minDecisionMs === undefined ? {} : { minDecisionMs: deps.minDecisionMs }),
    outOfBandHint: deps.outOfBandHint,
    ...(deps.unwrapResult ? { unwrapResult: deps.unwrapResult } : {}),
  });

  async function run(request: ApprovalRequest, call: CallContext): Promise<ToolResult> {
    const requestId = randomUUID();
    calls.set(requestId, call);
    try {
      const result = await runRequest({ store: deps.store, sessionId: deps.sessionId, requestId, request, effects: deps.effects });
      logger().info({ requestId, state: result.finalState, decision: result.context.decision }, 'tool call finished');
      if (result.storeError) logger().error({ err: result.storeError, requestId }, 'the store failed while recording a tool call');
      return toToolResult(result, { canAsk: supportsFormElicitation(server) });
    } catch (error) {
      logger().error({ err: error, requestId }, 'a tool call failed inside warden');
      // The message may name the store: the agent gets only that it happened (see result.ts).
      return errorResult(`warden failed internally (the details are in warden's log); nothing further was run for request ${requestId}.`);
    } finally {
      calls.delete(requestId);
    }
  }

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList({ network: deps.policy.network }) }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const token = req.params._meta?.progressToken;
    const shorter = token === undefined ? deps.decisionTimeoutWithoutProgressMs : undefined;
    const call: CallContext = {
      mcpToolCallId: String(extra.requestId),
      signal: extra.signal,
      ...(shorter !== undefined && shorter < deps.decisionTimeoutMs ? { decisionTimeoutMs: shorter } : {}),
    };
    const origin = deps.origin(String(extra.requestId), clientCallId(req.params._meta as Record<string, unknown> | undefined));
    let request: ApprovalRequest;
    switch (req.params.name) {
      case 'shell': {
        const args = parseArgs(ShellArgs, 'shell', req.params.arguments);
        const cwd = resolveWorkdir(args.workdir, deps.defaultCwd);
        if (cwd === null) return errorResult(`workdir ${args.workdir ?? deps.defaultCwd} is not an existing directory; nothing was run.`);
        request = {
          kind: 'exec',
          command: args.command,
          cwd,
          withEscalatedPermissions: args.with_escalated_permissions === true,
          ...(args.justification ? { justification: args.justification } : {}),
          ...(args.timeout_ms ? { timeoutMs: args.timeout_ms } : {}),
          policy: deps.policy,
          origin,
        };
        break;
      }
      case 'apply_patch': {
        const args = parseArgs(ApplyPatchArgs, 'apply_patch', req.params.arguments);
        const cwd = resolveWorkdir(args.workdir, deps.defaultCwd);
        if (cwd === null) return errorResult(`workdir ${args.workdir ?? deps.defaultCwd} is not an existing directory; nothing was applied.`);
        request = { kind: 'patch', patch: args.patch, cwd, withEscalatedPermissions: false, policy: deps.policy, origin };
        break;
      }
      default:
        throw new McpError(ErrorCode.InvalidParams, `unknown tool '${req.params.name}' (warden offers shell and apply_patch)`);
    }
    const pending = run(request, call);
    inflight.add(pending);
    // A person may take minutes; progress lets clients that reset their request timeout on it keep waiting.
    let ticks = 0;
    const progress =
      token === undefined
        ? null
        : setInterval(() => {
            ticks += 1;
            extra
              .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ticks, message: 'warden: still working (it may be waiting for a decision)' } })
              .catch(() => undefined);
          }, deps.progressIntervalMs ?? 10_000);
    try {
      return await pending;
    } finally {
      if (progress) clearInterval(progress);
      inflight.delete(pending);
    }
  });

  return {
    server,
    channel,
    idle: async () => {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
