/**
 * Reads QR codes from the camera or from a picture with jsQR. Loaded with a dynamic import, only
 * on the "Link a device" screen: the decoder stays out of the first page load.
 * @module
 */
import jsQR from 'jsqr';

/** How often a camera frame is decoded; a 640x480 frame takes a few milliseconds. */
const FRAME_INTERVAL_MS = 120;

/** A running camera scan. */
export interface CameraScan {
  /** Stops decoding and turns the camera off. */
  stop(): void;
}

/**
 * Shows the camera in `video` and calls `onCode` with the first QR code it sees (then stops).
 * Throws the getUserMedia error (NotAllowedError, NotFoundError) when there is no camera to use.
 */
export async function scanCamera(video: HTMLVideoElement, onCode: (text: string) => void): Promise<CameraScan> {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: false,
  });
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const stop = () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  await video.play().catch(() => {
    // Autoplay refusals still leave frames to read once the stream starts.
  });
  const tick = () => {
    if (stopped) return;
    const text = context ? decodeFrame(video, canvas, context) : null;
    if (text !== null) {
      stop();
      onCode(text);
      return;
    }
    timer = setTimeout(tick, FRAME_INTERVAL_MS);
  };
  tick();
  return { stop };
}

/** Decodes a QR code from a picture file; null when none is found. */
export async function scanImageFile(file: Blob): Promise<string | null> {
  const bitmap = await createImageBitmap(file);
  try {
    const canvas = document.createElement('canvas');
    // Large photos are scaled down: jsQR needs a few pixels per module, not forty.
    const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) return null;
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    return jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' })?.data ?? null;
  } finally {
    bitmap.close();
  }
}

function decodeFrame(video: HTMLVideoElement, canvas: HTMLCanvasElement, context: CanvasRenderingContext2D): string | null {
  const { videoWidth: width, videoHeight: height } = video;
  if (width === 0 || height === 0) return null;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  context.drawImage(video, 0, 0, width, height);
  const image = context.getImageData(0, 0, width, height);
  return jsQR(image.data, width, height, { inversionAttempts: 'dontInvert' })?.data ?? null;
}
