/**
 * Terminal styling that switches itself off: colour only on a terminal that is not `dumb`, and
 * never when NO_COLOR is set (https://no-color.org) unless FORCE_COLOR asks for it. A disabled
 * style returns the text unchanged, so callers never branch on colour. Pure apart from reading
 * the stream's isTTY and the environment given.
 */
import type { DiffLine } from '../safety/patch/unifiedDiff.ts';

export interface Style {
  readonly enabled: boolean;
  bold(t: string): string;
  dim(t: string): string;
  red(t: string): string;
  green(t: string): string;
  yellow(t: string): string;
  cyan(t: string): string;
  inverse(t: string): string;
}

export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const sgr = (open: string, close: string) => (t: string) => `\x1b[${open}m${t}\x1b[${close}m`;

export function makeStyle(enabled: boolean): Style {
  if (!enabled) {
    const id = (t: string) => t;
    return { enabled, bold: id, dim: id, red: id, green: id, yellow: id, cyan: id, inverse: id };
  }
  return {
    enabled,
    bold: sgr('1', '22'),
    dim: sgr('2', '22'),
    red: sgr('31', '39'),
    green: sgr('32', '39'),
    yellow: sgr('33', '39'),
    cyan: sgr('36', '39'),
    inverse: sgr('7', '27'),
  };
}

/** One diff line in the terminal's colours: + green, - red, headers bold, hunks cyan. */
export function styleDiffLine(style: Style, line: DiffLine, text: string = line.text): string {
  switch (line.kind) {
    case 'add':
      return style.green(text);
    case 'del':
      return style.red(text);
    case 'file':
      return style.bold(text);
    case 'hunk':
      return style.cyan(text);
    case 'meta':
    case 'note':
      return style.dim(text);
    case 'ctx':
      return text;
  }
}
