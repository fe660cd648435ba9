import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { CHART_HEIGHT, type ChartTheme, type TimeChartProps } from "./time-chart";

const isDark = () => document.documentElement.classList.contains("dark");

/** Follows the `dark` class on <html>, which the theme switch toggles. */
function useDarkClass(): boolean {
  const [dark, setDark] = useState(isDark);
  useEffect(() => {
    const watch = new MutationObserver(() => setDark(isDark()));
    watch.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
    return () => watch.disconnect();
  }, []);
  return dark;
}

/**
 * The chart engine, loaded lazily by TimeChart. uPlot sizes and places its parts through CSSOM
 * (`element.style`), which the dashboard's CSP allows; it writes no style attributes or <style>
 * elements. Rebuilt when the data, options or theme change; resized when its container is.
 */
export function UPlotChart({ label, data, options, testId }: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const dark = useDarkClass();

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const theme: ChartTheme = {
      dark,
      ink: getComputedStyle(el).color || (dark ? "#cbd5e1" : "#334155"),
      grid: dark ? "rgba(255, 255, 255, 0.09)" : "rgba(15, 23, 42, 0.08)",
      pxRatio: uPlot.pxRatio || 1,
    };
    const width = () => Math.max(200, el.clientWidth);
    const plot = new uPlot({ ...options(theme), width: width(), height: CHART_HEIGHT }, data, el);
    const resize =
      typeof ResizeObserver === "function"
        ? new ResizeObserver(() => plot.setSize({ width: width(), height: CHART_HEIGHT }))
        : null;
    resize?.observe(el);
    return () => {
      resize?.disconnect();
      plot.destroy();
    };
  }, [data, options, dark]);

  // The canvas says nothing to a screen reader: the label does (role=img also hides uPlot's legend from it).
  return <div ref={host} role="img" aria-label={label} className="w-full min-w-0" data-testid={testId} />;
}
