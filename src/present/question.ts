/**
 * The question a person decides, as facts every surface renders the same way: a title ("Run this
 * command?" / "Apply these edits?"), the command as typed, whether and why it looks dangerous,
 * where an approved run happens (sandbox, network, what "without the sandbox" grants), who asks,
 * the diff of a patch, and each choice in plain words with its key. Built from the recorded
 * request, classification and DecisionRequested, so `warden exec`, `warden approve`, the
 * inspector and the MCP message cannot drift apart. Pure.
 */
import type { AskReason, Decision } from '../policy.ts';
import type { EventData } from '../events/types.ts';
import { planExecution, type ApprovalRequest, type DecideInput } from '../machines/approval.machine.ts';
import { ASK_REASON_SENTENCES, DECISION_CHOICES, surfaceLabel } from './labels.ts';
import { cutDiff, diffStat, patchDiff, type DiffLine, type PatchDiff } from '../safety/patch/unifiedDiff.ts';
import { commandText, fileChangeText } from './text.ts';

type Classification = EventData<'Classified'>;

export interface QuestionFacts {
  request: ApprovalRequest;
  classification: Classification | null;
  reason: AskReason | null;
  offered: readonly Decision[];
  /** What the sandbox denied, when the question follows a denial. */
  escalation: string | null;
  /** The rules file an `approved_always` answer from this surface writes; null when unknown. */
  rulesPath: string | null;
}

export interface Choice {
  key: string;
  decision: Decision;
  label: string;
}

export interface Question {
  title: string;
  kind: 'exec' | 'patch';
  command: string | null;
  dangerous: boolean;
  reason: AskReason | null;
  /** Why it is asked, as a sentence. */
  why: string;
  /** The classifier's own words (which word or rule decided). */
  detail: string | null;
  escalation: string | null;
  justification: string | null;
  cwd: string;
  where: string;
  /** True when an approved run gets no sandbox at all. */
  unsandboxed: boolean;
  asker: string;
  files: string[];
  diff: PatchDiff | null;
  choices: Choice[];
  /** The choice Enter confirms: "No" for a dangerous command, else "Yes, once". */
  defaultDecision: Decision;
}

export const DECISION_KEYS: Record<Decision, string> = {
  approved: 'y',
  approved_for_session: 'a',
  approved_always: 'A',
  denied: 'n',
  abort: 'Esc',
};

function networkText(on: boolean): string {
  return on ? 'network on' : 'network off';
}

/** Where an approved run happens, from the same planExecution the machine uses. */
export function whereItRuns(f: Pick<QuestionFacts, 'request' | 'classification' | 'escalation'>): { text: string; unsandboxed: boolean } {
  const policy = f.request.policy;
  const plan = planExecution({
    request: f.request,
    classification: f.classification,
    escalation: f.escalation,
    decision: { decision: 'approved', source: 'user' },
  });
  if (plan.mode === null || plan.sandbox === 'none') {
    const why =
      policy.sandbox === 'danger-full-access'
        ? ' (the sandbox policy is danger-full-access)'
        : f.classification?.sandbox === 'none'
          ? ' (no sandbox is available here)'
          : '';
    return { text: `without the sandbox${why}: it can read and change every file you can, and use the network`, unsandboxed: true };
  }
  if (plan.mode === 'read-only') return { text: `in the read-only sandbox (${plan.sandbox}): it can read files but change none; ${networkText(policy.network)}`, unsandboxed: false };
  const roots = [f.request.cwd, ...policy.writableRoots];
  const tmp = policy.tmpWrite ? ' and /tmp' : '';
  return {
    text: `in the workspace-write sandbox (${plan.sandbox}): it can change files only under ${roots.join(', ')}${tmp}; ${networkText(policy.network)}`,
    unsandboxed: false,
  };
}

