/**
 * What a finished request looks like to the agent: one sentence first that tells "the person said
 * no" from "the command failed" (and from "nobody was asked": a client that dismissed the question
 * by itself), then the decision path, exit code, duration and output, and the same facts as
 * `structuredContent`. Denials, aborts, failures and sandbox denials are `isError`.
 *
 * Nothing here tells the agent how a decision could be made elsewhere: no store path, no `warden
 * approve`, no inspector, and no out-of-band decision's `reason` ("decided via warden approve").
 * An agent that learns the way to decide could try to decide its own request (issue 13); the person
 * finds those hints in warden's log, the terminal and the inspector. Internal and store error texts
 * may name the store, so the agent gets only that they happened. Pure; no I/O.
 */
import type { RequestResult } from '../requests/runRequest.ts';
import type { RecordedDecision } from '../machines/approval.machine.ts';
import { clientAction } from './answer.ts';
import type { ToolOutput } from './tools.ts';

export interface ResultContext {
  /** Whether this client can be asked (elicitation); if not, a timeout says so. */
  canAsk: boolean;
  /**
   * Where the command's output goes, once: `structured` for clients known to hand the model
   * structuredContent instead of the text (STRUCTURED_OUTPUT_CLIENTS), else `text`, which every
   * client reads. Default `text`.
   */
  outputIn?: 'text' | 'structured';
}

/**
 * MCP clients (by the name they give in initialize) that give the model structuredContent rather
 * than the text block, so the output rides there and not in the text. Any other client, named or
 * not, gets the output in the text (Gemini CLI reads only the text; an unknown client surely reads it).
 */
export const STRUCTURED_OUTPUT_CLIENTS: ReadonlySet<string> = new Set([
  'claude-code', // Claude Code
  'codex-mcp-client', // Codex CLI
]);

export function outputPlaceFor(clientName: string | undefined): 'text' | 'structured' {
  return clientName !== undefined && STRUCTURED_OUTPUT_CLIENTS.has(clientName) ? 'structured' : 'text';
}

export interface ToolResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  structuredContent: ToolOutput;
  isError: boolean;
}

/**
 * The reason of a decision as the agent may read it. A person's decision made out of band carries
 * how it was made ("decided via warden approve"): the agent gets only that a person decided.
 */
export function agentReason(d: RecordedDecision): string | undefined {
  return d.source === 'user' ? undefined : d.reason;
}

function describeDecision(d: RecordedDecision | null): string {
  if (!d) return 'none needed';
  const reason = agentReason(d);
  const by: Record<string, string> = {
    user: 'by the person',
    client: 'in the MCP client',
    'client-auto': 'because the MCP client answered by itself, not a person',
    'session-cache': 'approved earlier for this session',
    policy: 'by the policy',
    rule: 'by a rule',
    malformed: 'because the answer was malformed',
    timeout: 'because nobody decided in time',
    error: 'because asking failed',
    restart: 'because warden restarted',
  };
  return `${d.decision} ${by[d.source] ?? d.source}${reason ? ` (${reason})` : ''}`;
}

