export const MAX_BACKOFF_MS = 30 * 60_000;

/**
 * Where in each interval a server is checked: a fraction of the interval taken from its id (ids
 * are random UUIDs), so that a fleet registered, imported or restarted at once is checked evenly
 * across the interval rather than all at the same moment, as Prometheus offsets its targets.
 */
export function phaseOf(serverId: string): number {
  const hex = serverId.replace(/-/g, "").slice(0, 8);
  const n = Number.parseInt(hex, 16);
  return Number.isFinite(n) ? n / 2 ** 32 : 0;
}

/** The first of the server's check slots (one per interval, at its phase) at or after `at`. */
export function slotAtOrAfter(at: Date, intervalSeconds: number, serverId: string): Date {
  const interval = intervalSeconds * 1000;
  const offset = phaseOf(serverId) * interval;
  const k = Math.ceil((at.getTime() - offset) / interval);
  return new Date(k * interval + offset);
}

/**
 * When to check next: after a success, the server's next slot at least half an interval away (so
 * it keeps its phase however late a check ran, and checks stay an interval apart on average);
 * after `failures` failures in a row, interval × 2^failures capped at 30 minutes, spread by ±20%
 * jitter so that servers that failed together do not retry together.
 */
export function nextCheckAt(
  now: Date,
  intervalSeconds: number,
  failures: number,
  serverId: string,
  random: () => number = Math.random,
): Date {
  const base = intervalSeconds * 1000;
  if (failures <= 0) return slotAtOrAfter(new Date(now.getTime() + base / 2), intervalSeconds, serverId);
  const backoff = Math.min(base * 2 ** Math.min(failures, 30), MAX_BACKOFF_MS);
  const jittered = Math.min(backoff * (0.8 + 0.4 * random()), MAX_BACKOFF_MS);
  return new Date(now.getTime() + Math.round(jittered));
}
