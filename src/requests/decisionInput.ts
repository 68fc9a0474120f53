/**
 * Turning an answer from outside into a decision, fail closed: only a value that is exactly one of
 * the offered decisions counts. Everything else (another type, a look-alike string, extra
 * whitespace, a nested object) is a denial with source `malformed` and the raw answer kept. Pure.
 */
import { DecisionSchema, type Decision } from '../policy.ts';
import { capRaw, type PersonAnswer } from './decider.ts';

function rawText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function parseDecisionInput(value: unknown, offered: readonly Decision[], user?: string): PersonAnswer {
  const parsed = DecisionSchema.safeParse(value);
  const raw = capRaw(rawText(value));
  if (parsed.success && offered.includes(parsed.data)) {
    return { decision: parsed.data, source: 'user', ...(user ? { user } : {}), ...(raw !== undefined ? { raw } : {}) };
  }
  return {
    decision: 'denied',
    source: 'malformed',
    reason: parsed.success ? `'${parsed.data}' was not offered` : 'the answer is not one of the decisions',
    ...(raw !== undefined ? { raw } : {}),
  };
}
