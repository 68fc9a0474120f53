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
import { isSubcommandPrefix } from '../safety/ruleMatch.ts';
import { isDangerousCommand } from '../safety/dangerous.ts';
import { ShellGrammarNotLoadedError } from '../safety/shellParse.ts';

type Classification = EventData<'Classified'>;

export interface QuestionFacts {
  request: ApprovalRequest;
  classification: Classification | null;
  reason: AskReason | null;
  offered: readonly Decision[];
  /** What the sandbox denied, when the question follows a denial. */
  escalation: string | null;
  /** A domain question: the refused names a yes allows (absent or null for every other question). */
  domains?: string[] | null;
  /** The person approved it once already and the sandbox blocked that run: this asks whether to run it bare. */
  blockedApproval?: boolean;
  /** The rules file an `approved_always` answer from this surface writes; null when unknown. */
  rulesPath: string | null;
  /**
   * Decided from another process (`warden approve`, the inspector): the process that asked also
   * writes the rule into its own rules file when it adopts the decision (src/requests/askForDecision.ts),
   * so the label names both rather than leave that write unsaid.
   */
  outOfBand?: boolean;
}

/** Where an `approved_always` rule goes, as the choice says it before the key is pressed. */
function ruleWhere(f: QuestionFacts, what: string): string {
  if (!f.rulesPath) return `${what} the rules file of the process that asked`;
  return f.outOfBand ? `${what} ${f.rulesPath}; the process that asked adds it to its own rules file too` : `${what} ${f.rulesPath}`;
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
  /** A domain question: the names the choices are about; empty otherwise. */
  domains: string[];
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
export function whereItRuns(f: Pick<QuestionFacts, 'request' | 'classification' | 'escalation' | 'domains'>): { text: string; unsandboxed: boolean } {
  const policy = f.request.policy;
  const plan = planExecution({
    request: f.request,
    classification: f.classification,
    escalation: f.escalation,
    escalatedDomains: f.domains ?? null,
    decision: { decision: 'approved', source: 'user' },
  });
  if (plan.mode === null || plan.sandboxType === 'none') {
    const why =
      policy.sandbox === 'danger-full-access'
        ? ' (the sandbox policy is danger-full-access)'
        : f.classification?.sandbox === 'none'
          ? ' (no sandbox is available here)'
          : '';
    return { text: `without the sandbox${why}: it can read and change every file you can, and use the network`, unsandboxed: true };
  }
  const net = plan.domains ? `network off except ${plan.domains.join(', ')} and the domains already allowed, through warden's proxy` : networkText(policy.network);
  if (plan.writable !== undefined) {
    return {
      text: `in the sandbox (${plan.sandboxType}) with only the patch's own directories writable (${plan.writable.join(', ')}); nothing else, not even the rest of the workspace`,
      unsandboxed: false,
    };
  }
  if (plan.mode === 'read-only') return { text: `in the read-only sandbox (${plan.sandboxType}): it can read files but change none; ${net}`, unsandboxed: false };
  const roots = [f.request.cwd, ...policy.writableRoots];
  const tmp = policy.tmpWrite ? ' and /tmp' : '';
  return {
    text: `in the workspace-write sandbox (${plan.sandboxType}): it can change files only under ${roots.join(', ')}${tmp}; ${net}`,
    unsandboxed: false,
  };
}

/** The choices of a domain question: about the names, never the command (it is retried once either way). */
function domainChoiceLabel(decision: Decision, domains: string[], f: QuestionFacts): string {
  const names = domains.join(', ');
  switch (decision) {
    case 'approved':
      return `Yes, allow ${names} for this retry only`;
    case 'approved_for_session':
      return `Yes, allow ${names} for this session (any command of it)`;
    case 'approved_always': {
      const where = ruleWhere(f, f.rulesPath ? 'writes it to the [network] table of' : 'writes it to');
      return `Yes, always allow ${names} (${where})`;
    }
    case 'denied':
      return `No, leave ${names} refused and tell the agent (it goes on)`;
    case 'abort':
      return 'No, and stop the agent (abort)';
  }
}

function choiceLabel(decision: Decision, f: QuestionFacts): string {
  const domains = f.reason === 'network-domain' ? (f.domains ?? []) : [];
  if (domains.length > 0) return domainChoiceLabel(decision, domains, f);
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
      // `git push …` covers later operands; a literal argv is stored exact, so no `…` after it
      const rule = prefix.length === 0 ? '' : isSubcommandPrefix(prefix) ? ` \`${commandText(prefix)} …\`` : ` exactly \`${commandText(prefix)}\``;
      const where = ruleWhere(f, f.rulesPath ? 'writes the rule to' : 'stores an allow rule in');
      return `Yes, and always allow${rule} (${where})`;
    }
    // `warden exec` on a terminal may be a person's own command: no agent to tell, an exit status
    case 'denied':
      return f.request.origin.surface === 'exec' ? "No, don't run it (warden exits 126)" : 'No, and tell the agent (it goes on)';
    case 'abort':
      return f.request.origin.surface === 'exec' ? 'No, and abort (warden exits 130)' : 'No, and stop the agent (abort)';
  }
}

