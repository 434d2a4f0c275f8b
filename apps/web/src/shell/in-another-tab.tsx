/**
 * "Pairwise is open in another tab" (as WhatsApp Web): a device works in one tab at a time (SPEC
 * DEVICE-1), since two tabs encrypting with the same ratchets would reuse keys. Shown by a tab
 * that opens while another has the device, and by the tab that loses it when another says
 * "Use here". "Use here" moves it to this tab; nothing is lost either way, the data stays in
 * this browser.
 * @module
 */
import { useEffect, useRef } from 'preact/hooks';
import { Loading } from '../ui/spinner.js';

/** Props of the card. */
export interface InAnotherTabProps {
  /** "Use here" was pressed: waiting for the other tab to let go. */
  readonly moving: boolean;
  readonly onUseHere: () => void;
}

/** The whole screen while another tab has the device. */
export function InAnotherTab({ moving, onUseHere }: InAnotherTabProps) {
  const button = useRef<HTMLButtonElement>(null);
  // The screen changed under the person (the chats went away): start them at its one action.
  useEffect(() => button.current?.focus(), []);
  return (
    <main class="splash">
      <section class="card in-another-tab" aria-labelledby="in-another-tab-title">
        <h1 id="in-another-tab-title">Pairwise is open in another tab</h1>
        <p>
          Pairwise works in one tab at a time. Click “Use here” to use it in this tab instead: the other tab stops, and
          your chats stay in this browser.
        </p>
        {moving && <Loading label="Moving Pairwise to this tab…" />}
        <div class="actions">
          <button ref={button} type="button" class="button primary" onClick={onUseHere} disabled={moving} aria-busy={moving}>
            Use here
          </button>
        </div>
      </section>
    </main>
  );
}
