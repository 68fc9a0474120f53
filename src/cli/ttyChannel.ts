/**
 * Asking a person on the terminal: the question goes to stderr (stdout is the command's), and keys
 * are read from the TTY in raw mode. Keys: y yes once, a yes for this session, A always allow
 * (only when offered), n no, Esc abort, Ctrl-C abort; Up/Down move the highlight and Enter confirms
 * it (the highlighted default is "No" for a dangerous command). Any other key shows a hint and the
 * prompt stays. With a decision timeout the footer counts down. After the answer one history line
 * stays behind ("✔ approved once: touch x"). Input ending before a key is an error (a denial
 * upstream). The question's words come from src/present (one table for every surface).
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import type { ReadStream } from 'node:tty';
import { isApproving, type Decision } from '../policy.ts';
import type { PersonAnswer, PersonChannel } from '../requests/personChannel.ts';
import type { DecideInput, RecordedDecision } from '../machines/approval.machine.ts';
import { colourWanted, makeStyle, type Style } from '../present/ansi.ts';
import { DECISION_DONE, DECISION_SHORT, SOURCE_LABELS, decidedVia } from '../present/labels.ts';
import { questionOfDecideInput, type Question } from '../present/question.ts';
import { choiceLines, questionLines, wrap } from '../present/terminal.ts';
import { clip } from '../present/text.ts';

export const KEY_DECISIONS: Record<string, Decision> = {
  y: 'approved',
  a: 'approved_for_session',
  A: 'approved_always',
  n: 'denied',
  '\x1b': 'abort',
  '\x03': 'abort',
};

const ENTER = new Set(['\r', '\n', '\r\n']);
const UP = new Set(['\x1b[A', '\x1bOA', 'k']);
const DOWN = new Set(['\x1b[B', '\x1bOB', 'j', '\t']);

/** Maps one chunk of raw input to a decision among those offered, or null to keep waiting. */
export function keyToDecision(chunk: string, offered: readonly Decision[]): Decision | null {
  const decision = KEY_DECISIONS[chunk];
  if (decision === undefined) return null; // an escape sequence (arrow key) is longer than one byte
  return offered.includes(decision) ? decision : null;
}

/**
 * One read from the terminal as the keys in it: an escape sequence (`ESC [ B`, `ESC O B`) whole,
 * `\r\n` as one Enter, anything else one character at a time. Two Down presses can arrive in one
 * read (tmux, a fast key repeat), and so can a paste.
 */
export function splitKeys(chunk: string): string[] {
  const keys: string[] = [];
  let i = 0;
  while (i < chunk.length) {
    const next = chunk[i + 1];
    if (chunk[i] === '\x1b' && (next === '[' || next === 'O')) {
      let j = i + 2;
      // CSI: parameter bytes until a final byte in @..~; SS3: exactly one more byte
      if (next === '[') while (j < chunk.length && !/[\x40-\x7e]/.test(chunk[j]!)) j++;
      keys.push(chunk.slice(i, j + 1));
      i = j + 1;
    } else if (chunk.startsWith('\r\n', i)) {
      keys.push('\r\n');
      i += 2;
    } else {
      const ch = String.fromCodePoint(chunk.codePointAt(i)!);
      keys.push(ch);
      i += ch.length;
    }
  }
  return keys;
}

/**
 * Reads and drops what is waiting in the terminal's input queue: keys typed before the question was
 * on the screen. Raw mode must be on (a typed-ahead partial line is held back in canonical mode).
 * Red team: a `y` typed while an earlier command ran (or meant for another program) sat in the
 * queue and approved the question in the first read, before anyone could have read it. Read through
 * a non-blocking description of its own (/proc/self/fd/N reopens the terminal), so fd 0's mode is
 * not touched. Returns the bytes dropped, or null when the queue could not be read (not Linux).
 */
