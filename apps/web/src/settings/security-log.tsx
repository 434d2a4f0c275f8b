/**
 * The phone's security log (SPEC SECLOG-1): every link, log out (and who did it), PIN change,
 * wrong PIN and lock-out of the account, newest first, each with its time and coarse place, so
 * that anything the user did not do stands out.
 * @module
 */
import type { PairwiseClient } from '@pairwise/client/pairwise-client';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { serverClock } from '../alerts/server-clock.js';
import { useSecurity } from '../alerts/use-security.js';
import { formatDateTime } from '../platform/format.js';
import { describePlace } from '../platform/place.js';
import { describeError } from '../ui/describe-error.js';
import { Link } from '../ui/router.js';
import { Loading } from '../ui/spinner.js';
import { describeSecurityEvent, type SecurityLogEntry } from './describe-security-event.js';

/** The security log screen. */
export function SecurityLog({ client }: { readonly client: PairwiseClient }) {
  const security = useSecurity(client);
  const [entries, setEntries] = useState<readonly SecurityLogEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const log = await client.securityLog();
      setEntries([...log].sort((a, b) => b.at - a.at));
      setError(null);
    } catch (failure) {
      setError(describeError(failure));
    }
    setLoading(false);
  }, [client]);

  useEffect(() => {
    void load();
    // New links and log outs, and PIN changes, show up without a manual refresh.
    const offDevices = client.on('devices-changed', ({ accountId }) => {
      if (accountId === client.accountId) void load();
    });
    const offSecurity = client.on('security', () => void load());
    return () => {
      offDevices();
      offSecurity();
    };
  }, [client, load]);

  const clock = serverClock(client);

  return (
    <section class="page security-log" aria-labelledby="security-log-title">
      <header class="page-header">
        <h1 id="security-log-title">Security log</h1>
        <button type="button" class="button small" onClick={() => void load()} disabled={loading} aria-busy={loading}>
          Refresh
        </button>
      </header>
      <p class="lead">
        Everything that changed who can read your messages. If you see something you did not do, log out the device in{' '}
        <Link to="/devices">Linked devices</Link> and change your PIN in <Link to="/settings">Settings</Link>.
      </p>
      {error !== null && (
        <div class="error" role="alert">
          <p>The security log could not be loaded: {error}</p>
        </div>
      )}
      {entries === null && error === null && <Loading label="Loading the security log…" />}
      {entries !== null && entries.length === 0 && <p class="empty-state">Nothing has happened yet.</p>}
      {entries !== null && entries.length > 0 && (
        <ol class="log-list" aria-label="Security events, newest first">
          {entries.map((entry, index) => {
            const at = clock.toLocal(entry.at);
            const place = entry.network === '' ? null : describePlace(entry.network);
            return (
              <li key={`${entry.at}-${index}`} class={`log-entry ${entry.kind}`}>
                <p class="log-what">{describeSecurityEvent(entry, security?.inactiveDays ?? null)}</p>
                <p class="log-when">
                  <time dateTime={new Date(at).toISOString()}>{formatDateTime(at)}</time>
                  {place !== null && <span> · {place.label}</span>}
                </p>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
