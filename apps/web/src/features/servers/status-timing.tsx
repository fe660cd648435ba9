import type { HealthStatus, ServerSummary } from "@switchboard/shared";
import { dateTime } from "../../lib/format";
import { shortDuration, useNow } from "../../lib/now";

/** How long a server has been in a status worth watching; a healthy or unchecked one says nothing. */
const SINCE: Partial<Record<HealthStatus, string>> = {
  unhealthy: "Down for",
  degraded: "Degraded for",
  auth_required: "Waiting for sign-in for",
};

/**
 * "Down for 3 h · next check in 40 s": how long a trouble has lasted and when the next check
 * comes, with the exact times in tooltips. It reads the shared clock, so only this line re-renders
 * as time passes.
 */
export function StatusTiming({
  server,
}: {
  server: Pick<ServerSummary, "enabled" | "status" | "statusSince" | "nextCheckAt">;
}) {
  const now = useNow();
  if (!server.enabled) return null;
  const since = SINCE[server.status];
  const parts = [];
  if (since && server.statusSince)
    parts.push(
      <span key="since" data-status-since title={`Since ${dateTime(server.statusSince)}`}>
        {since} {shortDuration(now - Date.parse(server.statusSince))}
      </span>,
    );
  if (server.nextCheckAt) {
    const wait = Date.parse(server.nextCheckAt) - now;
    parts.push(
      <span key="next" data-next-check title={`Next check at ${dateTime(server.nextCheckAt)}`}>
        {wait >= 1000 ? `next check in ${shortDuration(wait)}` : "next check due now"}
      </span>,
    );
  }
  if (parts.length === 0) return null;
  return (
    <div className="text-xs text-slate-600 dark:text-slate-400">
      {parts.flatMap((p, i) => (i === 0 ? [p] : [" · ", p]))}
    </div>
  );
}
