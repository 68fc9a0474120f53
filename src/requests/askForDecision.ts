/**
 * The `decide` effect, askForDecision: asks a person through whatever channel the surface has (terminal, MCP
 * elicitation) while watching the store for a decision given elsewhere (`warden approve`, the
 * inspector), and gives up with a denial when the decision timeout passes. The first answer that is
 * durably recorded wins; optimistic concurrency on the request's stream makes that unambiguous.
 */
import type { EventStore } from '../events/eventStore.ts';
import { RAW_ANSWER_CAP } from '../events/types.ts';
import { logger } from '../log.ts';
import { messageOf, isStoreLostError } from '../errors.ts';
import type { DecideInput, RecordedDecision } from '../machines/approval.machine.ts';
import type { StreamJournal } from './streamJournal.ts';
import type { AskHooks, PersonAnswer, PersonChannel } from './personChannel.ts';

export interface AskForDecisionOptions {
  store: EventStore;
  /**
   * The surface's person channel (a terminal), used when a request brings none of its own (an MCP
   * tool call brings its client's). null: nobody can be asked here; only a decision stored by
   * another process (or the timeout) can come.
   */
  channel: PersonChannel | null;
  /** null: wait as long as it takes. */
  timeoutMs: number | null;
  /** Called after an `approved_always` decision is recorded, to store the allow rule. */
  onAlwaysApproved?: (prefix: string[]) => Promise<void>;
  /** Called after an `approved_always` answer to a domain question, to store the names (`[network]`). */
  onDomainsAlwaysApproved?: (domains: string[]) => Promise<void>;
}

export function capRaw(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return raw.length <= RAW_ANSWER_CAP ? raw : `${raw.slice(0, RAW_ANSWER_CAP)}…[${raw.length - RAW_ANSWER_CAP} more chars]`;
}

function toRecord(answer: PersonAnswer, input: DecideInput): RecordedDecision {
  // A decision the question did not offer (e.g. approved_always for a shell) is not an answer to it.
  const offered = input.offered.includes(answer.decision);
  const data: RecordedDecision = offered
    ? { decision: answer.decision, source: answer.source }
    : { decision: 'denied', source: 'malformed', reason: `'${answer.decision}' was not offered` };
  if (offered && answer.reason) data.reason = answer.reason;
  if (answer.user) data.user = answer.user;
  const raw = capRaw(answer.raw);
  if (raw !== undefined) data.raw = raw;
  // "Always" to a domain question stores the names, never the command: the question was about them.
  const domains = input.reason === 'network-domain' ? (input.escalatedDomains ?? []) : [];
  if (data.decision === 'approved_always' && domains.length > 0) data.ruleDomains = domains;
  else if (data.decision === 'approved_always' && input.classification.proposedPrefix) {
    data.rulePrefix = input.classification.proposedPrefix;
  }
  return data;
}

/**
 * One store subscription per process, shared by every waiting request: thousands of requests
 * waiting at once must not mean thousands of subscribers re-reading the log on every append.
 */
interface DecisionWatch {
  /** Each waiter is called with nothing when its decision is stored, or with the error that lost the store. */
  waiters: Map<string, Set<(lost?: unknown) => void>>;
  close(): void;
}
const watches = new WeakMap<EventStore, DecisionWatch>();

function watchForDecision(store: EventStore, stream: string, from: number, onDecision: (lost?: unknown) => void): () => void {
  let watch = watches.get(store);
  if (!watch) {
    const waiters = new Map<string, Set<(lost?: unknown) => void>>();
    const sub = store.subscribe(
      from,
      (e) => {
        if (e.type !== 'DecisionRecorded') return;
        const set = waiters.get(e.stream);
        if (set) for (const notify of [...set]) notify();
      },
      (error) => {
        // The store file is gone: no decision can be recorded or seen any more, so nobody waits for one.
        if (isStoreLostError(error)) {
          for (const set of [...waiters.values()]) for (const notify of [...set]) notify(error);
          return;
        }
        logger().warn({ err: error }, 'store subscription failed while waiting for decisions');
      },
    );
    const created: DecisionWatch = { waiters, close: () => sub.close() };
    watches.set(store, created);
    watch = created;
  }
  const current = watch;
  let set = current.waiters.get(stream);
  if (!set) current.waiters.set(stream, (set = new Set()));
  let fired = false;
  const notify = (lost?: unknown) => {
    if (fired) return;
    fired = true;
    onDecision(lost);
  };
  set.add(notify);
  // The shared feed may already be past this stream's question: look once directly, after registering.
  void store.read(stream).then(
    (events) => {
      if (events.some((e) => e.position >= from && e.type === 'DecisionRecorded')) notify();
    },
    (error: unknown) => {
      if (isStoreLostError(error)) notify(error);
    },
  );
  return () => {
    set.delete(notify);
    if (set.size === 0) current.waiters.delete(stream);
    if (current.waiters.size === 0) {
      current.close();
      if (watches.get(store) === current) watches.delete(store);
    }
  };
}