function choiceLabel(decision: Decision, f: QuestionFacts): string {
  const exec = f.request.kind === 'exec';
  switch (decision) {
    case 'approved':
      return DECISION_CHOICES.approved;
    case 'approved_for_session':
      return exec
        ? "Yes, and don't ask again for exactly this command in this directory, in this session"
        : "Yes, and don't ask again for this exact patch in this directory, in this session";
    case 'approved_always': {
      const prefix = f.classification?.proposedPrefix ?? [];
      const rule = prefix.length > 0 ? ` \`${commandText(prefix)} …\`` : '';
      const where = f.rulesPath ? `writes the rule to ${f.rulesPath}` : 'stores an allow rule in the rules file of the process that asked';
      return `Yes, and always allow${rule} (${where})`;
    }
    case 'denied':
      return 'No, and tell the agent (it goes on)';
    case 'abort':
      return 'No, and stop the agent (abort)';
  }
}

export function buildQuestion(f: QuestionFacts): Question {
  const r = f.request;
  const c = f.classification;
  const dangerous = c?.dangerous === true || f.reason === 'dangerous';
  const where = whereItRuns(f);
  const diff = r.kind === 'patch' ? patchDiff(r.patch ?? '') : null;
  const choices = f.offered.map((decision) => ({ key: DECISION_KEYS[decision], decision, label: choiceLabel(decision, f) }));
  const defaultDecision: Decision = dangerous && f.offered.includes('denied') ? 'denied' : (f.offered[0] ?? 'denied');
  return {
    title: r.kind === 'exec' ? 'Run this command?' : 'Apply these edits?',
    kind: r.kind,
    command: r.kind === 'exec' ? commandText(r.command ?? []) : null,
    dangerous,
    reason: f.reason,
    why: f.reason ? ASK_REASON_SENTENCES[f.reason] : 'warden could not tell it is safe',
    detail: c?.reason ?? null,
    escalation: f.escalation,
    justification: r.justification ?? null,
    cwd: r.cwd,
    where: where.text,
    unsandboxed: where.unsandboxed,
    asker: surfaceLabel(r.origin),
    files: (c?.files ?? []).map(fileChangeText),
    diff,
    choices,
    defaultDecision,
  };
}

/** The diff's lines for a surface with room for `maxLines`, the last one counting what was cut. */
export function diffForScreen(q: Question, maxLines: number): DiffLine[] {
  if (!q.diff) return [];
  return cutDiff(q.diff, maxLines).lines;
}

/** The question as plain text for a surface without colour (the MCP elicitation message). */
export function questionText(q: Question, opts: { maxDiffLines: number }): string {
  const lines = [q.title];
  if (q.command !== null) lines.push(`$ ${q.command}`);
  if (q.dangerous) lines.push(`DANGEROUS: ${q.detail ?? q.why}`);
  if (!(q.dangerous && q.reason === 'dangerous')) lines.push(`Why asked: ${q.why}${q.detail && !q.dangerous ? ` (${q.detail})` : ''}.`);
  if (q.escalation) lines.push(`The sandbox denied: ${q.escalation}`);
  if (q.justification) lines.push(`Agent's reason: ${q.justification}`);
  lines.push(`Where it runs: ${q.where}.`);
  lines.push(`Working directory: ${q.cwd}`);
  if (q.files.length > 0) lines.push(`Files: ${q.files.join(', ')}`);
  if (q.diff) {
    lines.push(`Changes: ${diffStat(q.diff)}`, '');
    for (const l of diffForScreen(q, opts.maxDiffLines)) lines.push(l.text);
  }
  lines.push('', 'Choices:');
  for (const c of q.choices) lines.push(`- ${c.label}`);
  return lines.join('\n');
}

/** The question of a recorded request (a summary folded from the store), for `approve` and the inspector. */
export function questionOfSummary(
  s: {
    request: ApprovalRequest;
    classification: Classification | null;
    askReason: string | null;
    offered: Decision[] | null;
    escalation: string | null;
  },
  rulesPath: string | null,
): Question {
  return buildQuestion({
    request: s.request,
    classification: s.classification,
    reason: (s.askReason as AskReason | null) ?? null,
    offered: s.offered ?? [],
    escalation: s.escalation,
    rulesPath,
  });
}

/** The question of a live request as the machine hands it to a person channel (terminal, MCP form). */
export function questionOfDecideInput(input: DecideInput, rulesPath: string | null): Question {
  return buildQuestion({
    request: input.request,
    classification: input.classification,
    reason: input.reason,
    offered: input.offered,
    escalation: input.escalation,
    rulesPath,
  });
}
