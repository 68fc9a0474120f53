/**
 * Folds the log, in position order, into a ChainVerdict: the streaming half of `verify()` shared by
 * every adapter. Besides each link (hashChain.checkLink) it compares the end of the log with the
 * head the store recorded in the same transaction as each append, so deleting the last event(s),
 * which leaves a valid shorter chain, is detected too. Pure.
 */
import { GENESIS_HASH, checkLink } from './hashChain.ts';
import type { ChainHead } from './appendPlan.ts';
import type { ChainVerdict } from './eventStore.ts';
import type { StoredEvent } from './types.ts';

export class ChainWalker {
  private prevHash = GENESIS_HASH;
  private lastPosition = 0;
  private checked = 0;
  private broken: { position: number; reason: string } | undefined;

  /** Feeds the next event; returns false once the chain is broken (the caller may stop reading). */
  push(event: StoredEvent): boolean {
    if (this.broken) return false;
    this.checked += 1;
    const bad = checkLink(this.prevHash, this.lastPosition + 1, event);
    if (bad) {
      this.broken = bad;
      return false;
    }
    this.prevHash = event.hash;
    this.lastPosition = event.position;
    return true;
  }

  /** The verdict, given the head the store recorded (undefined when the store keeps none). */
  finish(recordedHead: ChainHead | undefined): ChainVerdict {
    if (this.broken) {
      return { ok: false, checked: this.checked, firstBadPosition: this.broken.position, reason: this.broken.reason };
    }
    if (recordedHead) {
      if (recordedHead.position > this.lastPosition) {
        return {
          ok: false,
          checked: this.checked,
          firstBadPosition: this.lastPosition + 1,
          reason: `the log ends at position ${this.lastPosition} but its recorded head is position ${recordedHead.position} (events deleted from the end)`,
        };
      }
      if (recordedHead.position < this.lastPosition) {
        return {
          ok: false,
          checked: this.checked,
          firstBadPosition: recordedHead.position + 1,
          reason: `events after the recorded head position ${recordedHead.position} were added outside warden`,
        };
      }
      if (recordedHead.hash !== this.prevHash) {
        return {
          ok: false,
          checked: this.checked,
          firstBadPosition: this.lastPosition,
          reason: 'the last event does not match the recorded head hash',
        };
      }
    }
    return { ok: true, checked: this.checked };
  }
}
