/**
 * A QR code scanner for a screen that needs one code: the camera in a viewfinder, and "Scan from
 * image" for a photo when there is no camera. The decoder (qr-scanner.ts, jsQR) is a dynamic
 * import made when the scanner opens, so that it stays out of the first page load.
 * @module
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeCameraError } from './camera-error.js';
import type { CameraScan } from './qr-scanner.js';

/** Props of the scanner. */
export interface CodeScannerProps {
  /** Says what to point the camera at. */
  readonly instructions: string;
  /** The first code read, from the camera or a picture; the camera stops before it is called. */
  readonly onCode: (text: string) => void;
}

/** The camera and the picture fallback. */
export function CodeScanner({ instructions, onCode }: CodeScannerProps) {
  const [cameraError, setCameraError] = useState<string | null>(null);
  const [pictureError, setPictureError] = useState<string | null>(null);
  const [cameraAttempt, setCameraAttempt] = useState(0);
  const video = useRef<HTMLVideoElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  // The latest callback, without restarting the camera when the parent renders again.
  const onCodeRef = useRef(onCode);
  onCodeRef.current = onCode;

  useEffect(() => {
    let scan: CameraScan | null = null;
    let cancelled = false;
    (async () => {
      const { scanCamera } = await import('./qr-scanner.js');
      if (cancelled || !video.current) return;
      if (!navigator.mediaDevices?.getUserMedia) throw new DOMException('no camera API', 'NotSupportedError');
      const started = await scanCamera(video.current, (text) => onCodeRef.current(text));
      if (cancelled) started.stop();
      else scan = started;
    })().catch((error: unknown) => {
      if (!cancelled) setCameraError(describeCameraError(error));
    });
    return () => {
      cancelled = true;
      scan?.stop();
    };
  }, [cameraAttempt]);

  const scanFile = async (file: File) => {
    setPictureError(null);
    try {
      const { scanImageFile } = await import('./qr-scanner.js');
      const text = await scanImageFile(file);
      if (text === null) setPictureError('No QR code could be read in that picture. Take a sharp photo of the whole code and try again.');
      else onCodeRef.current(text);
    } catch {
      setPictureError('That file could not be opened as a picture.');
    }
  };

  return (
    <div class="code-scanner">
      <p>{instructions}</p>
      {cameraError === null ? (
        <div class="viewfinder">
          <video ref={video} aria-label="Camera view" muted playsInline />
        </div>
      ) : (
        <div class="camera-error" role="alert">
          <p>{cameraError}</p>
          <button
            type="button"
            class="button"
            onClick={() => {
              setCameraError(null);
              setCameraAttempt((count) => count + 1);
            }}
          >
            Try the camera again
          </button>
        </div>
      )}
      <p class="error" role="alert">
        {pictureError}
      </p>
      <div class="actions">
        <button type="button" class="button" onClick={() => fileInput.current?.click()}>
          Scan from image
        </button>
      </div>
      <input
        ref={fileInput}
        type="file"
        accept="image/*"
        class="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          event.currentTarget.value = '';
          if (file) void scanFile(file);
        }}
      />
    </div>
  );
}
