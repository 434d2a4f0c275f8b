/**
 * The shapes of names and ids on the wire.
 * @module
 */

/**
 * Usernames: 3-32 characters, lower-case ASCII letters, digits, "." and "_", starting with a
 * letter. ASCII only, so that no two usernames look alike (no homoglyphs) and they sort simply.
 */
export const USERNAME_PATTERN = /^[a-z][a-z0-9._]{2,31}$/;

/** Device ids: 128 random bits as 32 lower-case hex digits, chosen by the device itself. */
export const DEVICE_ID_PATTERN = /^[0-9a-f]{32}$/;

/** Whether `value` is a valid username. */
export function isUsername(value: string): boolean {
  return USERNAME_PATTERN.test(value);
}

/** Whether `value` is a valid device id. */
export function isDeviceId(value: string): boolean {
  return DEVICE_ID_PATTERN.test(value);
}
