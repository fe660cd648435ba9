import type { ServerUsage } from "@switchboard/shared";
import { useEffect, useRef } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { EmptyState, ErrorState, Spinner } from "../../components/ui";
import { describeError } from "../../lib/api";
import { useServerUsage } from "./queries";

const HEIGHT = 160;
const CALLS = "#6366f1";
const ERRORS = "#e11d48";

const number = new Intl.NumberFormat();
const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const dateTime = (iso: string) =>
  new Date(iso).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

/** The server's gateway traffic in the last 24 hours: totals, and calls and errors over time. */
export function UsagePanelBody({ serverId }: { serverId: string }) {
  const usage = useServerUsage(serverId);
  if (usage.isPending) return <Spinner label="Loading gateway traffic…" />;
  if (usage.isError) return <ErrorState error={describeError(usage.error)} retry={() => usage.refetch()} />;
  const { totals } = usage.data;
  if (totals.calls === 0)
    return (
      <EmptyState title="No gateway calls in the last 24 hours">
        Calls made through the gateway with this server's keys show here, with their errors.
      </EmptyState>
    );
  const share = totals.calls ? (totals.errors / totals.calls) * 100 : 0;
  return (
    <div>
      <p className="mb-2 text-sm" data-testid="usage-totals">
        <strong>{number.format(totals.calls)}</strong> calls · <strong>{number.format(totals.errors)}</strong>{" "}
        errors ({share.toFixed(share < 10 ? 1 : 0)}%)
        {totals.latencyMsAvg !== null && <> · mean {Math.round(totals.latencyMsAvg)} ms</>}
      </p>
      <UsageChart usage={usage.data} />
    </div>
  );
}

/**
 * Calls and errors per bucket, drawn by uPlot on a canvas (its styles are set through CSSOM, which
 * the dashboard's CSP allows, never as inline style attributes). uPlot is loaded with the first
 * chart, not with the app. The caption says the same in words, for screen readers.
 */
export function UsageChart({ usage }: { usage: ServerUsage }) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = host.current;
    // Without a layout engine (a test's DOM) there is nothing to draw on.
    if (!el || typeof window.matchMedia !== "function" || typeof ResizeObserver !== "function") return;
    let plot: uPlot | null = null;
    let gone = false;
    const resize = new ResizeObserver(() => plot?.setSize({ width: el.clientWidth, height: HEIGHT }));
    void import("uplot").then(({ default: UPlot }) => {
      if (gone) return;
      const ink = getComputedStyle(el).color;
      const grid = { stroke: "rgba(128, 128, 128, 0.15)", width: 1 };
      plot = new UPlot(
        {
          width: el.clientWidth,
          height: HEIGHT,
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: [
            { stroke: ink, grid, ticks: grid },
            { stroke: ink, grid, ticks: grid, size: 44 },
          ],
          series: [
            {},
            { label: "Calls", stroke: CALLS, fill: "rgba(99, 102, 241, 0.15)", width: 2 },
            { label: "Errors", stroke: ERRORS, width: 2 },
          ],
        },
        [
          usage.points.map((p) => Date.parse(p.at) / 1000),
          usage.points.map((p) => p.calls),
          usage.points.map((p) => p.errors),
        ],
        el,
      );
      resize.observe(el);
    });
    return () => {
      gone = true;
      resize.disconnect();
      plot?.destroy();
    };
  }, [usage]);

  const busiest = usage.points.reduce<ServerUsage["points"][number] | undefined>(
    (a, b) => (!a || b.calls > a.calls ? b : a),
    undefined,
  );
  return (
    <figure>
      <div ref={host} className="min-h-40 w-full" data-testid="usage-chart" />
      <figcaption className="mt-1 text-xs text-slate-600 dark:text-slate-400">
        Calls (indigo) and errors (red) every {Math.round(usage.step / 60)} minutes, from{" "}
        {dateTime(usage.from)} to {dateTime(usage.to)}
        {busiest && busiest.calls > 0 && (
          <>
            ; busiest at {time(busiest.at)} with {number.format(busiest.calls)} calls
          </>
        )}
        .
      </figcaption>
    </figure>
  );
}
