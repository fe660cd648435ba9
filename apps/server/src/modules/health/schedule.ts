export const MAX_BACKOFF_MS = 30 * 60_000;

/**
 * When to check next: the server's interval after a success; after `failures` failures in a row,
 * interval × 2^failures capped at 30 minutes, spread by ±20% jitter so that servers that failed
 * together do not retry together.
 */
export function nextCheckAt(
  now: Date,
  intervalSeconds: number,
  failures: number,
  random: () => number = Math.random,
): Date {
  const base = intervalSeconds * 1000;
  if (failures <= 0) return new Date(now.getTime() + base);
  const backoff = Math.min(base * 2 ** Math.min(failures, 30), MAX_BACKOFF_MS);
  const jittered = Math.min(backoff * (0.8 + 0.4 * random()), MAX_BACKOFF_MS);
  return new Date(now.getTime() + Math.round(jittered));
}
