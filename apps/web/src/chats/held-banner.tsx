/**
 * Above the composer while sends to a contact are held (SPEC VERIFY-3): their key changed after
 * the person verified them, so nothing goes to them until the person verifies the new safety
 * number or chooses "Send anyway" (Signal's behaviour).
 * @module
 */
import { useState } from 'preact/hooks';
import { describeError } from '../ui/describe-error.js';

/** Props of the banner. */
export interface HeldBannerProps {
  readonly name: string;
  readonly onSendAnyway: () => Promise<void>;
  /** Opens the safety number dialog. */
  readonly onVerify: () => void;
}

/** "bob's safety number changed…" with "Send anyway" and "Verify again". */
export function HeldBanner({ name, onSendAnyway, onVerify }: HeldBannerProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sendAnyway = async () => {
    setBusy(true);
    setError(null);
    try {
      await onSendAnyway();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="held-banner" aria-label="Messages waiting">
      <p>
        {name}'s safety number changed. Messages you send wait until you verify it again or choose Send anyway.
      </p>
      <p class="error" role="alert">
        {error}
      </p>
      <div class="actions">
        <button type="button" class="button primary small" onClick={() => void sendAnyway()} disabled={busy} aria-busy={busy}>
          Send anyway
        </button>
        <button type="button" class="button small" onClick={onVerify}>
          Verify again
        </button>
      </div>
    </section>
  );
}
