/**
 * Which new sockets the server takes (SPEC LIMIT-4). A socket costs a file descriptor and some
 * memory before it has proved anything, so sockets that are not yet a device ("pending": before
 * authentication, or a companion showing link codes) are bounded per address and in total. A
 * socket stops being pending once it authenticates: signed-in devices are bounded by their
 * accounts (devices per account, sockets per device), not here, and the descriptors the pending
 * bound leaves free are the reserve they reconnect with.
 *
 * - From one address (what `requesterKey` makes of it: an IPv4 address, an IPv6 /64), at most
 *   `perAddress` pending sockets: more are refused before the WebSocket upgrade (HTTP 429).
 * - In all, at most `total`: when a new socket would pass it, the oldest pending socket that is not
 *   showing link codes is closed (1013, "try again later"). A device signing in is pending for well
 *   under a second, so it is the flood's own oldest sockets that go, and a device reconnecting
 *   during a flood from many addresses still gets in. A companion showing link codes is pending for
 *   minutes by design (SPEC LIMIT-5): it goes only when nothing else is left to close.
 * @module
 */

/** A pending socket, as admission sees it. */
export interface PendingSocket {
  /** A companion showing link codes, waiting for the phone. */
  readonly linking: boolean;
  /** Closes the socket because the server is full of pending sockets. */
  evict(): void;
}

/** Close code for an evicted pending socket: the standard "try again later". */
export const CLOSE_TRY_AGAIN_LATER = 1013;

export class Admission {
  /** In admission order, so the first is the oldest. */
  private readonly pending = new Map<PendingSocket, string>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: { readonly perAddress: number; readonly total: number }) {}

  /** Whether a new socket from `address` may be upgraded at all (checked before the upgrade). */
  mayOpen(address: string): boolean {
    return (this.perAddress.get(address) ?? 0) < this.limits.perAddress;
  }

  /**
   * Counts a new socket as pending. Returns false when its address is already full (several
   * upgrades raced past `mayOpen`): the caller closes it. Evicts the oldest pending socket when
   * the total is reached.
   */
  admit(socket: PendingSocket, address: string): boolean {
    if (!this.mayOpen(address)) return false;
    if (this.pending.size >= this.limits.total) {
      const victim = this.oldestNotLinking() ?? this.pending.keys().next().value;
      if (victim !== undefined) {
        this.release(victim);
        victim.evict();
      }
    }
    this.pending.set(socket, address);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    return true;
  }

  private oldestNotLinking(): PendingSocket | undefined {
    for (const socket of this.pending.keys()) if (!socket.linking) return socket;
    return undefined;
  }

  /** The socket authenticated or closed: it is pending no more. Safe to call more than once. */
  release(socket: PendingSocket): void {
    const address = this.pending.get(socket);
    if (address === undefined) return;
    this.pending.delete(socket);
    const count = (this.perAddress.get(address) ?? 1) - 1;
    if (count <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, count);
  }

  /** Pending sockets now (for tests and metrics). */
  get size(): number {
    return this.pending.size;
  }
}
