/**
 * warden's MCP server: the `shell` and `apply_patch` tools, each call run through the approval
 * machine with this connection's session and that call's own person channel (elicitation to the
 * client that made it: no lookup table, so a question can only belong to its call). `buildServer` only
 * builds: connecting a transport (stdio, in `warden serve`) is the caller's job. Malformed
 * arguments are a JSON-RPC error (nothing is recorded); every domain outcome, a denial included,
 * is a tool result. Each tool is a file of its own (shellTool.ts, applyPatchTool.ts); this file is
 * only the edge: look the tool up, parse, run, report progress, answer.
 *
 * Why the SDK's low-level `Server` and not `McpServer`: every input and every answer must be
 * judged by warden's own schemas and the failures recorded as warden words them. McpServer parses
 * tool arguments and answers with its own error texts, and its `elicitInput` validates a client's
 * answer itself, so a malformed answer would be an exception instead of a recorded denial.
 */
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { EventStore } from '../events/eventStore.ts';
import type { RequestPolicy } from '../events/types.ts';
import type { ApprovalRequest } from '../machines/approval.machine.ts';
import { runRequest, type RequestEffects } from '../requests/runRequest.ts';
import { logger } from '../log.ts';
import { createElicitationChannel, supportsFormElicitation, type CallContext, type ChannelDeps } from './channel.ts';
import { outputPlaceFor, toToolResult, type ToolResult } from './result.ts';
import { toolList, toolNamed } from './tools.ts';
import { reportProgress } from './progress.ts';

export interface ServerDeps {
  store: EventStore;
  /** The machine's effects; `decide` is handed each call's own channel (RequestEffects.decide). */
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
  /**
   * Called once per tool, when its first call is done and before it is answered (serve saves the
   * code cache there: runBundle.ts SAVE_NOW). Synchronous; a throw is logged, the answer unchanged.
   */
  afterFirstCall?: (tool: string) => void;
  version?: string;
}

export interface BuiltServer {
  server: Server;
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

/**
 * The SDK's own validator of elicitation answers (Ajv with its formats), built on the first answer
 * it checks instead of with the Server: building it costs ~10 ms of every `serve` start before
 * `initialize` is answered, and a connection that never asks a person never needs it. The same
 * validator and the same checks once it exists.
 */
function validatorOnFirstUse(): jsonSchemaValidator {
  let built: AjvJsonSchemaValidator | undefined;
  return { getValidator: (schema) => (built ??= new AjvJsonSchemaValidator()).getValidator(schema) };
}

export function buildServer(deps: ServerDeps): BuiltServer {
  const server = new Server(
    { name: 'warden', version: deps.version ?? '0.1.0' },
    {
      jsonSchemaValidator: validatorOnFirstUse(),
      capabilities: { tools: {} },
      instructions:
        'Run commands with the shell tool and edit files with apply_patch. warden runs safe commands at once, sandboxes others, and asks the person when needed. A result that says the person said no means: do not retry the same thing.',
    },
  );
  const inflight = new Set<Promise<unknown>>();
  /** The tools whose first call is done (afterFirstCall). */
  const called = new Set<string>();
  const channelDeps: ChannelDeps = {
    server,
    decisionTimeoutMs: deps.decisionTimeoutMs,
    ...(deps.minDecisionMs === undefined ? {} : { minDecisionMs: deps.minDecisionMs }),
    outOfBandHint: deps.outOfBandHint,
    ...(deps.unwrapResult ? { unwrapResult: deps.unwrapResult } : {}),
  };

  async function run(request: ApprovalRequest, call: CallContext): Promise<ToolResult> {
    const requestId = randomUUID();
    try {
      // The request's questions go to the client of this call, and only this call.
      const channel = createElicitationChannel(channelDeps, call);
      const result = await runRequest({ store: deps.store, sessionId: deps.sessionId, requestId, request, effects: deps.effects, channel });
      logger().info({ requestId, state: result.finalState, decision: result.context.decision }, 'tool call finished');
      if (result.storeError) logger().error({ err: result.storeError, requestId }, 'the store failed while recording a tool call');
      return toToolResult(result, { canAsk: supportsFormElicitation(server), outputIn: outputPlaceFor(server.getClientVersion()?.name) });
    } catch (error) {
      logger().error({ err: error, requestId }, 'a tool call failed inside warden');
      // The message may name the store: the agent gets only that it happened (see result.ts).
      return errorResult(`warden failed internally (the details are in warden's log); nothing further was run for request ${requestId}.`);
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
    const base = deps.origin(String(extra.requestId), clientCallId(req.params._meta as Record<string, unknown> | undefined));
    // who is asking, as the client named itself (shown to the person as "calls itself"); capped, the client chose it
    const clientName = server.getClientVersion()?.name;
    const origin = typeof clientName === 'string' && clientName !== '' ? { ...base, client: clientName.slice(0, 200) } : base;
    const tool = toolNamed(req.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool '${req.params.name}' (warden offers shell and apply_patch)`);
    const request = tool.toRequest(parseArgs(tool.schema, tool.name, req.params.arguments), { policy: deps.policy, defaultCwd: deps.defaultCwd, origin });
    if ('refused' in request) return errorResult(request.refused);
    const pending = run(request, call);
    inflight.add(pending);
    const stopProgress = reportProgress((n) => extra.sendNotification(n), token, deps.progressIntervalMs ?? 10_000);
    try {
      const result = await pending;
      if (deps.afterFirstCall !== undefined && !called.has(tool.name)) {
        called.add(tool.name);
        try {
          deps.afterFirstCall(tool.name);
        } catch (error) {
          logger().warn({ err: error }, 'after the first call');
        }
      }
      return result;
    } finally {
      stopProgress();
      inflight.delete(pending);
    }
  });

  return {
    server,
    idle: async () => {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}
