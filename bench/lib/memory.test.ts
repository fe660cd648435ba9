import { describe, expect, it } from "vitest";
import { type MemorySample, memoryTrend } from "./memory";

const MIB = 2 ** 20;

/** One sample a second for `seconds`, resident memory given in MiB by `rssMb(t)`. */
const run = (seconds: number, rssMb: (t: number) => number): MemorySample[] =>
  Array.from({ length: seconds }, (_, t) => ({ at: t, rss: rssMb(t) * MIB, heapUsed: 50 * MIB }));

describe("the memory trend of a run", () => {
  it("reads a garbage collector's saw-tooth around a steady level as flat", () => {
    // 200 MiB, climbing 20 MiB over 10 s and dropping back, for five minutes.
    const trend = memoryTrend(
      run(300, (t) => 200 + 2 * (t % 10)),
      300,
    );
    expect(Math.abs(trend.rssGrowthPct)).toBeLessThan(1);
    expect(trend.rssPeakMb).toBe(218);
    expect(trend.warmupSeconds).toBe(60);
  });

  it("reads a run that ends at the top of a large saw-tooth as flat", () => {
    // Under load the heap swings resident memory by 90 MiB every 40 s; the run ends near a peak.
    const trend = memoryTrend(
      run(300, (t) => 600 + 90 * ((t % 40) / 40)),
      300,
    );
    expect(trend.rssGrowthPct).toBe(0);
    expect(trend.rssStartMb).toBe(600);
  });

  it("sees a leak under the saw-tooth", () => {
    const trend = memoryTrend(
      run(300, (t) => 600 + 90 * ((t % 40) / 40) + (t < 60 ? 0 : 0.2 * (t - 60))),
      300,
    );
    // 0.2 MiB a second for the four minutes after warm-up: 48 MiB on 600, 8%.
    expect(trend.rssGrowthPct).toBeGreaterThan(7);
    expect(trend.rssGrowthPct).toBeLessThan(9);
  });

  it("sees a leak as growth from the end of warm-up to the end of the run", () => {
    // Steady at 200 MiB, then 0.1 MiB more every second: 24 MiB over the four minutes after warm-up.
    const trend = memoryTrend(
      run(300, (t) => (t < 60 ? 200 : 200 + 0.1 * (t - 60))),
      300,
    );
    expect(trend.rssStartMb).toBe(200);
    expect(trend.rssEndMb).toBeCloseTo(223.9, 1);
    expect(trend.rssGrowthPct).toBeCloseTo(11.95, 1);
  });

  it("judges the samples taken after a full collection, when there are any", () => {
    // Between collections the heap is let grow (V8 raises its limit under load); after a full
    // collection every 10 s, what is held stays at 600 MiB.
    const samples = run(300, (t) => 600 + 0.5 * t).map((s) =>
      s.at % 10 === 9 ? { ...s, rss: 600 * MIB, afterGc: true } : s,
    );
    const flat = memoryTrend(samples, 300);
    expect(flat.rssGrowthPct).toBe(0);
    expect(flat.rssPeakMb).toBe(749);
    const leaking = memoryTrend(
      samples.map((s) => (s.afterGc ? { ...s, rss: (600 + 0.1 * s.at) * MIB } : s)),
      300,
    );
    expect(leaking.rssGrowthPct).toBeGreaterThan(3);
  });

  it("leaves out a warm-up of a fifth of a short run, and gives each minute's median", () => {
    // The heap fills in the first 10 s of a 50 s run, then stays.
    const trend = memoryTrend(
      run(50, (t) => (t < 10 ? 100 + 10 * t : 200)),
      50,
    );
    expect(trend.warmupSeconds).toBe(10);
    expect(trend.rssGrowthPct).toBe(0);
    expect(trend.rssByMinuteMb).toBe("200");
  });
});
