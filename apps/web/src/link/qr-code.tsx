/**
 * A QR code drawn on a canvas (not a data: URL image, which a strict CSP would have to allow).
 * Black on white with a wide quiet zone, whatever the colour scheme: phone cameras read it best so.
 * @module
 */
import QRCode from 'qrcode';
import { useEffect, useRef, useState } from 'preact/hooks';

/** The quiet zone, in modules; the standard asks for 4. */
const MARGIN_MODULES = 4;

/** Renders `text` as a QR code `size` CSS pixels wide, named `label` for screen readers. */
export function QrCode({ text, label, size = 320 }: { readonly text: string; readonly label: string; readonly size?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    // Drawn at device resolution so that the modules stay sharp on high-density screens.
    const scale = Math.max(1, Math.round(globalThis.devicePixelRatio || 1));
    QRCode.toCanvas(canvas, text, {
      margin: MARGIN_MODULES,
      width: size * scale,
      // Low error correction: a screen is not a crumpled label, and fewer modules scan more easily.
      errorCorrectionLevel: 'L',
      color: { dark: '#000000', light: '#ffffff' },
    })
      .then(() => {
        canvas.style.width = `${size}px`;
        canvas.style.height = `${size}px`;
        setFailed(false);
      })
      .catch(() => setFailed(true));
  }, [text, size]);
  if (failed) return <p class="error">The code could not be drawn. Reload the page to try again.</p>;
  return <canvas ref={ref} class="qr-code" role="img" aria-label={label} width={size} height={size} />;
}
