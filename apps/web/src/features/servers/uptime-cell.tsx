import type { ServerUptime } from "@switchboard/shared";
import { uptimePercent } from "../../lib/format";
import { LatencySparkline } from "./sparkline";

/** What the uptime cells show while the numbers load or after they failed to. */
export type UptimeState = { uptime: ServerUptime | undefined; pending: boolean; failed: boolean };

function Placeholder({ pending, failed }: Omit<UptimeState, "uptime">) {
  if (pending)
    return (
      <span className="text-sm text-slate-500">
        <span aria-hidden>…</span>
        <span className="sr-only">Loading</span>
      </span>
    );
  return (
    <span
      className="text-sm text-slate-600 dark:text-slate-400"
      title={failed ? "Uptime could not be loaded" : "No checks yet"}
    >
      —
    </span>
  );
}

/** A server's uptime over one window, with how many checks it rests on in the tooltip. */
export function UptimeCell({ state, window }: { state: UptimeState; window: "24h" | "7d" }) {
  const { uptime } = state;
  if (!uptime) return <Placeholder {...state} />;
  const share = window === "24h" ? uptime.uptime24h : uptime.uptime7d;
  const checks = window === "24h" ? uptime.checks24h : uptime.checks7d;
  return (
    <span
      data-uptime={window}
      className="text-sm tabular-nums"
      title={share === null ? "No checks in this window" : `${checks} check${checks === 1 ? "" : "s"}`}
    >
      {uptimePercent(share)}
    </span>
  );
}

export function LatencyCell({ state }: { state: UptimeState }) {
  if (!state.uptime) return <Placeholder {...state} />;
  return <LatencySparkline values={state.uptime.latency24h} />;
}
