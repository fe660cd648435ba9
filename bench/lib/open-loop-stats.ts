/**
 * The arithmetic of the steady-state benchmark, apart so that it is tested: picking a request of a
 * weighted mix, counting events per second, and the peak-to-mean ratio of those counts.
 */

/** Picks an index with a probability proportional to its weight (`random` in [0, 1)). */
export function pickWeighted(weights: number[], random: number): number {
  const total = weights.reduce((sum, w) => sum + w, 0);
  let left = random * total;
  for (let i = 0; i < weights.length; i++) {
    left -= weights[i] as number;
    if (left < 0) return i;
  }
  return weights.length - 1;
}

/**
 * How many of `times` (ms since the epoch) fall in each whole second of [`fromMs`, `fromMs` +
 * `seconds` s): one count a second, zeros included.
 */
export function countsPerSecond(times: number[], fromMs: number, seconds: number): number[] {
  const counts: number[] = new Array(seconds).fill(0);
  for (const t of times) {
    const i = Math.floor((t - fromMs) / 1000);
    if (i >= 0 && i < seconds) counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}

export interface PeakToMean {
  seconds: number;
  mean: number;
  peak: number;
  /** The peak second's count over the mean's; NaN when nothing happened. */
  ratio: number;
}

/** The busiest second against the average second. */
export function peakToMean(counts: number[]): PeakToMean {
  const total = counts.reduce((sum, n) => sum + n, 0);
  const mean = counts.length ? total / counts.length : 0;
  const peak = counts.length ? Math.max(...counts) : 0;
  return { seconds: counts.length, mean, peak, ratio: mean > 0 ? peak / mean : Number.NaN };
}
