import { useFleetOverview } from "./queries";

/** Lag below this is a round in progress, not a backlog worth telling anyone about. */
export const LAG_SHOWN_SECONDS = 30;

/** "45 seconds", "12 minutes", "2 hours". */
export function duration(seconds: number): string {
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? "" : "s"}`;
  if (seconds < 120) return unit(seconds, "second");
  if (seconds < 7200) return unit(Math.round(seconds / 60), "minute");
  return unit(Math.round(seconds / 3600), "hour");
}

/**
 * Says so while health checks run behind their schedule (after an outage, a restart or a bulk
 * import the scheduler catches up at a bounded pace), so that stale health is not taken for news.
 */
export function CheckLag() {
  const { data } = useFleetOverview();
  if (!data || data.checks.lagSeconds < LAG_SHOWN_SECONDS) return null;
  const { overdue, lagSeconds } = data.checks;
  return (
    <p
      role="status"
      className="mb-4 rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100"
    >
      Health checks are catching up: {overdue} {overdue === 1 ? "server is" : "servers are"} overdue, the
      oldest by {duration(lagSeconds)}. The health shown may be that old until they are checked.
    </p>
  );
}
