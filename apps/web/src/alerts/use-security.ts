/**
 * The account's security state (PIN, policies, the "phone unused" warning) for a screen, kept
 * current from the SDK's 'security' events.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { useEffect, useState } from 'preact/hooks';

/** The security state as the SDK reports it. */
export type SecurityState = NonNullable<PairwiseClient['security']>;

/** The latest security state; null until the server has reported one. */
export function useSecurity(client: PairwiseClient): SecurityState | null {
  const [security, setSecurity] = useState(client.security);
  useEffect(() => {
    // A report may have come between the first render and this subscription.
    setSecurity(client.security);
    return client.on('security', ({ security: next }) => setSecurity(next));
  }, [client]);
  return security;
}

/** Re-renders every `intervalMs` while `active` (for "in 3 minutes" texts and waits that end). */
export function useTicker(intervalMs: number, active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, active]);
  return now;
}
