/**
 * The person channel of an MCP connection: asks through `elicitation/create` when the client
 * declared the elicitation capability, and otherwise waits silently (the decider also watches the
 * store, so `warden approve` or the inspector can decide, and its timeout denies). Each question is
 * its own JSON-RPC request, so an answer can only ever apply to the request that asked it.
 *
 * An answer that arrives sooner than `minDecisionMs` after the question was sent was given by the
 * client, not a person (headless clients answer in milliseconds). A fast refusal is recorded at
 * once as `client-auto`; a fast approval is not an approval: the question stays open for `warden
 * approve` and the inspector until the decision timeout, and if nobody decides there it is recorded
 * as a `client-auto` denial. I/O: sends requests to the client.
 */
import * as z from 'zod';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AskHooks, PersonAnswer, PersonChannel } from '../requests/personChannel.ts';
import type { DecideInput } from '../machines/approval.machine.ts';
import { logger } from '../log.ts';
import { automaticAnswer, DEFAULT_MIN_DECISION_MS, interpretAnswer } from './answer.ts';
import { elicitationParams, type ElicitationContext } from './elicitation.ts';
import { messageOf } from '../errors.ts';

/** Whatever the client answers is taken as-is here and judged strictly by interpretAnswer. */
const AnyResult = z.unknown();

export interface CallContext extends ElicitationContext {
  /** Aborted when the client cancels the tool call. */
  signal: AbortSignal;
  /** This call's decision timeout when shorter than the connection's (a client that sent no progressToken). */
  decisionTimeoutMs?: number;
}

export interface ChannelDeps {
  server: Server;
  decisionTimeoutMs: number;
  /** A client answer sooner than this after the question is the client's own (default 500 ms). */
  minDecisionMs?: number;
  /** How a person can decide out of band (shown in warden's log only, never to the client). */
  outOfBandHint: string;
  /** Recovers an answer the response guard wrapped so the SDK would not drop it (see responseGuard.ts). */
  unwrapResult?: (result: unknown) => unknown;
}

/** Form elicitation: MCP 2025-06 clients declare `elicitation: {}`; later ones `{form: {}}` (and maybe `url`). */
export function supportsFormElicitation(server: Server): boolean {
  const e = server.getClientCapabilities()?.elicitation as { form?: unknown; url?: unknown } | undefined;
  if (!e || typeof e !== 'object') return false;
  return e.form !== undefined || e.url === undefined;
}

function clientUser(server: Server): string {
  const info = server.getClientVersion();
  return `mcp:${info?.name ?? 'client'}`;
}

/**
 * Nobody can be asked here: wait while the decider watches the store and its clock. Rejects when
 * asking stops (the decider has moved on); a tool call the client cancels meanwhile is denied, so a
 * late out-of-band approval cannot run a command whose caller has gone.
 */
function waitWithoutAsking(signal: AbortSignal, call: AbortSignal, disconnected: () => boolean, timeoutMs: number | undefined): Promise<PersonAnswer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('asking stopped'));
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => resolve({ decision: 'denied', source: 'timeout', reason: `no decision within ${timeoutMs / 1000} s` }), timeoutMs);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error('asking stopped'));
      },
      { once: true },
    );
    const cancelled = () =>
      resolve({
        decision: 'denied',
        source: 'error',
        reason: disconnected() ? 'the MCP client disconnected while the request waited for a decision' : 'the client cancelled the tool call while it waited for a decision',
      });
    if (call.aborted) return cancelled();
    call.addEventListener('abort', cancelled, { once: true });
  });
}

/** The person channel of one tool call: its questions go to the client that made the call. */
export function createElicitationChannel(deps: ChannelDeps, call: CallContext): PersonChannel {
  return {
    async ask(input: DecideInput, signal: AbortSignal, hooks?: AskHooks): Promise<PersonAnswer> {
      if (!supportsFormElicitation(deps.server)) {
        logger().warn({ requestId: input.requestId }, `a request waits for a decision and this client cannot be asked; ${deps.outOfBandHint}`);
        return waitWithoutAsking(signal, call.signal, () => deps.server.transport === undefined, call.decisionTimeoutMs);
      }
      const timeoutMs = call.decisionTimeoutMs ?? deps.decisionTimeoutMs;
      // Stop asking when the decider is done (decided elsewhere, timed out) or the tool call was cancelled.
      const stop = AbortSignal.any([signal, call.signal]);
      // The SDK's Protocol.request never removes its abort listener, so aborting the signal it was
      // given sends notifications/cancelled even after the answer came (MCP allows cancelling only
      // requests in progress). It gets a private signal, wired to `stop` only while the question is open.
      const sdkAbort = new AbortController();
      const onStop = () => sdkAbort.abort(stop.reason);
      if (stop.aborted) onStop();
      else stop.addEventListener('abort', onStop, { once: true });
      const params = elicitationParams(input, { mcpToolCallId: call.mcpToolCallId });
      let answer: PersonAnswer;
      let elapsedMs: number;
      try {
        const sent = performance.now();
        const result = await deps.server.request(
          { method: 'elicitation/create', params } as Parameters<Server['request']>[0],
          AnyResult,
          { timeout: timeoutMs, signal: sdkAbort.signal },
        );
        elapsedMs = performance.now() - sent;
        answer = interpretAnswer(deps.unwrapResult ? deps.unwrapResult(result) : result, input.offered, clientUser(deps.server));
      } catch (error) {
        // Closing the connection aborts the tool call too: a client that went away is a broken channel, not a refusal.
        if (deps.server.transport === undefined) {
          return { decision: 'denied', source: 'error', reason: 'the MCP client disconnected while the question was open' };
        }
        if (call.signal.aborted && !signal.aborted) {
          // Not attributed to the person: an agent runtime may cancel a call on its own.
          return { decision: 'denied', source: 'error', reason: 'the client cancelled the tool call while it waited for a decision' };
        }
        if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
          return { decision: 'denied', source: 'timeout', reason: `no decision within ${timeoutMs / 1000} s` };
        }
        const message = messageOf(error);
        const code = error instanceof McpError ? ` (JSON-RPC ${error.code})` : '';
        const raw = error instanceof McpError ? { raw: JSON.stringify({ error: { code: error.code, message: error.message } }) } : {};
        return { decision: 'denied', source: 'error', reason: `asking the client failed${code}: ${message}`, ...raw };
      } finally {
        stop.removeEventListener('abort', onStop);
      }
      const auto = automaticAnswer(answer, elapsedMs, deps.minDecisionMs ?? DEFAULT_MIN_DECISION_MS);
      if (!auto) return answer;
      if (!auto.approving) return auto.answer;
      // An approval nobody could have read: not an approval. A person may still decide out of band.
      hooks?.recordOnTimeout(auto.answer);
      logger().warn(
        { requestId: input.requestId, elapsedMs: Math.round(elapsedMs) },
        `the MCP client approved a request faster than a person can read it; that is not taken as an approval. The request waits for a person: ${deps.outOfBandHint}`,
      );
      const waited = await waitWithoutAsking(signal, call.signal, () => deps.server.transport === undefined, call.decisionTimeoutMs);
      // This call's own (shorter) timeout came first: the record says what the client did, as the decider's would.
      return waited.source === 'timeout' ? { ...auto.answer, reason: `${auto.answer.reason}; ${waited.reason} out of band` } : waited;
    },
  };
}
