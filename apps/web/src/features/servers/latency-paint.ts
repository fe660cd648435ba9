import type uPlot from "uplot";
import type { Band, BucketState, Failure } from "./health-series";

/** The part of a uPlot instance the painters use: its canvas, plotting box and x scale. */
export type Plot = Pick<uPlot, "ctx" | "bbox" | "valToPos">;

/** Band fills per state, a little stronger on a dark background, where pale tints vanish. */
export function bandColors(dark: boolean): Record<BucketState, string> {
  const a = dark ? 0.32 : 0.22;
  return {
    // Healthy is the usual state: a light wash, so that the others stand out against it.
    healthy: `rgba(16, 185, 129, ${dark ? 0.15 : 0.13})`,
    degraded: `rgba(245, 158, 11, ${a + 0.08})`,
    auth_required: `rgba(14, 165, 233, ${a + 0.04})`,
    unhealthy: `rgba(244, 63, 94, ${a + 0.1})`,
  };
}

export const failureColor = (dark: boolean) => (dark ? "#fb7185" : "#e11d48");

/**
 * Paints one band per run of buckets, behind the grid and the line. The runs never overlap (each
 * bucket has one worst state), so neither do the bands; each is clipped to the plotting box.
 */
export function paintBands(u: Plot, bands: Band[], colors: Record<BucketState, string>): void {
  const { ctx, bbox } = u;
  const right = bbox.left + bbox.width;
  ctx.save();
  for (const b of bands) {
    const x0 = Math.max(bbox.left, Math.round(u.valToPos(b.from, "x", true)));
    const x1 = Math.min(right, Math.round(u.valToPos(b.to, "x", true)));
    if (x1 <= x0) continue;
    ctx.fillStyle = colors[b.state];
    ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
  }
  ctx.restore();
}

/**
 * Marks each bucket with failed checks with a triangle on the time axis, pointing up at the band:
 * a failure has no latency, so the line leaves a gap there and the marker says why.
 */
export function paintFailures(u: Plot, failures: Failure[], color: string, pxRatio: number): void {
  const { ctx, bbox } = u;
  const size = 5 * pxRatio;
  const base = bbox.top + bbox.height;
  ctx.save();
  ctx.fillStyle = color;
  for (const f of failures) {
    const x = u.valToPos(f.at, "x", true);
    if (x < bbox.left || x > bbox.left + bbox.width) continue;
    ctx.beginPath();
    ctx.moveTo(x, base - size * 1.6);
    ctx.lineTo(x - size, base);
    ctx.lineTo(x + size, base);
    ctx.closePath();
    ctx.fill();
  }
  ctx.restore();
}
