/**
 * "New chat": the contact's username, checked with the server before the chat opens.
 * @module
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../session.js';
import { describeError } from '../ui/describe-error.js';
import { chatPath, navigate } from '../ui/router.js';

/** The form shown under "New chat". */
export function NewChat({ session, onDone }: { readonly session: Session; readonly onDone: () => void }) {
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const chatId = username.trim().toLowerCase();
    if (chatId === '') {
      setError('Type the username of the person to write to.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // Fetching the account's safety number is the SDK's way to look an account up: it fails
      // with UNKNOWN_ACCOUNT for a name nobody has, and pins the contact's key (as a first
      // message would anyway).
      if (!session.chats.has(chatId)) await session.client.safetyNumber(chatId);
      await session.chats.addChat(chatId);
      onDone();
      navigate(chatPath(chatId));
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  };

  return (
    <form class="new-chat" onSubmit={(event) => void submit(event)} aria-label="New chat" noValidate>
      <label class="field">
        <span>Contact’s username</span>
        <input
          ref={input}
          value={username}
          onInput={(event) => setUsername(event.currentTarget.value)}
          autocapitalize="none"
          autocomplete="off"
          spellcheck={false}
          disabled={busy}
          aria-invalid={error !== null}
          aria-describedby="new-chat-error"
        />
      </label>
      <p id="new-chat-error" class="error" role="alert">
        {error}
      </p>
      <div class="actions">
        <button type="submit" class="button primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Looking up…' : 'Start chat'}
        </button>
        <button type="button" class="button" onClick={onDone} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
