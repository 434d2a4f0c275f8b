/**
 * The account's security state and log as the SDK hands them to apps: the two-step PIN, the
 * expiry policies and the "phone unused" warning (SPEC PIN-*, EXPIRY-*, SECLOG-*).
 * @module
 */
import { isSecurityEventKind, type SecurityEventKind } from '@pairwise/protocol/security-log';
import type { Security, SecurityEvent } from '@pairwise/protocol/wire';

/** The policy choices, for settings screens (apps import the SDK, not the protocol). */
export {
  DEFAULT_INACTIVE_DAYS,
  DEFAULT_PHONE_UNUSED_DAYS,
  INACTIVE_DAYS_CHOICES,
  PHONE_UNUSED_DAYS_CHOICES,
  PHONE_UNUSED_WARNING_DAYS,
} from '@pairwise/protocol/limits';

/** The account's security state, as the server last reported it. */
export interface SecurityState {
  /** The server's clock when this was reported; compare times above with it, not with the device's clock. */
  readonly serverTime: number;
  readonly pinEnabled: boolean;
  /** When the phone should ask for the PIN so it is not forgotten (0: no PIN). */
  readonly pinReminderAt: number;
  /** The reminder is due: the phone asks for the PIN, without blocking anything. */
  readonly pinReminderDue: boolean;
  readonly pinFailures: number;
  /** No PIN is checked before this time (0: now). */
  readonly pinNextTryAt: number;
  /** Linking is locked until this time after 10 wrong PINs (0: not locked). */
  readonly pinLockedUntil: number;
  /** "Log out devices inactive for", in days. */
  readonly inactiveDays: number;
  /** Companions are logged out when the phone is unused this many days; 0 is never. */
  readonly phoneUnusedDays: number;
  readonly phoneLastActiveAt: number;
  /** When every companion will be logged out unless the phone is used (0: never). */
  readonly companionsExpireAt: number;
  /** Show the "your phone has not been used" warning now. */
  readonly phoneUnusedWarning: boolean;
}

/** One entry of the security log (primary only). */
export interface SecurityLogEntry {
  readonly at: number;
  /** 'unknown' for kinds a newer server sends that this SDK does not know. */
  readonly kind: SecurityEventKind | 'unknown';
  readonly deviceId: string;
  readonly deviceName: string;
  /** With device-removed: 'phone', 'device' (its own log out), 'expiry', 'phone-unused' or 'temporary'. */
  readonly actor: string;
  /** The network it came from, coarsened ("203.0.113.0/24"); '' when none. */
  readonly network: string;
}


/** The wire's Security as apps see it. */
export function toSecurityState(security: Security): SecurityState {
  return {
    serverTime: security.serverTime,
    pinEnabled: security.pinEnabled,
    pinReminderAt: security.pinReminderAt,
    pinReminderDue: security.pinEnabled && security.pinReminderAt > 0 && security.serverTime >= security.pinReminderAt,
    pinFailures: security.pinFailures,
    pinNextTryAt: security.pinNextTryAt,
    pinLockedUntil: security.pinLockedUntil,
    inactiveDays: security.inactiveDays,
    phoneUnusedDays: security.phoneUnusedDays,
    phoneLastActiveAt: security.phoneLastActiveAt,
    companionsExpireAt: security.companionsExpireAt,
    phoneUnusedWarning: security.phoneUnusedWarning,
  };
}

/** The wire's SecurityEvent as apps see it; kinds this SDK does not know become 'unknown'. */
export function toSecurityLogEntry(event: SecurityEvent): SecurityLogEntry {
  const kind = isSecurityEventKind(event.kind) ? event.kind : 'unknown';
  return { at: event.at, kind, deviceId: event.deviceId, deviceName: event.deviceName, actor: event.actor, network: event.network };
}