function headline(result: RequestResult, ctx: ResultContext): { sentence: string; isError: boolean } {
  const c = result.context;
  const subject = c.request.kind === 'patch' ? 'the patch' : 'the command';
  const Subject = subject[0]!.toUpperCase() + subject.slice(1);
  const run = c.execution ?? c.sandboxRun;
  const d = c.decision;
  switch (result.finalState) {
    case 'completed': {
      if (run?.denial.denied) {
        return {
          sentence: `${Subject} failed because the sandbox denied ${run.denial.what ?? 'an operation'}; nobody denied it, and this policy does not retry without the sandbox.`,
          isError: true,
        };
      }
      if (run?.exitCode === 0) return { sentence: c.request.kind === 'patch' ? 'The patch was applied.' : 'The command ran and exited with code 0.', isError: false };
      if (run?.exitCode !== null && run?.exitCode !== undefined) {
        return { sentence: `${Subject} ran and exited with code ${run.exitCode} (it ran; it was not denied).`, isError: c.request.kind === 'patch' };
      }
      return { sentence: `${Subject} ran and was killed by ${run?.signal ?? 'a signal'}.`, isError: false };
    }
    case 'aborted':
      if (d?.source === 'client') {
        return { sentence: `The MCP client answered abort, so warden aborted: ${subject} was not run. Stop and wait for the person's instructions.`, isError: true };
      }
      return { sentence: `The person aborted: ${subject} was not run. Stop and wait for their instructions.`, isError: true };
    case 'failed':
      if (run?.timedOut) return { sentence: `${Subject} timed out after ${Math.round(run.durationMs)} ms and its process group was killed (it was approved; it failed).`, isError: true };
      return { sentence: `${Subject} was approved but could not run: ${run?.error ?? c.failure ?? 'unknown failure'}.`, isError: true };
    case 'rejected': {
      if (!d || d.source === 'policy' || d.source === 'rule') {
        return { sentence: `warden's policy rejects this without asking anyone: ${c.failure ?? d?.reason ?? 'rejected'}. ${Subject} was not run.`, isError: true };
      }
      switch (d.source) {
        case 'user':
          return { sentence: `The person said no: ${subject} was not run. Do not retry it unchanged; change approach or ask them.`, isError: true };
        case 'client':
          if (clientAction(d.raw) === 'cancel') {
            return { sentence: `Nobody approved this: the MCP client dismissed the question; ${subject} was not run.`, isError: true };
          }
          return { sentence: `The answer in the MCP client was no: ${subject} was not run. Do not retry it unchanged; change approach or ask the person.`, isError: true };
        case 'client-auto':
          return {
            sentence:
              clientAction(d.raw) === 'cancel'
                ? `Nobody approved this: the client dismissed the question without showing it; it may not be able to show questions in this mode. ${Subject} was not run.`
                : `Nobody approved this: the client answered the question by itself, faster than a person could read it; it may not be able to show questions in this mode. ${Subject} was not run.`,
            isError: true,
          };
        case 'timeout':
          return {
            sentence: `Nobody decided within the decision timeout, so warden denied it; ${subject} was not run.${ctx.canAsk ? '' : ' This client cannot show approval questions.'}`,
            isError: true,
          };
        case 'malformed':
          return { sentence: `The client's approval answer was not a valid decision, so warden denied it (fail closed); ${subject} was not run.`, isError: true };
        case 'error':
          return { sentence: `Asking the person failed, so warden denied it; ${subject} was not run.`, isError: true };
        default:
          return { sentence: `warden denied it (${d.source}); ${subject} was not run.`, isError: true };
      }
    }
  }
}

/**
 * Per stream, the most the output may take in the reply as JSON, after escaping: a NUL is six
 * characters there (\u0000), so a byte cap on the run alone let a 1 MiB output become 6 MiB.
 */
export const REPLY_OUTPUT_CAP_BYTES = 1024 * 1024 + 4096; // the run's own cap, plus room for its truncation note

/** What one UTF-16 unit costs in JSON text (UTF-8 bytes, escapes included). A pair's two halves cost 2 + 2. */
function escapedCost(code: number, next: number): number {
  if (code === 0x22 || code === 0x5c) return 2; // \" \\
  if (code < 0x20) return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdbff) return next >= 0xdc00 && next <= 0xdfff ? 2 : 6; // a lone surrogate is escaped
  if (code >= 0xdc00 && code <= 0xdfff) return 2; // the second half of a pair (a lone one is caught below)
  return 3;
}

/**
 * The text cut so its JSON-escaped form takes at most `cap` bytes, with a note saying how much was
 * left out; unchanged when it fits. Linear in the text. Pure.
 */