/**
 * Which part made a command dangerous: the sub-commands the classifier parsed that are dangerous
 * on their own (`rm -rf build` inside `cd x && rm -rf build`), named as typed; the classifier's
 * sentence when none is (the danger sits deeper, in a nested script).
 */
function dangerDetail(c: Classification | null): string | null {
  let parts: string[];
  try {
    parts = (c?.commands ?? []).filter((argv) => isDangerousCommand(argv)).map((argv) => `\`${commandText(argv)}\``);
  } catch (error) {
    // `warden approve` and the inspector show questions without loading the shell grammar: a
    // part with a script inside then gets the classifier's own sentence
    if (!(error instanceof ShellGrammarNotLoadedError)) throw error;
    parts = [];
  }
  if (parts.length === 0) return c?.reason ?? null;
  return `${parts.slice(0, 3).join(', ')}${parts.length > 3 ? ` and ${parts.length - 3} more` : ''} might destroy data or history`;
}

export function buildQuestion(f: QuestionFacts): Question {
  const r = f.request;
  const c = f.classification;
  const dangerous = c?.dangerous === true || f.reason === 'dangerous';
  const where = whereItRuns(f);
  const diff = r.kind === 'patch' ? patchDiff(r.patch ?? '') : null;
  const choices = f.offered.map((decision) => ({ key: DECISION_KEYS[decision], decision, label: choiceLabel(decision, f) }));
  const defaultDecision: Decision = dangerous && f.offered.includes('denied') ? 'denied' : (f.offered[0] ?? 'denied');
  const domains = f.reason === 'network-domain' ? (f.domains ?? []) : [];
  return {
    title: domains.length > 0 ? `Let this command reach ${domains.join(', ')}?` : r.kind === 'exec' ? 'Run this command?' : 'Apply these edits?',
    kind: r.kind,
    command: r.kind === 'exec' ? commandText(r.command ?? []) : null,
    dangerous,
    reason: f.reason,
    why: f.blockedApproval && f.escalation && domains.length === 0
      ? `you approved it, but the sandbox blocked it (${f.escalation}); approving again runs it without the sandbox`
      : // "not known to be read-only (not a known-safe command (`touch` is not ...))": the
        // classifier's own words already say it, naming the program, so they stand alone
        f.reason === 'not-known-safe' && c?.reason
        ? c.reason
        : f.reason
          ? ASK_REASON_SENTENCES[f.reason]
          : 'warden could not tell it is safe',
    detail: dangerous ? dangerDetail(c) : f.reason === 'not-known-safe' && !(f.blockedApproval && f.escalation) ? null : (c?.reason ?? null),
    escalation: f.escalation,
    domains,
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
  if (q.domains.length > 0) lines.push(`Domains asked about: ${q.domains.join(', ')} (a yes reaches their public addresses only)`);
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
    escalatedDomains?: string[] | null;
    blockedApproval?: boolean;
  },
  rulesPath: string | null,
): Question {
  return buildQuestion({
    request: s.request,
    classification: s.classification,
    reason: (s.askReason as AskReason | null) ?? null,
    offered: s.offered ?? [],
    escalation: s.escalation,
    domains: s.escalatedDomains ?? null,
    blockedApproval: s.blockedApproval === true,
    rulesPath,
    outOfBand: true,
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
    domains: input.escalatedDomains ?? null,
    blockedApproval: input.blockedApproval === true,
    rulesPath,
  });
}
