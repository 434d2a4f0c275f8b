/**
 * Acknowledgements, batched (SPEC INBOX-4, LIMIT-2). A device that comes back to a full inbox is
 * pushed up to 1,000 rows at once; one AckInbox frame per row would be 1,000 frames in a moment,
 * past the server's rate limit, which refuses them (leaving the rows unacknowledged) and, sent on
 * regardless, closes the socket. So the seqs of a short while go out together, at most
 * `MAX_ACKS_PER_FRAME` to a frame.
 * @module
 */
import { after } from './timers.js';

/** Seqs in one AckInbox: the server takes at most 1,000 (SPEC section 14, Limits). */
export const MAX_ACKS_PER_FRAME = 1000;
/** How long an acknowledgement may wait for others to go with it. */
export const ACK_DELAY_MS = 25;

export class AckBatcher {
  private pending: number[] = [];
  private cancelTimer: (() => void) | null = null;

  /** `send` puts one AckInbox frame on the wire. */
  constructor(private readonly send: (seqs: number[]) => void) {}

  /** Acknowledges `seq` within ACK_DELAY_MS, together with the others of that while. */
  add(seq: number): void {
    this.pending.push(seq);
    if (this.pending.length >= MAX_ACKS_PER_FRAME) this.flush();
    else this.cancelTimer ??= after(ACK_DELAY_MS, () => this.flush());
  }

  /** Sends what waits now. */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    while (this.pending.length > 0) this.send(this.pending.splice(0, MAX_ACKS_PER_FRAME));
  }
}
