/**
 * The security log's entries in words (SPEC SECLOG-1): what happened, to which device, and who
 * did it, as a person reviewing their account would say it.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';

/** One entry of the security log, as the SDK gives it. */
export type SecurityLogEntry = Awaited<ReturnType<PairwiseClient['securityLog']>>[number];

/**
 * "Chrome on Linux linked", "Chrome on Linux logged out by your phone", "Wrong PIN entered"…
 * `inactiveDays` is the account's current "Log out devices inactive for" choice, to say how long
 * an expired device had been idle (the entry itself does not record it).
 */
export function describeSecurityEvent(entry: SecurityLogEntry, inactiveDays: number | null): string {
  const device = entry.deviceName || 'A device';
  switch (entry.kind) {
    case 'device-linked':
      return `${device} linked`;
    case 'device-removed':
      return `${device} ${describeRemoval(entry.actor, inactiveDays)}`;
    case 'pin-enabled':
      return 'Two-step PIN turned on';
    case 'pin-changed':
      return 'Two-step PIN changed';
    case 'pin-disabled':
      return 'Two-step PIN turned off';
    case 'pin-failed':
      return 'Wrong PIN entered';
    case 'pin-locked':
      return 'Linking locked for an hour';
    case 'policies-changed':
      return 'Automatic log out settings changed';
    case 'unknown':
      return 'Security event';
  }
}

function describeRemoval(actor: string, inactiveDays: number | null): string {
  switch (actor) {
    case 'phone':
      return 'logged out by your phone';
    case 'device':
      return 'logged out by itself';
    case 'expiry':
      return inactiveDays === null ? 'logged out for being inactive' : `logged out after ${days(inactiveDays)} inactive`;
    case 'phone-unused':
      return 'logged out because this phone was unused';
    case 'temporary':
      return 'logged out when its temporary session ended';
    default:
      return 'logged out';
  }
}

function days(count: number): string {
  return count === 1 ? '1 day' : `${count} days`;
}
