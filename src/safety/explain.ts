/**
 * `warden explain`'s report: for each sub-command and each word, why it is or is not known-safe or
 * dangerous, which rules matched and which one won (and why an allow rule declined), the sandbox
 * the command would run in, and the rule "always allow" would store. Pure: built from the same
 * functions classifyExec uses, so the explanation cannot drift from the verdict.
 */
import { classifyExec } from './classifyExec.ts';
import { isDangerousCommand } from './dangerous.ts';
import { checkKnownSafe, checkProgram } from './knownSafe.ts';
import { findRiskyWord } from './programs/riskyOptions.ts';
import type { RiskKind } from './programs/optionTable.ts';

const RISK_NOTE: Record<RiskKind, string> = { exec: 'runs a program', write: 'writes', read: 'reads outside the workspace' };
import { knownSafeRunArgv } from './programs/gitHardening.ts';
import { type RuleSet, declinedAllowRules, matchRules } from './ruleMatch.ts';
import { parseWordOnlyScriptDetailed, shellScriptOf } from './shellParse.ts';
import type { Classification, ExecClassificationInput } from './types.ts';

export interface WordNote {
  word: string;
  note: string;
}

export interface SubCommandReport {
  words: string[];
  knownSafe: boolean;
  /** The word that decided a not-known-safe verdict, and why. */
  decidingWord: string | null;
  why: string | null;
  dangerous: boolean;
  perWord: WordNote[];
  rules: Array<{ rule: string; decision: string; covers: boolean; why: string }>;
}

export interface ExplainReport {
  command: string[];
  classification: Classification;
  /** For a shell form whose script did not parse: why the whole argv is opaque. */
  scriptNote: string | null;
  subCommands: SubCommandReport[];
  alwaysAllow: string[] | null;
  /** The argv warden runs (a known-safe plain git diff/log/show gets --no-ext-diff --no-textconv). */
  runsAs: string[];
}

function ruleName(index: number, pattern: string[][], rules: RuleSet): string {
  return `rule #${index + 1}${rules.source === null ? '' : ` of ${rules.source}`} (${pattern.map((a) => a.join('|')).join(' ')})`;
}

export function explainExec(input: ExecClassificationInput, rules: RuleSet): ExplainReport {
  const classification = classifyExec(input, rules);
  const shell = shellScriptOf(input.command.map((a) => (a === 'zsh' ? 'bash' : a)));
  let commands: string[][] = [input.command];
  let scriptNote: string | null = null;
  let expansion: Array<'none' | 'prefixed' | 'unsafe'> = ['none'];
  let expandingWord: Array<string | null> = [null];
  if (shell !== null) {
    const parsed = parseWordOnlyScriptDetailed(shell.script);
    if (parsed === null) {
      const whole = checkKnownSafe(input.command, { locate: input.programs, cwd: input.cwd });
      scriptNote = whole.safe ? null : whole.why;
    } else {
      commands = parsed.commands;
      expansion = parsed.expansion;
      expandingWord = parsed.expandingWord;
    }
  }
  const subCommands = commands.map((words, i): SubCommandReport => {
    const verdict = shell !== null && scriptNote === null ? checkProgram(words, expansion[i] ?? 'unsafe', { locate: input.programs }, expandingWord[i] ?? null) : checkKnownSafe(words, { locate: input.programs });
    const perWord = words.map((word, at): WordNote => {
      if (at === 0) return { word, note: 'program' };
      // the whole argv: an option's value may be the next word (`npm test -w ../x`)
      const risky = findRiskyWord(words, at);
      if (risky !== null && risky.word === word) return { word, note: `${RISK_NOTE[risky.kind]}: ${risky.why}` };
      if (!verdict.safe && verdict.word === word) return { word, note: `decides: ${verdict.why}` };
      return { word, note: verdict.safe ? 'understood' : '' };
    });
    const matched = matchRules(rules, words).matched.map((r) => ({ rule: ruleName(r.index, r.pattern, rules), decision: r.decision, covers: true, why: r.justification }));
    const declined = declinedAllowRules(rules, words).map((d) => ({ rule: ruleName(d.rule.index, d.rule.pattern, rules), decision: 'allow', covers: false, why: d.why }));
    return {
      words,
      knownSafe: verdict.safe,
      decidingWord: verdict.safe ? null : verdict.word,
      why: verdict.safe ? null : verdict.why,
      dangerous: isDangerousCommand(words),
      perWord,
      rules: [...matched, ...declined],
    };
  });
  const runsAs = classification.knownSafe ? knownSafeRunArgv(input.command, classification.commands) : [...input.command];
  return { command: [...input.command], classification, scriptNote, subCommands, alwaysAllow: classification.proposedPrefix ?? null, runsAs };
}

/** The report as text for a person. */
export function formatExplain(report: ExplainReport): string {
  const c = report.classification;
  const lines: string[] = [];
  lines.push(`command: ${JSON.stringify(report.command)}`);
  lines.push(`verdict: ${c.outcome}${c.askReason ? ` (${c.askReason})` : ''}${c.decisionSource ? ` by ${c.decisionSource}` : ''}`);
  lines.push(`reason: ${c.reason}`);
  // a known-safe command runs in the read-only sandbox whatever the policy's mode (planExecution)
  lines.push(`sandbox: ${c.sandbox === 'none' ? 'none (runs bare)' : c.knownSafe ? `${c.sandbox} (read-only: known-safe)` : `${c.sandbox}`}`);
  if (report.runsAs.length !== report.command.length || report.runsAs.some((w, i) => w !== report.command[i])) lines.push(`runs as: ${JSON.stringify(report.runsAs)}`);
  if (report.scriptNote !== null) lines.push(`script: ${report.scriptNote}`);
  report.subCommands.forEach((s, i) => {
    lines.push(`sub-command ${i + 1}: ${s.words.join(' ')}`);
    lines.push(`  known-safe: ${s.knownSafe ? 'yes' : `no (${s.why})`}`);
    lines.push(`  dangerous: ${s.dangerous ? 'yes' : 'no'}`);
    for (const w of s.perWord) lines.push(`    ${JSON.stringify(w.word)}${w.note === '' ? '' : `: ${w.note}`}`);
    if (s.rules.length === 0) lines.push('  rules: none match');
    for (const r of s.rules) lines.push(`  ${r.rule}: ${r.decision}${r.covers ? ` matches (${r.why})` : ` does not cover it: ${r.why}`}`);
  });
  lines.push(`always allow would store: ${report.alwaysAllow === null ? 'nothing (not offered)' : JSON.stringify(report.alwaysAllow)}`);
  if (c.runEnv) lines.push(`runs with git's exec hooks off: ${Object.keys(c.runEnv).length} environment settings`);
  return `${lines.join('\n')}\n`;
}
