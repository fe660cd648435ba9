import type { HealthCheck, HealthRange } from "@switchboard/shared";
import { useCallback, useMemo } from "react";
import { type ChartOptions, type ChartTheme, TimeChart } from "../../components/time-chart";
import { EmptyState, ErrorState, Panel, Spinner } from "../../components/ui";
import { describeError } from "../../lib/api";
import { dateTime, timeAgo } from "../../lib/format";
import { RangePicker, useChartRange } from "./chart-range";
import { Reason } from "./health-reason";
import { isolatedIndexes, RANGE_WORDS, type ShapedHealth, shapeHealth, summaryText } from "./health-series";
import { bandColors, failureColor, paintBands, paintFailures } from "./latency-paint";
import { useHealth } from "./queries";
import { useHealthSeries } from "./series-queries";

/** A moment on the time axis in words: the time of day, with the day for a week's range. */
export function clock(seconds: number, range: HealthRange): string {
  const d = new Date(seconds * 1000);
  return range === "7d"
    ? d.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" })
    : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

const ms = (_u: unknown, v: number | null) => (v === null ? "—" : `${v} ms`);

/**
 * Mean and highest latency per bucket over bands of each bucket's worst state, with failed checks
 * marked on the time axis. Where no check answered the line stops: a failure is never a fast answer.
 */
export function latencyOptions(s: ShapedHealth, range: HealthRange, theme: ChartTheme): ChartOptions {
  const line = theme.dark ? "#a5b4fc" : "#4f46e5";
  const faint = theme.dark ? "rgba(165, 180, 252, 0.6)" : "rgba(79, 70, 229, 0.55)";
  const axis = {
    stroke: theme.ink,
    grid: { stroke: theme.grid, width: 1 },
    ticks: { stroke: theme.grid, width: 1 },
  };
  const colors = bandColors(theme.dark);
  const isolated = isolatedIndexes(s.data[1]);
  return {
    scales: {
      x: { time: true, range: () => [s.from, s.to] },
      y: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil((max ?? 0) * 1.15))] },
    },
    axes: [axis, { ...axis, size: 60, values: (_u, splits) => splits.map((v) => `${v} ms`) }],
    // The range picker chooses the window: dragging to zoom would fight it.
    cursor: { drag: { x: false, y: false } },
    series: [
      {
        value: (_u, v) =>
          v === null ? "—" : `${clock(v - s.step / 2, range)}–${clock(v + s.step / 2, range)}`,
      },
      {
        label: "Mean latency",
        stroke: line,
        width: 2,
        spanGaps: false,
        points: { show: false, size: 5, fill: line, filter: isolated.length ? isolated : null },
        value: ms,
      },
      {
        label: "Highest",
        stroke: faint,
        width: 1,
        dash: [4, 4],
        spanGaps: false,
        points: { show: false },
        value: ms,
      },
    ],
    hooks: {
      drawClear: [(u) => paintBands(u, s.bands, colors)],
      draw: [(u) => paintFailures(u, s.failures, failureColor(theme.dark), theme.pxRatio)],
    },
  };
}

const KEY = [
  { label: "Healthy", className: "bg-emerald-500/40" },
  { label: "Degraded", className: "bg-amber-500/50" },
  { label: "Sign-in required", className: "bg-sky-500/50" },
  { label: "Unhealthy", className: "bg-rose-500/55" },
];

/** The server's health over the chosen range: a summary line, the chart, and the latest failures. */
export function HealthPanel({
  serverId,
  live,
  enabled,
}: {
  serverId: string;
  live: boolean;
  enabled: boolean;
}) {
  const [range, setRange] = useChartRange();
  return (
    <Panel
      title="Health"
      actions={<RangePicker value={range} onChange={setRange} label="Health time range" />}
    >
      <HealthChart serverId={serverId} live={live} range={range} enabled={enabled} />
      <RecentFailures serverId={serverId} live={live} />
    </Panel>
  );
}

