/**
 * A six-digit PIN field: a text box with the numeric keypad (not type=number, which drops leading
 * zeros and offers a spinner), filled by one-time-code autofill where the system offers it, and
 * keeping digits only. Its label is visible; hints and errors are tied to it by id.
 * @module
 */
import type { Ref } from 'preact';
import { useId } from 'preact/hooks';

/** Digits in a two-step PIN (the protocol's PIN_DIGITS). */
export const PIN_LENGTH = 6;

/** Whether `pin` is a whole PIN: six digits. */
export function isWholePin(pin: string): boolean {
  return pin.length === PIN_LENGTH && /^[0-9]+$/.test(pin);
}

/** Props of a PIN field. */
export interface PinInputProps {
  readonly label: string;
  readonly value: string;
  readonly onValue: (digits: string) => void;
  /** Ids of the hint and error texts that describe the field. */
  readonly describedBy?: string;
  readonly invalid?: boolean;
  readonly disabled?: boolean;
  readonly autoFocus?: boolean;
  /**
   * "one-time-code" where linking asks for the PIN (the system keypad's suggestions); "off" in the
   * settings forms, so that no password manager offers to generate or save a password there.
   */
  readonly autoComplete?: 'one-time-code' | 'off';
  readonly inputRef?: Ref<HTMLInputElement>;
}

/** The labelled PIN field. */
export function PinInput(props: PinInputProps) {
  const { label, value, onValue, describedBy, invalid = false, disabled = false, autoFocus = false, autoComplete = 'one-time-code', inputRef } = props;
  const id = useId();
  return (
    <div class="field pin-field">
      <label for={id}>{label}</label>
      <input
        ref={inputRef ?? null}
        id={id}
        type="text"
        inputMode="numeric"
        pattern="[0-9]*"
        maxLength={PIN_LENGTH}
        autocomplete={autoComplete}
        autoFocus={autoFocus}
        spellcheck={false}
        class="pin-input"
        value={value}
        disabled={disabled}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        onInput={(event) => {
          const digits = event.currentTarget.value.replace(/[^0-9]/g, '').slice(0, PIN_LENGTH);
          // Typed letters vanish at once rather than sit in the field until submit.
          if (event.currentTarget.value !== digits) event.currentTarget.value = digits;
          onValue(digits);
        }}
      />
    </div>
  );
}
