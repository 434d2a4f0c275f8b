/**
 * "Use this device as your phone": the account is made here and lives on this device, which then
 * links and removes the account's other devices.
 * @module
 */
import { useState } from 'preact/hooks';
import { describeError } from '../ui/describe-error.js';

/** Props of the account creation screen. */
export interface CreateAccountProps {
  readonly onCreate: (username: string) => Promise<void>;
  /** Back to the link screen. */
  readonly onBack: () => void;
}

/** Usernames as the server accepts them; checked here first to say what is wrong sooner. */
const USERNAME = /^[a-z][a-z0-9._]{2,31}$/;

/** The username form. */
export function CreateAccount({ onCreate, onBack }: CreateAccountProps) {
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const name = username.trim().toLowerCase();
    if (!USERNAME.test(name)) {
      setError('Use 3 to 32 characters: lower-case letters, digits, "." and "_", starting with a letter.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onCreate(name);
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  };

  return (
    <main class="onboarding">
      <form class="card" onSubmit={(event) => void submit(event)} aria-labelledby="create-title" noValidate>
        <h1 id="create-title">Set up Pairwise on this phone</h1>
        <p>
          Your account lives on this device. Computers you link later show your chats, and this phone decides which
          of them may.
        </p>
        <label class="field">
          <span>Username</span>
          <input
            name="username"
            value={username}
            onInput={(event) => setUsername(event.currentTarget.value)}
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            required
            aria-invalid={error !== null}
            aria-describedby="username-hint username-error"
            disabled={busy}
          />
        </label>
        <p id="username-hint" class="hint">
          Friends find you by it. Lower-case letters, digits, "." and "_".
        </p>
        <p id="username-error" class="error" role="alert">
          {error}
        </p>
        <div class="actions">
          <button type="submit" class="button primary" disabled={busy} aria-busy={busy}>
            {busy ? 'Creating account…' : 'Create account'}
          </button>
          <button type="button" class="button" onClick={onBack} disabled={busy}>
            Link to a phone instead
          </button>
        </div>
      </form>
    </main>
  );
}
