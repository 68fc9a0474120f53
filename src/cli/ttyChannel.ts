/**
 * Asking a person on the terminal: the question goes to stderr (stdout is the command's), and one
 * key is read from the TTY in raw mode. Keys: y approve, a approve for the session, A always allow
 * (only when offered), n deny, esc abort; Ctrl-C aborts. Anything else is ignored and the prompt
 * stays. Input ending before a key is an error (a denial upstream).
 */
import { userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import type { ReadStream } from 'node:tty';
import { quote } from 'shell-quote';
import type { Decision } from '../policy.ts';
import type { PersonAnswer, PersonChannel } from '../requests/decider.ts';
import type { DecideInput } from '../machines/approval.machine.ts';

export const KEY_DECISIONS: Record<string, Decision> = {
  y: 'approved',
  a: 'approved_for_session',
  A: 'approved_always',
  n: 'denied',
  '\x1b': 'abort',
  '\x03': 'abort',
};

/** Maps one chunk of raw input to a decision among those offered, or null to keep waiting. */
export function keyToDecision(chunk: string, offered: readonly Decision[]): Decision | null {
  const decision = KEY_DECISIONS[chunk];
  if (decision === undefined) return null; // an escape sequence (arrow key) is longer than one byte
  return offered.includes(decision) ? decision : null;
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export function renderQuestion(input: DecideInput): string {
  const lines = ['', 'warden: approval needed'];
  if (input.request.kind === 'exec') lines.push(`  command: ${quote(input.request.command ?? [])}`);
  for (const f of input.classification.files ?? []) lines.push(`  ${f.kind}: ${f.path}${f.moveTo ? ` -> ${f.moveTo}` : ''}`);
  lines.push(`  cwd:     ${input.request.cwd}`);
  lines.push(`  why:     ${input.message}`);
  const keys = ['[y] approve', '[a] approve for this session'];
  if (input.offered.includes('approved_always') && input.classification.proposedPrefix) {
    keys.push(`[A] always allow \`${quote(input.classification.proposedPrefix)}\``);
  }
  keys.push('[n] deny', '[esc] abort');
  lines.push(`  ${keys.join('  ')}`, '');
  return lines.join('\n');
}

export function createTtyChannel(tty: ReadStream, out: Writable): PersonChannel {
  return {
    ask(input: DecideInput, signal: AbortSignal): Promise<PersonAnswer> {
      return new Promise((resolve, reject) => {
        out.write(renderQuestion(input));
        const wasRaw = tty.isRaw;
        tty.setRawMode(true);
        tty.resume();
        const finish = () => {
          tty.off('data', onData);
          tty.off('end', onEnd);
          signal.removeEventListener('abort', onAbort);
          tty.setRawMode(wasRaw);
          tty.pause();
        };
        const onData = (chunk: Buffer) => {
          const decision = keyToDecision(chunk.toString('utf8'), input.offered);
          if (decision === null) return;
          finish();
          out.write(`warden: ${decision}\n`);
          resolve({ decision, source: 'user', user: currentUser(), raw: JSON.stringify(chunk.toString('utf8')) });
        };
        const onEnd = () => {
          finish();
          reject(new Error('the terminal closed before a key was pressed'));
        };
        const onAbort = () => {
          finish();
          out.write('warden: decided elsewhere\n');
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
