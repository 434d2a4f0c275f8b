/**
 * The companion's reminder that it is a temporary session (SPEC TEMP-1, TEMP-2): nothing of it is
 * on this computer's disk, and closing the tab (or reloading it) logs it out.
 * @module
 */

/** A strip under the header, on every screen of a temporary session. */
export function TemporarySession() {
  return (
    <p class="temporary-session" role="note">
      <strong>Temporary session</strong>
      <span>Nothing is saved on this computer. Closing or reloading this tab logs you out.</span>
    </p>
  );
}
