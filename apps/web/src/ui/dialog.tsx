/**
 * Modal dialogs on the native <dialog>: focus moves into it, Escape closes (or cancels), the page
 * behind is inert, and screen readers announce it by its title. `Dialog` is the frame;
 * `ConfirmDialog` a confirmation built on it.
 * @module
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

/** Props of a dialog frame. */
export interface DialogProps {
  readonly title: string;
  readonly children: ComponentChildren;
  /** Escape, or a close button inside. */
  readonly onClose: () => void;
  /** While false (work in progress that must not be cut short), Escape does nothing. */
  readonly closable?: boolean;
  /** Extra class names, for the dialog's own layout. */
  readonly class?: string;
}

/** Shows itself as a modal while mounted; the caller puts its own actions inside. */
export function Dialog({ title, children, onClose, closable = true, class: className }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    // Closed before it leaves the page, so that the browser gives focus back to what opened it.
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class={className ? `dialog ${className}` : 'dialog'}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        if (closable) onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

/** Props of a confirmation dialog. */
export interface ConfirmDialogProps {
  readonly title: string;
  readonly children: ComponentChildren;
  /** The confirming button's words, e.g. "Log out". */
  readonly confirmLabel: string;
  readonly busy?: boolean;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}

/** A question with Cancel and a confirming (dangerous) button. */
export function ConfirmDialog({ title, children, confirmLabel, busy = false, onConfirm, onCancel }: ConfirmDialogProps) {
  return (
    <Dialog title={title} onClose={onCancel} closable={!busy}>
      <div class="dialog-body">{children}</div>
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="button" class="button danger" onClick={onConfirm} disabled={busy} aria-busy={busy}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
