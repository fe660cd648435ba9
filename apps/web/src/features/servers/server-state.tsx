import type { ServerSummary } from "@switchboard/shared";
import { HealthBadge } from "../../components/ui";
import { timeAgo } from "../../lib/format";
import { STATUS_LABELS } from "../../lib/health-words";

/**
 * A server's state: its health while enabled. A disabled server is neither checked nor served, so
 * its last health is history, not a promise: the badge says "Disabled", the last health follows
 * in small print.
 */
export function ServerState({
  server,
  showCode = false,
}: {
  server: Pick<ServerSummary, "enabled" | "status" | "lastCheckedAt">;
  showCode?: boolean;
}) {
  if (server.enabled) return <HealthBadge status={server.status} showCode={showCode} />;
  return (
    <span className="inline-flex flex-wrap items-center gap-x-2 gap-y-0.5">
      <span
        data-status="disabled"
        title="Disabled: not checked, and the gateway does not serve it"
        className="inline-flex items-center gap-1.5 rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-800 ring-1 ring-slate-500/30 dark:bg-slate-500/15 dark:text-slate-200"
      >
        <span aria-hidden className="h-1.5 w-1.5 rounded-full border border-current" />
        Disabled
      </span>
      {server.lastCheckedAt && (
        <span data-last-status={server.status} className="text-xs text-slate-600 dark:text-slate-400">
          last: {STATUS_LABELS[server.status]}, {timeAgo(server.lastCheckedAt)}
        </span>
      )}
    </span>
  );
}