/** The `decide` effect for a surface: ask this request's channel (or the surface's), watch the store, start the timer; the first durable answer wins. */
export function askForDecision(opts: AskForDecisionOptions) {
  return async function askAndRecord(input: DecideInput, journal: StreamJournal, requestChannel?: PersonChannel): Promise<RecordedDecision> {
    const channel = requestChannel ?? opts.channel;
    const controller = new AbortController();
    const from = (journal.stored.at(-1)?.position ?? 0) + 1;
    const contenders: Array<Promise<{ kind: 'answer'; answer: PersonAnswer } | { kind: 'stored' } | { kind: 'lost'; error: unknown }>> = [];
    let onTimeout: PersonAnswer | null = null;
    const hooks: AskHooks = { recordOnTimeout: (answer) => (onTimeout = answer) };

    contenders.push(
      new Promise((resolve) => {
        const stop = watchForDecision(opts.store, input.requestId, from, (lost) =>
          resolve(lost === undefined ? { kind: 'stored' } : { kind: 'lost', error: lost }),
        );
        controller.signal.addEventListener('abort', stop, { once: true });
      }),
    );
    if (channel) {
      contenders.push(
        channel.ask(input, controller.signal, hooks).then(
          (answer) => ({ kind: 'answer' as const, answer }),
          (error: unknown) => ({
            kind: 'answer' as const,
            answer: {
              decision: 'denied' as const,
              source: 'error' as const,
              reason: `asking failed: ${messageOf(error)}`,
            },
          }),
        ),
      );
    }
    if (opts.timeoutMs !== null) {
      const ms = opts.timeoutMs;
      contenders.push(
        new Promise((resolve) => {
          const timer = setTimeout(() => {
            const why = `no decision within ${ms / 1000} s`;
            const held: PersonAnswer | null = onTimeout;
            const answer: PersonAnswer = held
              ? { ...held, decision: 'denied', reason: `${held.reason ?? 'not taken as a decision'}; ${why} out of band` }
              : { decision: 'denied', source: 'timeout', reason: why };
            resolve({ kind: 'answer', answer });
          }, ms);
          controller.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
        }),
      );
    }

    let recorded: RecordedDecision | undefined;
    try {
      const first = await Promise.race(contenders);
      // Fail closed: the question is withdrawn (the channel stops asking) and the request ends as a
      // store failure; a denial cannot be recorded in a store that is gone.
      if (first.kind === 'lost') throw first.error;
      if (first.kind === 'stored') {
        const adopted = await journal.adoptStoredDecision();
        if (!adopted) throw new Error('a decision event appeared but could not be read back');
        recorded = adopted;
      } else {
        recorded = await journal.recordDecision(toRecord(first.answer, input));
      }
      // The rule goes into this process's rules file whoever answered: it is this server's policy that changes.
      if (recorded.decision === 'approved_always' && recorded.rulePrefix && opts.onAlwaysApproved) {
        try {
          await opts.onAlwaysApproved(recorded.rulePrefix);
        } catch (error) {
          logger().error({ err: error }, 'could not store the always-allow rule; this request is still approved');
        }
      }
      if (recorded.decision === 'approved_always' && recorded.ruleDomains && opts.onDomainsAlwaysApproved) {
        try {
          await opts.onDomainsAlwaysApproved(recorded.ruleDomains);
        } catch (error) {
          logger().error({ err: error }, 'could not store the always-allowed domains; this retry still has them');
        }
      }
      return recorded;
    } finally {
      // the reason tells a channel still asking what was recorded (so it says "decided elsewhere" only then)
      controller.abort(recorded);
    }
  };
}
