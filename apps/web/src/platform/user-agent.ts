/**
 * Names a browser for people: "Chrome on Linux", from a User-Agent string. Good enough to tell
 * one's own laptop from a stranger's; never used for any security decision.
 * @module
 */

const BROWSERS: readonly (readonly [RegExp, string])[] = [
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Chrom(e|ium)\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];

const SYSTEMS: readonly (readonly [RegExp, string])[] = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/CrOS/, 'ChromeOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux|X11/, 'Linux'],
];

/** "Chrome on Linux"; "Unknown browser" parts when the string says nothing recognisable. */
export function describeUserAgent(userAgent: string): string {
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? 'Unknown browser';
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  return system === undefined ? browser : `${browser} on ${system}`;
}

/** This browser's name for the phone's device list. */
export function thisBrowserName(): string {
  return describeUserAgent(navigator.userAgent);
}

/** Whether this looks like a phone or tablet (the first visit then offers the phone role first). */
export function looksLikeAPhone(): boolean {
  return /Android|iPhone|iPad|iPod|Mobile/.test(navigator.userAgent);
}
