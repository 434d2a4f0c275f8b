/**
 * Camera failures in words, for every screen that scans a QR code. Kept out of qr-scanner.ts,
 * which is loaded only once a scanner opens: the words are needed even when it fails to load.
 * @module
 */

/** What went wrong with the camera, and what to do instead ("Scan from image"). */
export function describeCameraError(error: unknown): string {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError') return 'Pairwise may not use the camera. Allow it in the browser’s settings, or use “Scan from image”.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera was found. Use “Scan from image” with a photo of the code.';
  if (name === 'NotReadableError') return 'The camera is in use by another app. Close it and try again, or use “Scan from image”.';
  if (name === 'NotSupportedError') return 'This browser cannot use the camera here. Use “Scan from image” with a photo of the code.';
  return 'The camera could not be started. Try again, or use “Scan from image”.';
}
