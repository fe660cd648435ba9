import type { HealthBucket, HealthRange, HealthSeries } from "@switchboard/shared";
import { uptimePercent } from "../../lib/format";

/** What a bucket's band shows: the worst state any of its checks ended in. */
export type BucketState = "unhealthy" | "auth_required" | "degraded" | "healthy";

/** Worst first: a bucket with one failure among twenty answers is a failing bucket. */
export const BUCKET_STATES: readonly BucketState[] = ["unhealthy", "auth_required", "degraded", "healthy"];

export function worstState(b: HealthBucket): BucketState | null {
  if (b.unhealthy > 0) return "unhealthy";
  if (b.authRequired > 0) return "auth_required";
  if (b.degraded > 0) return "degraded";
  if (b.healthy > 0) return "healthy";
  return null;
}

/** A run of neighbouring buckets in one state, in seconds since the epoch: [from, to). */
export interface Band {
  from: number;
  to: number;
  state: BucketState;
}

/** Checks that got no answer, at the middle of their bucket. */
export interface Failure {
  at: number;
  count: number;
}

export interface HealthSummary {
  checks: number;
  /** Checks that got an answer: every one but the unhealthy (as the uptime figures count them). */
  answered: number;
  failures: number;
  /** Share of checks answered, 0–1; null without checks. */
  uptime: number | null;
  /** Median of the buckets' mean latencies, each weighed by its answered checks. */
  medianMs: number | null;
}

export interface ShapedHealth {
  /** The range's edges in seconds: the x axis spans them whatever the data. */
  from: number;
  to: number;
  step: number;
  /**
   * uPlot's aligned data: the middle of every bucket in the range, the mean latency and the
   * highest. A bucket where no check answered (or none ran) is null: a gap in the line, never a 0.
   */
  data: [number[], (number | null)[], (number | null)[]];
  bands: Band[];
  failures: Failure[];
  summary: HealthSummary;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

/**
 * Lays a series on a full grid of its range's buckets (the API leaves out buckets without checks),
 * aligned on the buckets' own starts, so that missing buckets are gaps and not bridged by a line.
 */
export function shapeHealth(series: HealthSeries): ShapedHealth {
  const step = series.stepSeconds;
  const from = seconds(series.from);
  const to = seconds(series.to);
  const byStart = new Map(series.buckets.map((b) => [seconds(b.at), b]));
  const first = series.buckets[0] ? seconds(series.buckets[0].at) : from;
  // Back from the first bucket to the range's start, in whole steps, then on to its end.
  const start = first - Math.ceil((first - from) / step) * step;

  const xs: number[] = [];
  const avg: (number | null)[] = [];
  const max: (number | null)[] = [];
  const bands: Band[] = [];
  const failures: Failure[] = [];
  for (let at = start; at < to; at += step) {
    const b = byStart.get(at);
    xs.push(at + step / 2);
    avg.push(b?.avgLatencyMs ?? null);
    max.push(b?.maxLatencyMs ?? null);
    const state = b ? worstState(b) : null;
    if (b && b.unhealthy > 0) failures.push({ at: at + step / 2, count: b.unhealthy });
    if (!state) continue;
    const last = bands.at(-1);
    if (last && last.state === state && last.to === at) last.to = at + step;
    else bands.push({ from: at, to: at + step, state });
  }
  return { from, to, step, data: [xs, avg, max], bands, failures, summary: summarize(series.buckets) };
}

export function summarize(buckets: HealthBucket[]): HealthSummary {
  let checks = 0;
  let failures = 0;
  const weighed: { ms: number; n: number }[] = [];
  for (const b of buckets) {
    checks += b.checks;
    failures += b.unhealthy;
    const answered = b.checks - b.unhealthy;
    if (b.avgLatencyMs !== null && answered > 0) weighed.push({ ms: b.avgLatencyMs, n: answered });
  }
  const answered = checks - failures;
  return {
    checks,
    answered,
    failures,
    uptime: checks ? answered / checks : null,
    medianMs: weightedMedian(weighed),
  };
}

function weightedMedian(values: { ms: number; n: number }[]): number | null {
  const total = values.reduce((s, v) => s + v.n, 0);
  if (!total) return null;
  const sorted = [...values].sort((a, b) => a.ms - b.ms);
  let seen = 0;
  for (const v of sorted) {
    seen += v.n;
    if (seen >= total / 2) return v.ms;
  }
  return sorted.at(-1)?.ms ?? null;
}

export const RANGE_SHORT: Record<HealthRange, string> = { "1h": "1 h", "24h": "24 h", "7d": "7 d" };
export const RANGE_WORDS: Record<HealthRange, string> = {
  "1h": "the last hour",
  "24h": "the last 24 hours",
  "7d": "the last 7 days",
};

/** The chart in one line, e.g. "24 h: 99.3% up, median 120 ms, 2 failures". */
export function summaryText(range: HealthRange, s: HealthSummary): string {
  if (s.uptime === null) return `${RANGE_SHORT[range]}: no checks`;
  const parts = [`${uptimePercent(s.uptime)} up`];
  if (s.medianMs !== null) parts.push(`median ${s.medianMs} ms`);
  parts.push(s.failures === 1 ? "1 failure" : `${s.failures} failures`);
  return `${RANGE_SHORT[range]}: ${parts.join(", ")}`;
}

/**
 * Values with no value on either side: uPlot draws a line only between two points, so these get
 * a dot of their own or they would not show at all.
 */
export function isolatedIndexes(values: (number | null)[]): number[] {
  const out: number[] = [];
  values.forEach((v, i) => {
    if (v !== null && (values[i - 1] ?? null) === null && (values[i + 1] ?? null) === null) out.push(i);
  });
  return out;
}
