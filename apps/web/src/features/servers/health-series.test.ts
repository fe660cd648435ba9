import type { HealthBucket, HealthSeries } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { isolatedIndexes, shapeHealth, summarize, summaryText, worstState } from "./health-series";

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
const s = (ms: number) => ms / 1000;

/** A bucket `i` minutes after T0; by default one healthy check at 100 ms. */
function bucket(i: number, overrides: Partial<HealthBucket> = {}): HealthBucket {
  const b = { checks: 1, healthy: 1, degraded: 0, unhealthy: 0, authRequired: 0, ...overrides };
  const answered = b.checks - b.unhealthy;
  return {
    at: new Date(T0 + i * 60_000).toISOString(),
    avgLatencyMs: answered ? 100 : null,
    maxLatencyMs: answered ? 150 : null,
    ...b,
    ...overrides,
  };
}

/** An hour of one-minute buckets from T0, with only the buckets given. */
const hour = (buckets: HealthBucket[]): HealthSeries => ({
  range: "1h",
  stepSeconds: 60,
  from: new Date(T0).toISOString(),
  to: new Date(T0 + 3_600_000).toISOString(),
  buckets,
});

describe("shapeHealth", () => {
  it("puts every bucket of the range on the time axis, at its middle, and leaves missing ones empty", () => {
    const shaped = shapeHealth(hour([bucket(0), bucket(1), bucket(5)]));
    const [xs, avg, max] = shaped.data;
    expect(xs).toHaveLength(60);
    expect(xs[0]).toBe(s(T0) + 30);
    expect(xs[59]).toBe(s(T0) + 59 * 60 + 30);
    expect(avg.slice(0, 7)).toEqual([100, 100, null, null, null, 100, null]);
    expect(max.slice(0, 3)).toEqual([150, 150, null]);
    expect([shaped.from, shaped.to]).toEqual([s(T0), s(T0 + 3_600_000)]);
  });

  it("leaves a gap where every check failed, never a zero-latency dip, and marks the failures", () => {
    const shaped = shapeHealth(
      hour([bucket(0), bucket(1, { checks: 2, healthy: 0, unhealthy: 2 }), bucket(2)]),
    );
    expect(shaped.data[1].slice(0, 3)).toEqual([100, null, 100]);
    expect(shaped.failures).toEqual([{ at: s(T0) + 60 + 30, count: 2 }]);
  });

  it("keeps the latency of the checks that answered in a bucket where some failed, and still marks it", () => {
    const shaped = shapeHealth(hour([bucket(0, { checks: 3, healthy: 2, unhealthy: 1, avgLatencyMs: 80 })]));
    expect(shaped.data[1][0]).toBe(80);
    expect(shaped.failures).toEqual([{ at: s(T0) + 30, count: 1 }]);
    expect(shaped.bands).toEqual([{ from: s(T0), to: s(T0) + 60, state: "unhealthy" }]);
  });

  it("joins neighbouring buckets in the same state into one band, and bands never overlap", () => {
    const shaped = shapeHealth(
      hour([
        bucket(0),
        bucket(1),
        bucket(2, { healthy: 0, degraded: 1 }),
        bucket(3, { checks: 2, healthy: 1, authRequired: 1 }),
        // A bucket without checks splits two healthy runs.
        bucket(5),
      ]),
    );
    expect(shaped.bands).toEqual([
      { from: s(T0), to: s(T0) + 120, state: "healthy" },
      { from: s(T0) + 120, to: s(T0) + 180, state: "degraded" },
      { from: s(T0) + 180, to: s(T0) + 240, state: "auth_required" },
      { from: s(T0) + 300, to: s(T0) + 360, state: "healthy" },
    ]);
    for (const [a, b] of shaped.bands.slice(1).map((band, i) => [shaped.bands[i], band] as const))
      expect(b.from).toBeGreaterThanOrEqual(a?.to ?? 0);
  });

  it("lines the grid up with the buckets' own starts when the range starts between them", () => {
    const series = { ...hour([bucket(1), bucket(3)]), from: new Date(T0 + 20_000).toISOString() };
    const [xs, avg] = shapeHealth(series).data;
    // The first slot is the bucket the range's start falls in.
    expect(xs[0]).toBe(s(T0) + 30);
    expect(avg.slice(0, 4)).toEqual([null, 100, null, 100]);
  });

  it("shapes an empty range as a grid of gaps with no bands", () => {
    const shaped = shapeHealth(hour([]));
    expect(shaped.data[0]).toHaveLength(60);
    expect(shaped.data[1].every((v) => v === null)).toBe(true);
    expect(shaped.bands).toEqual([]);
    expect(shaped.summary.uptime).toBeNull();
  });
});

describe("worstState", () => {
  it("ranks unhealthy over sign-in required over degraded over healthy", () => {
    const all = { checks: 4, healthy: 1, degraded: 1, authRequired: 1 };
    expect(worstState(bucket(0, { ...all, unhealthy: 1 }))).toBe("unhealthy");
    expect(worstState(bucket(0, all))).toBe("auth_required");
    expect(worstState(bucket(0, { ...all, authRequired: 0 }))).toBe("degraded");
    expect(worstState(bucket(0))).toBe("healthy");
    expect(worstState(bucket(0, { checks: 0, healthy: 0 }))).toBeNull();
  });
});

describe("the summary line", () => {
  it("says the share up, the median latency and the failures", () => {
    const summary = summarize([
      bucket(0, { checks: 100, healthy: 99, unhealthy: 1, avgLatencyMs: 120 }),
      bucket(1, { checks: 40, healthy: 40, avgLatencyMs: 300 }),
      bucket(2, { checks: 10, healthy: 9, unhealthy: 1, avgLatencyMs: 90 }),
    ]);
    expect(summary).toMatchObject({ checks: 150, answered: 148, failures: 2, medianMs: 120 });
    expect(summaryText("24h", summary)).toBe("24 h: 98.6% up, median 120 ms, 2 failures");
  });

  it("counts sign-in required and degraded checks as up, as the uptime figures do", () => {
    const summary = summarize([bucket(0, { checks: 2, healthy: 0, degraded: 1, authRequired: 1 })]);
    expect(summaryText("1h", summary)).toBe("1 h: 100% up, median 100 ms, 0 failures");
  });

  it("names no median when no check answered, and says when there were no checks", () => {
    const down = summarize([bucket(0, { checks: 1, healthy: 0, unhealthy: 1 })]);
    expect(summaryText("7d", down)).toBe("7 d: 0.0% up, 1 failure");
    expect(summaryText("7d", summarize([]))).toBe("7 d: no checks");
  });
});

describe("isolatedIndexes", () => {
  it("finds the values with gaps on both sides, which a line alone would not show", () => {
    expect(isolatedIndexes([5, null, 7, null, null, 8, 9, null])).toEqual([0, 2]);
    expect(isolatedIndexes([null, 3])).toEqual([1]);
  });
});
