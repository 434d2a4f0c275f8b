/**
 * Reads samples out of a Prometheus text exposition, for tests that scrape a server's /metrics.
 * Only what the server writes: `name{label="value",...} number` lines, no escapes in label values.
 * @module
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every sample of `text`, comments skipped. */
export function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a sample line: ${line}`);
      const pairs = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)];
      return { name: match[1]!, labels: Object.fromEntries(pairs.map((pair) => [pair[1]!, pair[2]!])), value: Number(match[3]) };
    });
}

/** The value of the one sample named `name` with (at least) these labels, or undefined if there is none; throws if there are several. */
export function findSampleValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const found = parseSamples(text).filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** `findSampleValue` of a sample that must be there. */
export function sampleValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const value = findSampleValue(text, name, labels);
  if (value === undefined) throw new Error(`no sample of ${name} ${JSON.stringify(labels)}`);
  return value;
}
