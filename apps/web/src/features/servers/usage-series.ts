import type { HealthRange, ServerUsage, UsagePoint } from "@switchboard/shared";
import { HEALTH_RANGE_SECONDS } from "@switchboard/shared";
import { RANGE_SHORT } from "./health-series";

/** The usage endpoint's step per range: about 60 to 300 buckets, as the health series has. */
export const USAGE_STEP_SECONDS: Record<HealthRange, number> = { "1h": 60, "24h": 300, "7d": 3600 };

/** The usage query for a range ending now. */
export function usageWindow(
  range: HealthRange,
  now = Date.now(),
): { from: string; to: string; step: number } {
  return {
    from: new Date(now - HEALTH_RANGE_SECONDS[range] * 1000).toISOString(),
    to: new Date(now).toISOString(),
    step: USAGE_STEP_SECONDS[range],
  };
}

export interface ShapedUsage {
  from: number;
  to: number;
  step: number;
  /** uPlot's aligned data: each bucket's middle, its calls and its errors (a quiet bucket is 0). */
  data: [number[], number[], number[]];
  busiest: UsagePoint | null;
}

export function shapeUsage(usage: ServerUsage): ShapedUsage {
  const half = usage.step / 2;
  const busiest = usage.points.reduce<UsagePoint | null>((a, b) => (!a || b.calls > a.calls ? b : a), null);
  return {
    from: Date.parse(usage.from) / 1000,
    to: Date.parse(usage.to) / 1000,
    step: usage.step,
    data: [
      usage.points.map((p) => Date.parse(p.at) / 1000 + half),
      usage.points.map((p) => p.calls),
      usage.points.map((p) => p.errors),
    ],
    busiest: busiest && busiest.calls > 0 ? busiest : null,
  };
}

const number = new Intl.NumberFormat();

/** The totals in one line, e.g. "1,234 calls · 12 errors (1.0%) · mean 35 ms". */
export function usageTotalsText(totals: ServerUsage["totals"]): string {
  const share = totals.calls ? (totals.errors / totals.calls) * 100 : 0;
  const parts = [
    `${number.format(totals.calls)} ${totals.calls === 1 ? "call" : "calls"}`,
    `${number.format(totals.errors)} ${totals.errors === 1 ? "error" : "errors"} (${share.toFixed(share < 10 ? 1 : 0)}%)`,
  ];
  if (totals.latencyMsAvg !== null) parts.push(`mean ${Math.round(totals.latencyMsAvg)} ms`);
  return parts.join(" · ");
}

/** The chart's text alternative, e.g. "24 h: 1,234 calls, 12 errors; busiest at 10:05 with 834 calls". */
export function usageSummaryText(range: HealthRange, usage: ServerUsage, busiest: UsagePoint | null): string {
  const { calls, errors } = usage.totals;
  const head = `${RANGE_SHORT[range]}: ${number.format(calls)} ${calls === 1 ? "call" : "calls"}, ${number.format(errors)} ${errors === 1 ? "error" : "errors"}`;
  return busiest ? `${head}; ${busiestText(busiest)}` : head;
}

export const busiestText = (p: UsagePoint) =>
  `busiest at ${bucketTime(p.at)} with ${number.format(p.calls)} ${p.calls === 1 ? "call" : "calls"}`;

/** A bucket's start as the axis shows it: the time within a day, with the date for longer ranges. */
export function bucketTime(iso: string): string {
  return new Date(iso).toLocaleString([], {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}
