/**
 * The `decide` effect: asks a person through whatever channel the surface has (terminal, MCP
 * elicitation) while watching the store for a decision given elsewhere (`warden approve`, the
 * inspector), and gives up with a denial when the decision timeout passes. The first answer that is
 * durably recorded wins; optimistic concurrency on the request's stream makes that unambiguous.
 */
import type { EventStore } from '../events/eventStore.ts';
import { RAW_ANSWER_CAP } from '../events/types.ts';
import type { DecisionSource, Decision } from '../policy.ts';
import { logger } from '../log.ts';
import type { DecideInput, RecordedDecision } from '../machines/approval.machine.ts';
import type { StreamJournal } from './streamJournal.ts';

export interface PersonAnswer {
  decision: Decision;
  source: DecisionSource;
  reason?: string;
  user?: string;
  /** The answer as received, for the record (capped here). */
  raw?: string;
}

/** What a channel may tell the decider beside its answer. */
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

export interface DeciderOptions {
  store: EventStore;
  /** null: nobody can be asked here; only a decision stored by another process (or the timeout) can come. */
  channel: PersonChannel | null;
  /** null: wait as long as it takes. */
  timeoutMs: number | null;
  /** Called after an `approved_always` decision is recorded, to store the allow rule. */
  onAlwaysApproved?: (prefix: string[]) => Promise<void>;
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
  if (data.decision === 'approved_always' && input.classification.proposedPrefix) {
    data.rulePrefix = input.classification.proposedPrefix;
  }
  return data;
}

/**
 * One store subscription per process, shared by every waiting request: thousands of requests
 * waiting at once must not mean thousands of subscribers re-reading the log on every append.
 */
interface DecisionWatch {
  waiters: Map<string, Set<() => void>>;
  close(): void;
}
const watches = new WeakMap<EventStore, DecisionWatch>();

function watchForDecision(store: EventStore, stream: string, from: number, onDecision: () => void): () => void {
  let watch = watches.get(store);
  if (!watch) {
    const waiters = new Map<string, Set<() => void>>();
    const sub = store.subscribe(
      from,
      (e) => {
        if (e.type !== 'DecisionRecorded') return;
        const set = waiters.get(e.stream);
        if (set) for (const notify of [...set]) notify();
      },
      (error) => logger().warn({ err: error }, 'store subscription failed while waiting for decisions'),
    );
    const created: DecisionWatch = { waiters, close: () => sub.close() };
    watches.set(store, created);
    watch = created;
  }
  const current = watch;
  let set = current.waiters.get(stream);
  if (!set) current.waiters.set(stream, (set = new Set()));
  let fired = false;
  const notify = () => {
    if (fired) return;
    fired = true;
    onDecision();
  };
  set.add(notify);
  // The shared feed may already be past this stream's question: look once directly, after registering.
  void store.read(stream).then(
    (events) => {
      if (events.some((e) => e.position >= from && e.type === 'DecisionRecorded')) notify();
    },
    () => undefined,
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

export function createDecider(opts: DeciderOptions) {
  return async function decide(input: DecideInput, journal: StreamJournal): Promise<RecordedDecision> {
    const controller = new AbortController();
    const from = (journal.stored.at(-1)?.position ?? 0) + 1;
    const contenders: Array<Promise<{ kind: 'answer'; answer: PersonAnswer } | { kind: 'stored' }>> = [];
    let onTimeout: PersonAnswer | null = null;
    const hooks: AskHooks = { recordOnTimeout: (answer) => (onTimeout = answer) };

    contenders.push(
      new Promise((resolve) => {
        const stop = watchForDecision(opts.store, input.requestId, from, () => resolve({ kind: 'stored' }));
        controller.signal.addEventListener('abort', stop, { once: true });
      }),
    );
    if (opts.channel) {
      contenders.push(
        opts.channel.ask(input, controller.signal, hooks).then(
          (answer) => ({ kind: 'answer' as const, answer }),
          (error: unknown) => ({
            kind: 'answer' as const,
            answer: {
              decision: 'denied' as const,
              source: 'error' as const,
              reason: `asking failed: ${error instanceof Error ? error.message : String(error)}`,
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
      return recorded;
    } finally {
      // the reason tells a channel still asking what was recorded (so it says "decided elsewhere" only then)
      controller.abort(recorded);
    }
  };
}
