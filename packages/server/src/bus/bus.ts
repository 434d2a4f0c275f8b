/**
 * The Bus carries events between server nodes: new inbox items, revocations, device list
 * changes, link approvals. In-process by default; NATS when several nodes share PostgreSQL.
 * Events carry ids, never message content: the store is the single source of what to deliver.
 * @module
 */

/** Everything one node tells the others (and itself). */
export type BusEvent =
  /**
   * These devices have new inbox rows: whichever node holds their sockets pushes them. `seqs`,
   * side by side with `deviceIds` when given, are the newest rows' seqs: a connection that has
   * pushed them already is not woken.
   */
  | { readonly type: 'inbox'; readonly deviceIds: readonly string[]; readonly seqs?: readonly number[] }
  /** This device no longer exists: close its sockets with the "logged out" code (SPEC REVOKE-1). */
  | { readonly type: 'revoke'; readonly deviceId: string; readonly reason: 'removed' | 'logged-out' | 'expired' }
  /** The account's devices changed: tell its devices and its contacts' devices. */
  | { readonly type: 'device-list'; readonly accountId: string }
  /** A companion waiting on this token hash was approved. */
  | { readonly type: 'link-approved'; readonly tokenHash: string; readonly accountId: string; readonly sealedBundle: Uint8Array }
  /** A companion left without the primary: tell the primary so it re-signs its list. */
  | { readonly type: 'device-removed'; readonly accountId: string; readonly deviceId: string; readonly reason: string }
  /** A device is running out of one-time prekeys of either kind. */
  | { readonly type: 'prekeys-low'; readonly deviceId: string; readonly remaining: number; readonly pqRemaining: number }
  /**
   * The account's security state changed (PIN, policies, "phone unused"): every node pushes the
   * state, read from the store, to the account's devices it holds, with the alert if any.
   */
  | { readonly type: 'security'; readonly accountId: string; readonly alert: '' | 'pin-locked' };

/**
 * Told to this node's own subscribers only, never published: the Bus may have lost events (its
 * connection dropped and came back). Subscribers catch up from the store (SPEC BUS-3).
 */
export interface BusGap {
  readonly type: 'gap';
}

/** Publish/subscribe between nodes. */
export interface Bus {
  /** Which Bus this is, for logs and metrics. */
  readonly kind: 'in-process' | 'nats';
  publish(event: BusEvent): Promise<void>;
  /** Registers a handler for every event, including this node's own; returns an unsubscribe. */
  subscribe(handler: (event: BusEvent | BusGap) => void): () => void;
  /** Whether events published now would reach the other nodes (for /readyz). */
  isConnected(): boolean;
  close(): Promise<void>;
}
