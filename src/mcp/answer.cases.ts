/**
 * Cases for interpretAnswer, beside the rule: answers that must never approve anything. Each is
 * what a client might put in the `result` of its `elicitation/create` response; the tests send
 * them over real stdio too. `offered` for these is every decision. Pure data.
 */
import type { Decision } from '../policy.ts';

export const ALL_OFFERED: Decision[] = ['approved', 'approved_for_session', 'approved_always', 'denied', 'abort'];

const accept = (content: unknown) => ({ action: 'accept', content });

/** [label, answer]: each must be recorded as `denied` with source `malformed`. */
export const MALFORMED_ANSWERS: Array<[string, unknown]> = [
  ['null', null],
  ['bare string', 'approved'],
  ['number', 42],
  ['boolean', true],
  ['empty array', []],
  ['array with a decision', ['approved']],
  ['empty object', {}],
  ['accept without content', { action: 'accept' }],
  ['accept with null content', accept(null)],
  ['accept with empty content', accept({})],
  ['capitalised decision', accept({ decision: 'Approved' })],
  ['trailing space', accept({ decision: 'approved ' })],
  ['leading space', accept({ decision: ' approved' })],
  ['upper case', accept({ decision: 'APPROVED' })],
  ['cyrillic a homoglyph', accept({ decision: '\u0430pproved' })],
  ['greek omicron homoglyph', accept({ decision: 'appr\u03bfved' })],
  ['zero-width space', accept({ decision: 'approved\u200b' })],
  ['soft hyphen', accept({ decision: 'ap\u00adproved' })],
  ['fullwidth letters', accept({ decision: '\uff41\uff50\uff50\uff52\uff4f\uff56\uff45\uff44' })],
  ['NUL suffix', accept({ decision: 'approved\u0000' })],
  ['newline suffix', accept({ decision: 'approved\n' })],
  ['combining accent', accept({ decision: 'approve\u0301d' })],
  ['truncated', accept({ decision: 'approve' })],
  ['yes', accept({ decision: 'yes' })],
  ['allow', accept({ decision: 'allow' })],
  ['accept as decision', accept({ decision: 'accept' })],
  ['kebab session', accept({ decision: 'approved-for-session' })],
  ['camel session', accept({ decision: 'approvedForSession' })],
  ['session with space', accept({ decision: 'approved_for_session ' })],
  ['always', accept({ decision: 'always' })],
  ['empty string', accept({ decision: '' })],
  ['decision true', accept({ decision: true })],
  ['decision 1', accept({ decision: 1 })],
  ['decision null', accept({ decision: null })],
  ['decision array', accept({ decision: ['approved'] })],
  ['decision nested', accept({ decision: { decision: 'approved' } })],
  ['decision object value', accept({ decision: { value: 'approved' } })],
  ['extra key in content', accept({ decision: 'approved', extra: 1 })],
  ['second decision key', accept({ decision: 'approved', decision2: 'approved' })],
  ['_meta inside content', accept({ decision: 'approved', _meta: {} })],
  ['capitalised key', accept({ Decision: 'approved' })],
  ['key with space', accept({ 'decision ': 'approved' })],
  ['content as array', accept([{ decision: 'approved' }])],
  ['content as string', accept('approved')],
  ['double nesting', accept({ content: { decision: 'approved' } })],
  ['action Accept', { action: 'Accept', content: { decision: 'approved' } }],
  ['action ACCEPT', { action: 'ACCEPT', content: { decision: 'approved' } }],
  ['action accepted', { action: 'accepted', content: { decision: 'approved' } }],
  ['action approve', { action: 'approve', content: { decision: 'approved' } }],
  ['action with space', { action: 'accept ', content: { decision: 'approved' } }],
  ['action true', { action: true, content: { decision: 'approved' } }],
  ['action array', { action: ['accept'], content: { decision: 'approved' } }],
  ['action missing', { content: { decision: 'approved' } }],
  ['Codex-style top-level decision', { decision: 'approved' }],
  ['extra top-level key', { action: 'accept', content: { decision: 'approved' }, extra: true }],
  ['_meta not an object', { action: 'accept', content: { decision: 'approved' }, _meta: 'x' }],
  ['decline carrying an approval', { action: 'decline', content: { decision: 'approved' } }],
  ['cancel carrying an approval', { action: 'cancel', content: { decision: 'approved' } }],
  ['huge decision', accept({ decision: 'a'.repeat(100_000) })],
  ['repeated decision word', accept({ decision: 'approved'.repeat(1000) })],
  ['huge padding key', accept({ decision: 'approved', pad: 'x'.repeat(200_000) })],
  ['deep nesting', accept(JSON.parse(`${'{"a":'.repeat(200)}"approved"${'}'.repeat(200)}`))],
];

/** Answers that are the person saying no: denied with source `user`. */
export const REFUSALS: Array<[string, unknown, Decision]> = [
  ['decline', { action: 'decline' }, 'denied'],
  ['cancel', { action: 'cancel' }, 'denied'],
  ['accept denied', accept({ decision: 'denied' }), 'denied'],
  ['accept abort', accept({ decision: 'abort' }), 'abort'],
  ['decline with _meta', { action: 'decline', _meta: { at: 1 } }, 'denied'],
];
