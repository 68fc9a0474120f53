/**
 * A person channel: how a surface asks a person one request's question (the terminal, an MCP
 * client's elicitation) and the answer it gives back. askForDecision.ts races a channel against the
 * store and the timer; the channels live with their surfaces (cli/ttyChannel.ts, mcp/channel.ts).
 * Types only.
 */
import type { DecisionSource, Decision } from '../policy.ts';
import type { DecideInput } from '../machines/approval.machine.ts';

export interface PersonAnswer {
  decision: Decision;
  source: DecisionSource;
  reason?: string;
  user?: string;
  /** The answer as received, for the record (capped here). */
  raw?: string;
}

/** What a channel may tell askForDecision beside its answer. */
export interface AskHooks {
  /**
   * The channel got an answer it will not take (an MCP client approving faster than a person can
   * read): the question stays open out of band, and if the decision timeout passes first this is
   * recorded instead of a plain timeout, so the record says what the client did.
   */
  recordOnTimeout(answer: PersonAnswer): void;
}

export interface PersonChannel {
  /**
   * Asks the person. Resolves with their answer (a malformed one already mapped to a denial with
   * source `malformed`); rejects when the channel broke. Stops asking when `signal` aborts.
   */
  ask(input: DecideInput, signal: AbortSignal, hooks?: AskHooks): Promise<PersonAnswer>;
}
