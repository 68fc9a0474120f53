/**
 * The question on a terminal: title, the command highlighted (red when dangerous, with the words
 * that made it so), why, where it runs, who asks, the coloured diff of a patch, then the choices
 * with their keys. Used by the `warden exec` prompt and by `warden approve`'s detail view. Every
 * text an agent chose passes through `visible` first (no escape sequences of its own). Pure.
 */
import type { Decision } from '../policy.ts';
import { styleDiffLine, type Style } from './ansi.ts';
import { diffStat } from '../safety/patch/unifiedDiff.ts';
import { diffForScreen, type Question } from './question.ts';
import { visible } from './text.ts';

/** Word-wraps `text` to `width` columns, later lines indented by `indent` spaces. */
export function wrap(text: string, width: number, indent: number): string[] {
  const room = Math.max(20, width - indent);
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/ +/)) {
    if (line !== '' && line.length + 1 + word.length > room) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out.map((l, i) => (i === 0 ? l : `${' '.repeat(indent)}${l}`));
}

/** `label  text`, the text wrapped under itself; `tone` colours label and text (red for a warning). */
function labelled(style: Style, label: string, text: string, width: number, tone?: (t: string) => string): string[] {
  const pad = 11;
  const [first = '', ...rest] = wrap(visible(text), width, pad + 2);
  if (tone) return [`  ${tone(label.padEnd(pad))}${tone(first)}`, ...rest.map(tone)];
  return [`  ${style.dim(label.padEnd(pad))}${first}`, ...rest];
}

export function questionLines(q: Question, style: Style, opts: { width: number; maxDiffLines: number; asker?: boolean }): string[] {
  const lines: string[] = [''];
  const title = q.dangerous ? style.red(style.bold(`⚠ ${q.title}`)) : style.bold(q.title);
  lines.push(`${style.yellow('warden')} ${title}`);
  if (q.command !== null) {
    const cmd = visible(q.command);
    lines.push('', `    ${style.dim('$')} ${q.dangerous ? style.red(style.bold(cmd)) : style.bold(style.cyan(cmd))}`, '');
  }
  const warn = (t: string) => style.red(style.bold(t));
  if (q.dangerous) lines.push(...labelled(style, 'DANGEROUS', q.detail ?? q.why, opts.width, warn));
  if (!(q.dangerous && q.reason === 'dangerous')) lines.push(...labelled(style, 'why', `${q.why}${q.detail && !q.dangerous ? ` (${q.detail})` : ''}`, opts.width));
  if (q.escalation) lines.push(...labelled(style, 'blocked', q.escalation, opts.width));
  if (q.domains.length > 0) lines.push(...labelled(style, 'domains', `${q.domains.join(', ')} (a yes reaches their public addresses only)`, opts.width, style.yellow));
  if (q.justification) lines.push(...labelled(style, 'agent says', q.justification, opts.width));
  lines.push(...labelled(style, 'runs', q.where, opts.width, q.unsandboxed ? style.red : undefined));
  lines.push(...labelled(style, 'in', q.cwd, opts.width));
  if (opts.asker !== false) lines.push(...labelled(style, 'asked by', q.asker, opts.width));
  if (q.diff) {
    lines.push(...labelled(style, 'changes', diffStat(q.diff), opts.width), '');
    for (const l of diffForScreen(q, opts.maxDiffLines)) lines.push(`    ${styleDiffLine(style, l, visible(l.text))}`);
  } else if (q.files.length > 0) {
    for (const f of q.files) lines.push(`    ${visible(f)}`);
  }
  lines.push('');
  return lines;
}

/**
 * The choices, one each, with the highlighted one marked (and Enter's meaning in the footer). A
 * label longer than the terminal wraps under itself at a word, not mid-word at the screen edge.
 */
export function choiceLines(q: Question, style: Style, highlighted: Decision | null, width = 100): string[] {
  return q.choices.flatMap((c) => {
    const key = c.key.padStart(3);
    const [first = '', ...rest] = wrap(visible(c.label), width - 2, 5);
    const lines = [`${key}  ${first}`, ...rest];
    if (c.decision === highlighted) return lines.map((l, i) => `${i === 0 ? style.bold('›') : ' '} ${style.inverse(l)}`);
    return lines.map((l) => `  ${l}`);
  });
}
