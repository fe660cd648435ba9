import type { HealthRange, ServerUsage } from "@switchboard/shared";
import { useCallback, useMemo } from "react";
import { type ChartOptions, type ChartTheme, TimeChart } from "../../components/time-chart";
import { EmptyState, ErrorState, Panel, Spinner } from "../../components/ui";
import { describeError } from "../../lib/api";
import { RangePicker, useChartRange } from "./chart-range";
import { RANGE_WORDS } from "./health-series";
import { clock } from "./latency-chart";
import { useUsageSeries } from "./series-queries";
import { busiestText, type ShapedUsage, shapeUsage, usageSummaryText, usageTotalsText } from "./usage-series";

const count = new Intl.NumberFormat();

export function usageOptions(s: ShapedUsage, range: HealthRange, theme: ChartTheme): ChartOptions {
  const calls = theme.dark ? "#a5b4fc" : "#4f46e5";
  const errors = theme.dark ? "#fb7185" : "#e11d48";
  const axis = {
    stroke: theme.ink,
    grid: { stroke: theme.grid, width: 1 },
    ticks: { stroke: theme.grid, width: 1 },
  };
  const n = (_u: unknown, v: number | null) => (v === null ? "—" : count.format(v));
  return {
    scales: {
      x: { time: true, range: () => [s.from, s.to] },
      y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil((max ?? 0) * 1.15))] },
    },
    axes: [
      axis,
      {
        ...axis,
        size: 52,
        // Calls are whole: no 0.5 ticks on a quiet chart.
        values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? count.format(v) : "")),
      },
    ],
    cursor: { drag: { x: false, y: false } },
    series: [
      {
        value: (_u, v) =>
          v === null ? "—" : `${clock(v - s.step / 2, range)}–${clock(v + s.step / 2, range)}`,
      },
      {
        label: "Calls",
        stroke: calls,
        fill: theme.dark ? "rgba(165, 180, 252, 0.18)" : "rgba(79, 70, 229, 0.14)",
        width: 2,
        value: n,
      },
      { label: "Errors", stroke: errors, width: 2, value: n },
    ],
  };
}

/** The server's gateway traffic over the page's range: totals, and calls and errors over time. */
export function UsagePanel({ serverId }: { serverId: string }) {
  const [range, setRange] = useChartRange();
  return (
    <Panel
      title="Gateway traffic"
      actions={<RangePicker value={range} onChange={setRange} label="Gateway traffic time range" />}
    >
      <UsageBody serverId={serverId} range={range} />
    </Panel>
  );
}

export function UsageBody({ serverId, range }: { serverId: string; range: HealthRange }) {
  const usage = useUsageSeries(serverId, range);
  if (usage.isPending)
    return (
      <div className="flex h-44 items-center justify-center">
        <Spinner label="Loading gateway traffic…" />
      </div>
    );
  if (usage.isError) return <ErrorState error={describeError(usage.error)} retry={() => usage.refetch()} />;
  if (usage.data.totals.calls === 0)
    return (
      <EmptyState title={`No gateway calls in ${RANGE_WORDS[range]}`}>
        Calls made through the gateway with this server's keys show here, with their errors.
      </EmptyState>
    );
  return <UsageFigure usage={usage.data} range={range} />;
}

function UsageFigure({ usage, range }: { usage: ServerUsage; range: HealthRange }) {
  const shaped = useMemo(() => shapeUsage(usage), [usage]);
  const options = useCallback((theme: ChartTheme) => usageOptions(shaped, range, theme), [shaped, range]);
  const summary = usageSummaryText(range, usage, shaped.busiest);
  const minutes = Math.round(usage.step / 60);
  return (
    <figure>
      <p className="mb-2 text-sm font-medium" data-testid="usage-totals">
        {usageTotalsText(usage.totals)}
      </p>
      <TimeChart
        label={`Gateway calls and errors over ${RANGE_WORDS[range]}. ${summary}.`}
        data={shaped.data}
        options={options}
        testId="usage-chart"
      />
      <figcaption className="mt-2 text-xs text-slate-600 dark:text-slate-400">
        Calls (indigo) and errors (red) every {minutes >= 60 ? `${minutes / 60} h` : `${minutes} min`}
        {shaped.busiest && `; ${busiestText(shaped.busiest)}`}.
      </figcaption>
    </figure>
  );
}
