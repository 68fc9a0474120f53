/**
 * A unified-style line diff for `warden init --dry-run`: the exact change to each file, with two
 * lines of context around each hunk. Small config files only (longest common subsequence on the
 * lines between the common head and tail). Pure.
 */

const CONTEXT = 2;

export function lineDiff(path: string, before: string | null, after: string | null): string {
  const a = before === null ? [] : before.split('\n');
  const b = after === null ? [] : after.split('\n');
  if (a.at(-1) === '') a.pop();
  if (b.at(-1) === '') b.pop();
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  // LCS table over the middle only; config files differ in a few places.
  const lcs: number[][] = Array.from({ length: midA.length + 1 }, () => new Array<number>(midB.length + 1).fill(0));
  for (let i = midA.length - 1; i >= 0; i--) {
    for (let j = midB.length - 1; j >= 0; j--) lcs[i]![j] = midA[i] === midB[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const lines: Array<{ tag: ' ' | '-' | '+'; text: string }> = a.slice(0, head).map((text) => ({ tag: ' ', text }));
  let i = 0;
  let j = 0;
  while (i < midA.length || j < midB.length) {
    if (i < midA.length && j < midB.length && midA[i] === midB[j]) {
      lines.push({ tag: ' ', text: midA[i]! });
      i++;
      j++;
    } else if (j < midB.length && (i === midA.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      lines.push({ tag: '+', text: midB[j++]! });
    } else {
      lines.push({ tag: '-', text: midA[i++]! });
    }
  }
  lines.push(...a.slice(a.length - tail).map((text) => ({ tag: ' ' as const, text })));
  const keep = lines.map((_, k) => lines.slice(Math.max(0, k - CONTEXT), k + CONTEXT + 1).some((l) => l.tag !== ' '));
  const out = [`--- ${before === null ? '/dev/null' : path}`, `+++ ${after === null ? '/dev/null' : path}`];
  lines.forEach((l, k) => {
    if (keep[k]) out.push(`${l.tag}${l.text}`);
    else if (k > 0 && keep[k - 1]) out.push('@@');
  });
  return `${out.join('\n')}\n`;
}