export function boundForReply(text: string, cap: number): string {
  if (Buffer.byteLength(text) <= cap && !/["\\\u0000-\u001f\ud800-\udfff]/.test(text)) return text;
  const costAt = (i: number): number => {
    const code = text.charCodeAt(i);
    const lowAlone = code >= 0xdc00 && code <= 0xdfff && !(i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff);
    return lowAlone ? 6 : escapedCost(code, text.charCodeAt(i + 1));
  };
  let total = 0;
  for (let i = 0; i < text.length; i++) total += costAt(i);
  if (total <= cap) return text;
  const note = (left: number) => `\n[warden: reply cut to ${cap} bytes of JSON; ${left} more characters not sent]`;
  const room = cap - Buffer.byteLength(note(text.length)) - 1; // the note's \n is two bytes as JSON
  let used = 0;
  for (let i = 0; i < text.length; i++) {
    const cost = costAt(i);
    if (used + cost > room) {
      const code = text.charCodeAt(i);
      // never split a pair: a high half kept without its low half would be a lone surrogate
      const end = i > 0 && code >= 0xdc00 && code <= 0xdfff && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff ? i - 1 : i;
      return text.slice(0, end) + note(text.length - end);
    }
    used += cost;
  }
  return text;
}

export function toToolResult(result: RequestResult, ctx: ResultContext): ToolResult {
  const c = result.context;
  const run = c.execution ?? c.sandboxRun;
  let { sentence, isError } = headline(result, ctx);
  if (result.storeError && result.finalState !== 'completed') {
    sentence = "warden could not record this request (its event store failed; the details are in warden's log), so nothing further was run.";
    isError = true;
  }
  const stdoutRaw = result.output?.stdout ?? run?.stdoutExcerpt ?? '';
  const stderrRaw = result.output?.stderr ?? run?.stderrExcerpt ?? '';
  const stdout = boundForReply(stdoutRaw, REPLY_OUTPUT_CAP_BYTES);
  const stderr = boundForReply(stderrRaw, REPLY_OUTPUT_CAP_BYTES);
  const stdoutEncoding = result.output?.stdoutEncoding ?? run?.stdoutEncoding;
  const stderrEncoding = result.output?.stderrEncoding ?? run?.stderrEncoding;
  const path = result.events.map((e) => e.type);
  const ran = c.plan && (c.execution || c.sandboxRun) ? (c.plan.sandboxType === 'none' ? 'without a sandbox' : `in the ${c.plan.mode} sandbox (${c.plan.sandboxType})`) : 'not run';
  const lines = [
    sentence,
    `decision: ${describeDecision(c.decision)}${c.askReason ? `; asked because: ${c.askReason}` : ''}`,
    `classification: ${c.classification ? `${c.classification.outcome}: ${c.classification.reason}` : 'none'}`,
    `ran: ${ran}`,
  ];
  if (run && (c.execution || c.sandboxRun)) {
    lines.push(`exit code: ${run.exitCode ?? 'none'}${run.signal ? ` (signal ${run.signal})` : ''}; duration: ${Math.round(run.durationMs)} ms${run.truncated ? '; output truncated' : ''}`);
  }
  lines.push(`path: ${path.join(' -> ')}`, `request: ${result.requestId}`);
  // The output is sent once, where this client reads it: a second copy doubled every reply.
  const inText = (ctx.outputIn ?? 'text') === 'text';
  if (inText) {
    if (stdout) lines.push(`--- stdout${stdoutEncoding ? ` (${stdoutEncoding})` : ''} ---`, stdout);
    if (stderr) lines.push(`--- stderr${stderrEncoding ? ` (${stderrEncoding})` : ''} ---`, stderr);
  } else {
    const where = (name: string, text: string, enc: string | undefined) =>
      text ? [`${name}: ${Buffer.byteLength(text)} bytes${enc ? ` (${enc})` : ''}, in structuredContent.${name}`] : [];
    lines.push(...where('stdout', stdout, stdoutEncoding), ...where('stderr', stderr, stderrEncoding));
  }
  // Lean on purpose: Claude Code and Codex give the model this JSON instead of the text, so the
  // sentence leads and nothing the model does not need (event path, session, classification) rides
  // along. Empty or default fields are left out.
  const structuredContent: ToolOutput = {
    summary: sentence,
    state: result.finalState,
    exitCode: run?.exitCode ?? null,
    ...(stdout && !inText ? { stdout } : {}),
    ...(stderr && !inText ? { stderr } : {}),
    ...(stdout && stdoutEncoding ? { stdoutEncoding } : {}),
    ...(stderr && stderrEncoding ? { stderrEncoding } : {}),
    decision: c.decision ? { decision: c.decision.decision, source: c.decision.source, ...(agentReason(c.decision) ? { reason: agentReason(c.decision) } : {}) } : null,
    ...(c.askReason ? { askReason: c.askReason } : {}),
    ...(c.plan ? { sandbox: { type: c.plan.sandboxType, mode: c.plan.mode } } : {}),
    ...(run?.signal ? { signal: run.signal } : {}),
    ...(run?.timedOut ? { timedOut: true } : {}),
    ...(run?.denial.denied ? { sandboxDenial: run.denial.what ?? 'denied' } : {}),
    ...(run?.truncated || stdout !== stdoutRaw || stderr !== stderrRaw ? { truncated: true } : {}),
    ...(run ? { durationMs: Math.round(run.durationMs) } : {}),
    requestId: result.requestId,
  };
  return { content: [{ type: 'text', text: lines.join('\n') }], structuredContent, isError };
}