export function dropTypeahead(fd: number): number | null {
  let own: number;
  try {
    own = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return null;
  }
  let dropped = 0;
  try {
    const buf = Buffer.alloc(4096);
    // bounded: a terminal fed faster than this loop reads is not a person typing ahead
    for (let i = 0; i < 256; i++) {
      let n: number;
      try {
        n = readSync(own, buf, 0, buf.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        return dropped > 0 ? dropped : null;
      }
      if (n === 0) break;
      dropped += n;
    }
  } finally {
    closeSync(own);
  }
  return dropped;
}

/** The descriptor a terminal stream reads (fd 0 for process.stdin). */
function ttyFd(tty: ReadStream): number {
  const fd = (tty as unknown as { fd?: unknown }).fd;
  return typeof fd === 'number' ? fd : 0;
}

/** How long a lone Esc waits for the rest of an arrow key's sequence before it means abort. */
const ESC_WAIT_MS = 40;

/**
 * Raw terminal data as keys (splitKeys per read), holding a lone Esc for ESC_WAIT_MS: an arrow key
 * split over two reads (a slow link) must not read as Esc (abort). Both terminal prompts read so.
 */
export function keyReader(onKeys: (keys: string[]) => void): { onData(chunk: Buffer): void; stop(): void } {
  let escTimer: NodeJS.Timeout | null = null;
  return {
    onData(chunk: Buffer) {
      let text = chunk.toString('utf8');
      if (escTimer) {
        clearTimeout(escTimer);
        escTimer = null;
        text = `\x1b${text}`;
      } else if (text === '\x1b') {
        escTimer = setTimeout(() => {
          escTimer = null;
          onKeys(['\x1b']);
        }, ESC_WAIT_MS);
        return;
      }
      onKeys(splitKeys(text));
    },
    stop() {
      if (escTimer) clearTimeout(escTimer);
      escTimer = null;
    },
  };
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** How a key reads in a hint: `x`, `Y`, `Up`, or the escaped bytes of anything unprintable. */
function keyName(chunk: string): string {
  if (chunk === ' ') return 'Space';
  if (chunk === '\x7f' || chunk === '\b') return 'Backspace';
  if (chunk.startsWith('\x1b[') || chunk.startsWith('\x1bO')) return 'that key';
  return clip(chunk, 8);
}

export function keysHint(q: Question): string {
  const keys = q.choices.map((c) => c.key).join(', ');
  return `press ${keys}, or Enter for the highlighted choice`;
}

/** The one line that stays after the answer: "✔ approved once: touch x". */
export function historyLine(style: Style, decision: Decision, what: string, note?: string): string {
  const mark = isApproving(decision) ? style.green('✔') : style.red('✘');
  return `${mark} ${DECISION_DONE[decision]}${note ? ` ${note}` : ''}: ${clip(what, 200)}\n`;
}

/** The history line when the prompt stops because the decision came from elsewhere (or nowhere). */
function endedLine(style: Style, recorded: RecordedDecision | undefined, what: string): string {
  if (!recorded) return `${style.dim('warden: stopped asking')}\n`;
  if (recorded.source === 'user') {
    const via = decidedVia(recorded.reason);
    return historyLine(style, recorded.decision, what, `by ${recorded.user ?? 'a person'}${via ? ` via ${via}` : ''} (decided elsewhere)`);
  }
  const why = recorded.source === 'timeout' ? `nobody answered: ${recorded.reason ?? 'timed out'}` : (recorded.reason ?? SOURCE_LABELS[recorded.source]);
  return historyLine(style, recorded.decision, what, `(${why})`);
}

/** Rows a line takes on a terminal `width` columns wide, escape sequences not counted. */
function rowsOf(line: string, width: number): number {
  // eslint-disable-next-line no-control-regex
  const len = [...line.replace(/\x1b\[[0-9;]*m/g, '')].length;
  return Math.max(1, Math.ceil(len / Math.max(1, width)));
}

/** Cursor up n lines (CSI 0 A would move one). */
const up = (n: number) => (n > 0 ? `\x1b[${n}A` : '');

export interface TtyChannelOptions {
  /** The rules file an always-allow answer writes (shown in the A choice). */
  rulesPath?: string | null;
  /** The decision timeout, for the countdown; null or absent: none. */
  decisionTimeoutMs?: number | null;
  env?: NodeJS.ProcessEnv;
}

export function createTtyChannel(tty: ReadStream, out: Writable & { isTTY?: boolean; columns?: number; rows?: number }, opts: TtyChannelOptions = {}): PersonChannel {
  const env = opts.env ?? process.env;
  const style = makeStyle(colourWanted(out, env));
  // cursor movement (redrawing the choices in place) needs a terminal that understands it
  const canRedraw = env.TERM !== 'dumb';
  return {
    ask(input: DecideInput, signal: AbortSignal): Promise<PersonAnswer> {
      return new Promise((resolve, reject) => {
        const q = questionOfDecideInput(input, opts.rulesPath ?? null);
        const what = q.command ?? (q.files.length > 0 ? `patch: ${q.files.join(', ')}` : 'patch');
        const width = out.columns || 100;
        const maxDiffLines = Math.max(12, (out.rows || 40) - 18);
        let highlighted: Decision = q.defaultDecision;
        let hint = '';
        const deadline = opts.decisionTimeoutMs ? Date.now() + opts.decisionTimeoutMs : null;

        const footer = () => {
          const parts = [`Enter: ${DECISION_SHORT[highlighted]}`, 'Up/Down: move'];
          if (deadline !== null) parts.push(`denied automatically in ${Math.max(0, Math.ceil((deadline - Date.now()) / 1000))} s`);
          const text = clip(parts.join(' · '), width - 3);
          return `  ${deadline !== null ? style.yellow(text) : style.dim(text)}`;
        };
        const choices = () => [...choiceLines(q, style, highlighted, width), '', ...(hint ? wrap(hint, width - 2, 0).map((l) => `  ${style.yellow(l)}`) : []), footer()];
        /** Terminal rows the block drawn last takes (long lines wrap), to move back over it. */
        let drawn = 0;
        const draw = (again: boolean) => {
          const lines = choices();
          if (again && canRedraw) out.write(`\r${up(drawn - 1)}\x1b[J`);
          else if (again) out.write('\n');
          out.write(lines.join('\n'));
          drawn = lines.reduce((n, l) => n + rowsOf(l, width), 0);
        };
        const redrawFooter = () => {
          if (canRedraw) out.write(`\r\x1b[2K${footer()}`);
        };

        out.write(`${questionLines(q, style, { width, maxDiffLines }).join('\n')}\n`);
        draw(false);

        const wasRaw = tty.isRaw;
        tty.setRawMode(true);
        // A key typed before the question was drawn is not an answer to it.
        if ((dropTypeahead(ttyFd(tty)) ?? 0) > 0) {
          hint = 'keys typed before this question was shown were ignored: read it, then press a key';
          draw(true);
        }
        tty.resume();
        const ticker = deadline !== null ? setInterval(redrawFooter, 1000) : null;
        const finish = (line: string) => {
          if (ticker) clearInterval(ticker);
          reader.stop();
          tty.off('data', onData);
          tty.off('end', onEnd);
          signal.removeEventListener('abort', onAbort);
          tty.setRawMode(wasRaw);
          tty.pause();
          // the choices and footer give way to one history line
          out.write(canRedraw ? `\r${up(drawn - 1)}\x1b[J${line}` : `\n${line}`);
        };
        const answer = (decision: Decision, raw: string) => {
          finish(historyLine(style, decision, what));
          resolve({ decision, source: 'user', user: currentUser(), raw: JSON.stringify(raw) });
        };
        const reader = keyReader((keys) => {
          if (keys.length === 1) return onKey(keys[0]!);
          // Several keys in one read: moves are applied; anything else is a paste or a stumble,
          // and a decision is only ever one deliberate key (a pasted "yes" must not approve).
          if (keys.length > 0 && keys.every((k) => UP.has(k) || DOWN.has(k))) {
            for (const k of keys) move(k);
            hint = '';
            return draw(true);
          }
          hint = `several keys at once (a paste?), so nothing was chosen: ${keysHint(q)}`;
          draw(true);
        });
        const onData = reader.onData;
        const move = (key: string) => {
          const at = q.choices.findIndex((c) => c.decision === highlighted);
          const next = (at + (UP.has(key) ? -1 : 1) + q.choices.length) % q.choices.length;
          highlighted = q.choices[next]!.decision;
        };
        const onKey = (key: string) => {
          const decision = keyToDecision(key, input.offered);
          if (decision !== null) return answer(decision, key);
          if (ENTER.has(key)) return answer(highlighted, key);
          if (UP.has(key) || DOWN.has(key)) {
            move(key);
            hint = '';
            return draw(true);
          }
          hint = `${keyName(key)} is not a choice: ${keysHint(q)}`;
          draw(true);
        };
        const onEnd = () => {
          finish(`${style.dim('warden: the terminal closed before a key was pressed')}\n`);
          reject(new Error('the terminal closed before a key was pressed'));
        };
        const onAbort = () => {
          // the decider stops asking once any answer is recorded and says which (signal.reason)
          const recorded = signal.reason as RecordedDecision | undefined;
          finish(endedLine(style, recorded && typeof recorded === 'object' && 'decision' in recorded ? recorded : undefined, what));
          reject(new Error('asking was cancelled'));
        };
        tty.on('data', onData);
        tty.on('end', onEnd);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

/** The channel when stdin is not a terminal: nobody can answer, so the request is denied at once. */
export const nobodyChannel: PersonChannel = {
  ask: async () => ({ decision: 'denied', source: 'error', reason: 'stdin is not a terminal: nobody can answer' }),
};
