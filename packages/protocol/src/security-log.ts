/**
 * The security log's vocabulary (SPEC SECLOG-1), shared by the server that writes it and the
 * clients that describe it: the kinds of event, and who removed a device.
 * @module
 */

/** Every kind of security log event. */
export const SECURITY_EVENT_KINDS = [
  'device-linked',
  'device-removed',
  'pin-enabled',
  'pin-changed',
  'pin-disabled',
  'pin-failed',
  'pin-locked',
  'policies-changed',
] as const;
/** One of `SECURITY_EVENT_KINDS`. */
export type SecurityEventKind = (typeof SECURITY_EVENT_KINDS)[number];

/**
 * Kinds that record a change of settings. They are coalesced and may only push out each other
 * when the log is full: links, removals and PIN failures are never evicted by flipping settings
 * (SPEC SECLOG-3).
 */
export const SETTING_EVENT_KINDS: readonly SecurityEventKind[] = ['pin-enabled', 'pin-changed', 'pin-disabled', 'policies-changed'];

/** Whether an entry of this kind records a change of settings (`SETTING_EVENT_KINDS`). */
export function isSettingChange(kind: string): boolean {
  return (SETTING_EVENT_KINDS as readonly string[]).includes(kind);
}

/** Who removed a device: the phone, the device itself (log out), or the server by a policy. */
export const REMOVAL_ACTORS = ['phone', 'device', 'expiry', 'phone-unused', 'temporary'] as const;
/** One of `REMOVAL_ACTORS`. */
export type RemovalActor = (typeof REMOVAL_ACTORS)[number];

const KINDS: ReadonlySet<string> = new Set(SECURITY_EVENT_KINDS);

/** Whether `kind` is one this code knows (a newer server may send others). */
export function isSecurityEventKind(kind: string): kind is SecurityEventKind {
  return KINDS.has(kind);
}
