import { describe, expect, it } from "vitest";
import { countsPerSecond, peakToMean, pickWeighted } from "./open-loop-stats";

describe("the steady-state benchmark's arithmetic", () => {
  it("picks each request of the mix in proportion to its weight", () => {
    const weights = [60, 20, 10, 5, 5];
    expect(pickWeighted(weights, 0)).toBe(0);
    expect(pickWeighted(weights, 0.5999)).toBe(0);
    expect(pickWeighted(weights, 0.6)).toBe(1);
    expect(pickWeighted(weights, 0.85)).toBe(2);
    expect(pickWeighted(weights, 0.9)).toBe(3);
    expect(pickWeighted(weights, 0.9999)).toBe(4);
    const picked = [0, 0, 0, 0, 0];
    for (let i = 0; i < 1000; i++) {
      const k = pickWeighted(weights, i / 1000);
      picked[k] = (picked[k] ?? 0) + 1;
    }
    expect(picked).toEqual([600, 200, 100, 50, 50]);
  });

  it("counts events in each whole second of a window, empty seconds too, and nothing outside it", () => {
    const from = 1_000_000;
    const times = [from - 1, from, from + 999, from + 1000, from + 2500, from + 3000];
    expect(countsPerSecond(times, from, 3)).toEqual([2, 1, 1]);
    expect(countsPerSecond([], from, 2)).toEqual([0, 0]);
  });

  it("compares the busiest second with the average one", () => {
    expect(peakToMean([10, 10, 10, 10])).toEqual({ seconds: 4, mean: 10, peak: 10, ratio: 1 });
    expect(peakToMean([0, 20, 10, 10])).toEqual({ seconds: 4, mean: 10, peak: 20, ratio: 2 });
    expect(peakToMean([0, 0]).ratio).toBeNaN();
  });
});
