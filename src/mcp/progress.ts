/**
 * Progress for a long tool call: a person may take minutes, and clients that reset their request
 * timeout on `notifications/progress` keep waiting while warden reports. Nothing is sent for a call
 * that carried no progressToken (the client did not ask). I/O: sends notifications.
 */
import type { ProgressToken, ServerNotification } from '@modelcontextprotocol/sdk/types.js';

export const PROGRESS_MESSAGE = 'warden: still working (it may be waiting for a decision)';

/** Starts reporting every `intervalMs`; returns the function that stops it. */
export function reportProgress(
  send: (notification: ServerNotification) => Promise<void>,
  token: ProgressToken | undefined,
  intervalMs: number,
): () => void {
  if (token === undefined) return () => {};
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    send({ method: 'notifications/progress', params: { progressToken: token, progress: ticks, message: PROGRESS_MESSAGE } }).catch(() => undefined);
  }, intervalMs);
  return () => clearInterval(timer);
}
