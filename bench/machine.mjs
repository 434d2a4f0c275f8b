// What a benchmark ran on, printed with its figures so they can be compared honestly.
import os from 'node:os';

/** One line describing this machine and runtime. */
export function describeMachine() {
  const cpus = os.cpus();
  const memoryGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${cpus[0]?.model ?? 'unknown CPU'} x${cpus.length}, ${memoryGiB} GiB, ${os.platform()} ${os.release()}, Node ${process.versions.node}`;
}

/** Median of a non-empty list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Runs `operation` (async, one call = one op) `count` times per round, for `rounds` rounds after
 * one warm-up round, and returns the median ops/s. Calls are awaited one at a time unless
 * `inFlight` > 1, in which case that many run concurrently.
 */
export async function opsPerSecond(operation, { count, rounds = 5, inFlight = 1 }) {
  const runRound = async () => {
    const started = process.hrtime.bigint();
    for (let done = 0; done < count; done += inFlight) {
      const batch = Math.min(inFlight, count - done);
      if (batch === 1) await operation(done);
      else await Promise.all(Array.from({ length: batch }, (_, i) => operation(done + i)));
    }
    return count / (Number(process.hrtime.bigint() - started) / 1e9);
  };
  await runRound();
  const results = [];
  for (let round = 0; round < rounds; round++) results.push(await runRound());
  return median(results);
}

/** The `p`th percentile (0-100) of a non-empty list of numbers, by nearest rank. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
