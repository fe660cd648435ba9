import { lazy, Suspense } from "react";
import type uPlot from "uplot";

/** The colours a chart draws with, read from the page when it is drawn (and again on a theme change). */
export interface ChartTheme {
  dark: boolean;
  /** The text colour around the chart: axes and their labels. */
  ink: string;
  grid: string;
  /** Canvas pixels per CSS pixel. */
  pxRatio: number;
}

/** uPlot options but the size, which the chart takes from its container. */
export type ChartOptions = Omit<uPlot.Options, "width" | "height">;

export interface TimeChartProps {
  /** The chart in words, for those who cannot see it: read out in place of the canvas. */
  label: string;
  data: uPlot.AlignedData;
  /** Builds the options for a theme; keep it stable (useCallback) or the chart is rebuilt each render. */
  options: (theme: ChartTheme) => ChartOptions;
  testId?: string;
}

/** Plotting height in CSS pixels, matched by the placeholder's `h-44` while uPlot loads. */
export const CHART_HEIGHT = 176;

// uPlot and its stylesheet load with the first chart, not with the app.
const UPlotChart = lazy(() => import("./uplot-chart").then((m) => ({ default: m.UPlotChart })));

/**
 * A time series chart drawn by uPlot on a canvas, as wide as its container. Without a layout
 * engine (a test's DOM has no matchMedia, which uPlot needs on load) only its text alternative shows.
 */
export function TimeChart(props: TimeChartProps) {
  if (typeof window.matchMedia !== "function")
    return <div role="img" aria-label={props.label} data-testid={props.testId} className="h-44 w-full" />;
  return (
    <Suspense
      fallback={
        <div className="h-44 w-full animate-pulse rounded-lg bg-slate-900/5 dark:bg-white/5" role="status">
          <span className="sr-only">Loading chart…</span>
        </div>
      }
    >
      <UPlotChart {...props} />
    </Suspense>
  );
}
