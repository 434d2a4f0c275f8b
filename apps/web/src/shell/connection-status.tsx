/**
 * Says when the device is not connected, and why when the server refused it. Silent when online.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { useEffect, useState } from 'preact/hooks';

/** A banner under the header while offline, connecting or refused. */
export function ConnectionStatus({ client }: { readonly client: PairwiseClient }) {
  const [state, setState] = useState(client.connectionState);
  const [refusal, setRefusal] = useState<string | null>(null);
  useEffect(() => {
    const offState = client.on('connection', ({ state: next }) => {
      setState(next);
      if (next === 'online') setRefusal(null);
    });
    const offAuth = client.on('auth-error', ({ code }) => setRefusal(describeRefusal(code)));
    return () => {
      offState();
      offAuth();
    };
  }, [client]);

  const message =
    refusal ??
    (state === 'offline' ? 'Offline. Reconnecting…' : state === 'closed' ? 'Disconnected. Reload the page to reconnect.' : null);
  return (
    <div class={`connection ${message === null ? 'hidden' : ''}`} role="status">
      {message}
    </div>
  );
}

function describeRefusal(code: string): string {
  if (code === 'UPDATE_REQUIRED') return 'This version of Pairwise is too old for the server. Reload the page to update.';
  if (code === 'CLOCK_SKEW') return 'This device’s clock is wrong by more than a minute. Correct it; Pairwise keeps trying.';
  return 'The server did not accept this device. Your data is kept; reload the page to try again.';
}
