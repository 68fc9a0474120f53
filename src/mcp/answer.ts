/**
 * Reading a client's answer to `elicitation/create`, failing closed. MCP's result is
 * `{action, content?}`; only `accept` whose content is exactly `{decision: <one offered decision>}`
 * is that decision. `decline` and `cancel` are the person saying no. Anything else (wrong types,
 * look-alike strings, extra keys or nesting, huge values) is a denial with source `malformed`,
 * and the answer as received is kept for the record. Pure; no I/O.
 */
import { z } from 'zod';
import type { Decision } from '../policy.ts';
import type { PersonAnswer } from '../requests/decider.ts';

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
      return { decision: parsed.data.content.decision, source: 'user', reason: 'answered in the MCP client', raw, ...who };
    case 'decline':
      return { decision: 'denied', source: 'user', reason: 'the person declined in the MCP client', raw, ...who };
    case 'cancel':
      return { decision: 'denied', source: 'user', reason: 'the person cancelled the question in the MCP client', raw, ...who };
  }
}
