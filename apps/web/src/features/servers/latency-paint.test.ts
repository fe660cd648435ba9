import { describe, expect, it } from "vitest";
import { bandColors, type Plot, paintBands, paintFailures } from "./latency-paint";

/** A plot 600 canvas pixels wide from x=50, where time 0–600 s maps one second to one pixel. */
function fakePlot() {
  const calls: string[] = [];
  const ctx = {
    fillStyle: "",
    save: () => calls.push("save"),
    restore: () => calls.push("restore"),
    fillRect: (x: number, y: number, w: number, h: number) =>
      calls.push(`rect ${x},${y} ${w}x${h} ${ctx.fillStyle}`),
    beginPath: () => calls.push("path"),
    moveTo: (x: number, y: number) => calls.push(`move ${x},${y}`),
    lineTo: (x: number, y: number) => calls.push(`line ${x},${y}`),
    closePath: () => {},
    fill: () => calls.push(`fill ${ctx.fillStyle}`),
  };
  const plot = {
    ctx,
    bbox: { left: 50, top: 10, width: 600, height: 100 },
    valToPos: (v: number) => 50 + v,
  } as unknown as Plot;
  return { plot, calls };
}

const colors = bandColors(false);

describe("paintBands", () => {
  it("fills one rectangle per band, the full height of the plot, in its state's colour", () => {
    const { plot, calls } = fakePlot();
    paintBands(
      plot,
      [
        { from: 0, to: 120, state: "healthy" },
        { from: 120, to: 180, state: "unhealthy" },
      ],
      colors,
    );
    expect(calls.filter((c) => c.startsWith("rect"))).toEqual([
      `rect 50,10 120x100 ${colors.healthy}`,
      `rect 170,10 60x100 ${colors.unhealthy}`,
    ]);
  });

  it("clips bands to the plotting box and skips those outside it", () => {
    const { plot, calls } = fakePlot();
    paintBands(
      plot,
      [
        { from: -100, to: 10, state: "degraded" },
        { from: 590, to: 700, state: "auth_required" },
        { from: 700, to: 800, state: "healthy" },
      ],
      colors,
    );
    expect(calls.filter((c) => c.startsWith("rect"))).toEqual([
      `rect 50,10 10x100 ${colors.degraded}`,
      `rect 640,10 10x100 ${colors.auth_required}`,
    ]);
  });
});

describe("paintFailures", () => {
  it("draws a marker on the time axis at each failed bucket inside the plot", () => {
    const { plot, calls } = fakePlot();
    paintFailures(
      plot,
      [
        { at: 90, count: 2 },
        { at: 900, count: 1 },
      ],
      "#e11d48",
      1,
    );
    // One triangle, its base on the axis (y = 110) around x = 140, its tip above.
    expect(calls.filter((c) => /^(move|line|fill)/.test(c))).toEqual([
      "move 140,102",
      "line 135,110",
      "line 145,110",
      "fill #e11d48",
    ]);
  });
});
