/**
 * Reading a client's answer to `elicitation/create`, failing closed. MCP's result is
 * `{action, content?}`; only `accept` whose content is exactly `{decision: <one offered decision>}`
 * is that decision. `decline` and `cancel` are denials: the client declined or dismissed the
 * question (a headless client does so on its own: Claude Code `-p` cancels, `codex exec` declines,
 * within milliseconds). Anything else (wrong types, look-alike strings, extra keys or nesting, huge
 * values) is a denial with source `malformed`, and the answer as received is kept for the record.
 *
 * Who answered: warden did not see a person, only the client, so a well-formed answer has source
 * `client` (decided_by `mcp:<clientInfo.name>`), never `user`. One that came faster than a person
 * can read the question is `client-auto` and always a denial (see `automaticAnswer`). Pure; no I/O.
 */
import * as z from 'zod';
import { isApproving, type Decision } from '../policy.ts';
import type { PersonAnswer } from '../requests/personChannel.ts';

/** Longer answers are not read at all: no decision needs more than a few dozen bytes. */
export const MAX_ANSWER_CHARS = 64 * 1024;

// MCP results may carry `_meta`; nothing else is expected beside action and content.
const Meta = z.record(z.string(), z.unknown()).optional();

function answerSchema(offered: readonly Decision[]) {
  const decision = z.enum(offered as [Decision, ...Decision[]]);
  return z.discriminatedUnion('action', [
    z.strictObject({ action: z.literal('accept'), content: z.strictObject({ decision }), _meta: Meta }),
    // decline/cancel carry no content in MCP; a reply that adds some is not one we understand.
    z.strictObject({ action: z.literal('decline'), _meta: Meta }),
    z.strictObject({ action: z.literal('cancel'), _meta: Meta }),
  ]);
}

/** JSON text of what arrived, for the record (the decider caps it). */
export function rawText(answer: unknown): string {
  try {
    const text = JSON.stringify(answer);
    return text === undefined ? String(answer) : text;
  } catch {
    return String(answer);
  }
}

export function interpretAnswer(answer: unknown, offered: readonly Decision[], user?: string): PersonAnswer {
  const raw = rawText(answer);
  const who = user === undefined ? {} : { user };
  if (offered.length === 0) return { decision: 'denied', source: 'malformed', reason: 'no decision was offered', raw };
  if (raw.length > MAX_ANSWER_CHARS) {
    return { decision: 'denied', source: 'malformed', reason: `the answer is too large (${raw.length} chars)`, raw };
  }
  const parsed = answerSchema(offered).safeParse(answer);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return {
      decision: 'denied',
      source: 'malformed',
      reason: `the client's answer is not one of the offered decisions (${issue?.message ?? 'invalid'}${where})`,
      raw,
    };
  }
  switch (parsed.data.action) {
    case 'accept':
      return { decision: parsed.data.content.decision, source: 'client', reason: 'answered in the MCP client', raw, ...who };
    case 'decline':
      return { decision: 'denied', source: 'client', reason: 'the MCP client declined the question', raw, ...who };
    case 'cancel':
      return { decision: 'denied', source: 'client', reason: 'the MCP client dismissed the question', raw, ...who };
  }
}

/** The default of `--min-decision-ms`: reading the question and choosing takes a person longer than this. */
export const DEFAULT_MIN_DECISION_MS = 500;

/** What the client did, from the raw answer of a `client` decision: accept, decline or cancel (null if unknown). */
export function clientAction(raw: string | undefined): 'accept' | 'decline' | 'cancel' | null {
  if (raw === undefined) return null;
  try {
    const action = (JSON.parse(raw) as { action?: unknown } | null)?.action;
    return action === 'accept' || action === 'decline' || action === 'cancel' ? action : null;
  } catch {
    return null; // a capped raw text is not JSON any more
  }
}

/**
 * A well-formed client answer that came `elapsedMs` after the question, faster than `minMs`: nobody
 * read it, the client answered by itself. Always a denial with source `client-auto`; `approving`
 * tells the caller it was an approval (which the caller may leave open for a person out of band).
 * Returns null when the answer is not a client's or came slowly enough to be a person's.
 */
export function automaticAnswer(answer: PersonAnswer, elapsedMs: number, minMs: number): { answer: PersonAnswer; approving: boolean } | null {
  if (answer.source !== 'client' || elapsedMs >= minMs) return null;
  const ms = Math.max(0, Math.round(elapsedMs));
  const action = clientAction(answer.raw);
  const what =
    action === 'cancel'
      ? 'dismissed the question without showing it'
      : action === 'decline'
        ? 'declined the question without showing it'
        : `answered '${answer.decision}' by itself`;
  return {
    answer: {
      decision: 'denied',
      source: 'client-auto',
      reason: `the MCP client ${what} ${ms} ms after it was asked, faster than a person can read it (minimum ${minMs} ms)`,
      ...(answer.raw === undefined ? {} : { raw: answer.raw }),
      ...(answer.user === undefined ? {} : { user: answer.user }),
    },
    approving: isApproving(answer.decision),
  };
}