export function HealthChart({
  serverId,
  live,
  range,
  enabled,
}: {
  serverId: string;
  live: boolean;
  range: HealthRange;
  enabled: boolean;
}) {
  const series = useHealthSeries(serverId, range, live);
  const shaped = useMemo(() => (series.data ? shapeHealth(series.data) : null), [series.data]);

  if (series.isPending)
    return (
      <div className="flex h-44 items-center justify-center">
        <Spinner label="Loading health…" />
      </div>
    );
  if (series.isError)
    return <ErrorState error={describeError(series.error)} retry={() => series.refetch()} />;
  if (!shaped || shaped.summary.checks === 0)
    return (
      <EmptyState title={`No checks in ${RANGE_WORDS[range]}`}>
        {enabled
          ? "The chart fills in as scheduled checks run, or when you check now."
          : "The server is disabled: enable it to have it checked."}
      </EmptyState>
    );
  return <LatencyFigure shaped={shaped} range={range} />;
}

function LatencyFigure({ shaped, range }: { shaped: ShapedHealth; range: HealthRange }) {
  const options = useCallback((theme: ChartTheme) => latencyOptions(shaped, range, theme), [shaped, range]);
  const summary = summaryText(range, shaped.summary);
  return (
    <figure>
      <p className="mb-2 text-sm font-medium" data-testid="health-summary">
        {summary}
      </p>
      <TimeChart
        label={`Latency and status over ${RANGE_WORDS[range]}. ${summary}.`}
        data={shaped.data}
        options={options}
        testId="latency-chart"
      />
      <figcaption className="mt-2 flex flex-wrap gap-x-3 gap-y-1 text-xs text-slate-600 dark:text-slate-400">
        {KEY.map((k) => (
          <span key={k.label} className="inline-flex items-center gap-1">
            <span aria-hidden className={`inline-block h-2.5 w-3 rounded-sm ${k.className}`} />
            {k.label}
          </span>
        ))}
        <span className="inline-flex items-center gap-1">
          <span aria-hidden className="text-rose-600 dark:text-rose-400">
            ▲
          </span>
          failed checks (no answer: the line breaks)
        </span>
      </figcaption>
    </figure>
  );
}

const SHOWN_FAILURES = 5;

/**
 * The latest checks that got no answer, with their reasons: what a chart's red marks cannot say.
 * Folded to one line that names the latest, so that the keys below stay in view.
 */
function RecentFailures({ serverId, live }: { serverId: string; live: boolean }) {
  const health = useHealth(serverId, live);
  const box = "mt-3 border-t border-slate-900/10 pt-3 text-sm dark:border-white/10";
  if (health.isPending)
    return (
      <div className={box}>
        <Spinner label="Loading recent checks…" />
      </div>
    );
  if (health.isError)
    return (
      <div className={box}>
        <ErrorState error={describeError(health.error)} retry={() => health.refetch()} />
      </div>
    );
  const { items } = health.data;
  const failed = items.filter((c: HealthCheck) => c.status === "unhealthy");
  const latest = failed[0];
  if (!latest)
    return (
      <p className={`${box} text-slate-600 dark:text-slate-400`}>
        {items.length === 0
          ? "No checks recorded yet."
          : items.length === 1
            ? "The one check recorded got an answer."
            : `No failures among the last ${items.length} checks.`}
      </p>
    );
  return (
    <details className={box}>
      <summary className="cursor-pointer">
        <span className="font-medium">
          {failed.length} of the last {items.length} checks failed
        </span>
        {" · latest "}
        <FailedCheck check={latest} />
      </summary>
      <ul className="mt-2 space-y-1" aria-label="Recent failed checks">
        {failed.slice(0, SHOWN_FAILURES).map((c) => (
          <li key={c.id}>
            <FailedCheck check={c} />
          </li>
        ))}
      </ul>
    </details>
  );
}

function FailedCheck({ check }: { check: HealthCheck }) {
  return (
    <>
      <time dateTime={check.checkedAt} title={dateTime(check.checkedAt)} className="whitespace-nowrap">
        {timeAgo(check.checkedAt)}
      </time>
      : {check.error ? <Reason code={check.error} /> : "no reason given"}
    </>
  );
}
