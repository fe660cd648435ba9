import type { ServerUsage } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { shapeUsage, usageTotalsText, usageWindow } from "./usage-series";

const none = { latencyMsAvg: null, latencyMsMax: null, bytesIn: 0, bytesOut: 0 };

describe("usageWindow", () => {
  it("asks for the range ending now, in steps that suit it", () => {
    const now = Date.parse("2026-03-08T12:00:00.000Z");
    expect(usageWindow("1h", now)).toEqual({
      from: "2026-03-08T11:00:00.000Z",
      to: "2026-03-08T12:00:00.000Z",
      step: 60,
    });
    expect(usageWindow("24h", now).step).toBe(300);
    expect(usageWindow("7d", now)).toMatchObject({ from: "2026-03-01T12:00:00.000Z", step: 3600 });
  });
});

describe("shapeUsage", () => {
  const usage: ServerUsage = {
    serverId: "4f7c0a52-8c1e-4d2a-9a55-0a3b1c2d3e4f",
    keyId: null,
    from: "2026-03-01T10:00:00.000Z",
    to: "2026-03-01T10:15:00.000Z",
    step: 300,
    points: [
      { ...none, at: "2026-03-01T10:00:00.000Z", calls: 4, errors: 1 },
      { ...none, at: "2026-03-01T10:05:00.000Z", calls: 0, errors: 0 },
      { ...none, at: "2026-03-01T10:10:00.000Z", calls: 9, errors: 0 },
    ],
    totals: { ...none, calls: 13, errors: 1, latencyMsAvg: 41.6 },
  };

  it("plots calls and errors at each bucket's middle, a quiet bucket as zero", () => {
    const t = Date.parse(usage.from) / 1000;
    expect(shapeUsage(usage).data).toEqual([
      [t + 150, t + 450, t + 750],
      [4, 0, 9],
      [1, 0, 0],
    ]);
    expect(shapeUsage(usage).busiest?.at).toBe("2026-03-01T10:10:00.000Z");
  });

  it("names no busiest bucket when there were no calls", () => {
    const quiet = { ...usage, points: usage.points.map((p) => ({ ...p, calls: 0, errors: 0 })) };
    expect(shapeUsage(quiet).busiest).toBeNull();
  });

  it("sums up calls, errors with their share, and the mean latency", () => {
    expect(usageTotalsText(usage.totals)).toBe("13 calls · 1 error (7.7%) · mean 42 ms");
  });
});
