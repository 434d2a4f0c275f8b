/**
 * What this copy of the app is: the protocol version it speaks (compiled in from
 * @pairwise/protocol by vite.config.ts) and its build id, which the build's integrity plugin puts
 * into index.html as `<meta name="pairwise-build">` (a hash over the build's files cannot be
 * compiled into those same files). Under `vite` (development) there is no build id.
 * @module
 */

/** The protocol version this app speaks. */
export const APP_PROTOCOL_VERSION: number = __PAIRWISE_PROTOCOL_VERSION__;

/** This page's build id, or null when it was not built (development). */
export function appBuild(): string | null {
  const content = document.querySelector<HTMLMetaElement>('meta[name="pairwise-build"]')?.content ?? '';
  return /^[0-9a-f]{8,64}$/.test(content) ? content : null;
}
