/**
 * The "phone unused" warning (SPEC EXPIRY-3): from day 10 without the phone opening Pairwise,
 * every device says when its linked computers will be logged out, and how to prevent it. It stays
 * until the phone is used again: there is nothing to dismiss, as the deadline still stands.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { formatDateTime } from '../platform/format.js';
import { serverClock } from './server-clock.js';
import { useSecurity } from './use-security.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The banner, or nothing while the phone is in use. */
export function PhoneUnusedBanner({ client }: { readonly client: PairwiseClient }) {
  const security = useSecurity(client);
  if (security === null || !security.phoneUnusedWarning) return null;
  const clock = serverClock(client);
  const days = Math.max(1, Math.floor((security.serverTime - security.phoneLastActiveAt) / DAY_MS));
  const on = security.companionsExpireAt > 0 ? formatDateTime(clock.toLocal(security.companionsExpireAt)) : 'soon';
  return (
    <div class="phone-unused" role="status">
      {client.isPrimary ? (
        <p>
          Pairwise had not been used on this phone for {days} days. Now that it is open again, your linked computers stay
          signed in.
        </p>
      ) : (
        <p>
          <strong>Your phone has not used Pairwise for {days} days.</strong> Linked computers will be logged out on {on}{' '}
          unless you open Pairwise on your phone.
        </p>
      )}
    </div>
  );
}
