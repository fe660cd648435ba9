import { median, round } from "./stats";

/**
 * One memory sample: seconds since sampling began; resident set, V8 heap in use, and memory outside
 * the heap that V8 knows of (buffers, WebAssembly memory such as embedded PGlite's), in bytes.
 */
export interface MemorySample {
  at: number;
  rss: number;
  heapUsed: number;
  external?: number;
  /** Taken right after a full garbage collection. */
  afterGc?: boolean;
}

const MIB = 2 ** 20;

/** The least-squares line through (x, y): its value at `from` and at `to`. */
function trend(points: { x: number; y: number }[], from: number, to: number) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const slope = sxx ? points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx : 0;
  return { start: my + slope * (from - mx), end: my + slope * (to - mx) };
}

/** The lowest sample of each of `count` equal windows from `from` to `to`, at its time. */
function floors(
  samples: MemorySample[],
  pick: (s: MemorySample) => number,
  from: number,
  to: number,
  count: number,
) {
  const width = (to - from) / count || 1;
  const windows = new Map<number, { x: number; y: number }>();
  for (const s of samples) {
    const w = Math.min(count - 1, Math.floor((s.at - from) / width));
    const low = windows.get(w);
    if (!low || pick(s) < low.y) windows.set(w, { x: s.at, y: pick(s) });
  }
  return [...windows.values()];
}

/**
 * How memory moved over a run of `seconds`, after a warm-up (a fifth of the run, at most a minute):
 * the least-squares line through its floor (the lowest sample of each quarter of the rest, each
 * at least 5 s), from the warm-up's end to the run's; of the samples taken right after a full
 * garbage collection, when there are any. Memory held for good raises the floor; the collector's
 * saw-tooth above it, which swings resident memory by tens of MiB under load, and the heap it
 * lets grow before collecting, do not. Also the peak, and each minute's median, of all samples.
 */
export function memoryTrend(samples: MemorySample[], seconds: number) {
  const warmupSeconds = Math.min(60, Math.round(seconds * 0.2));
  // Judged on the samples taken after a full collection, when there are any.
  const judged = samples.some((s) => s.afterGc) ? samples.filter((s) => s.afterGc) : samples;
  const settled = judged.filter((s) => s.at >= warmupSeconds);
  const last = settled[settled.length - 1]?.at ?? seconds;
  // Quarters of the run after warm-up, but no shorter than 5 s.
  const count = Math.max(1, Math.min(4, Math.floor((last - warmupSeconds) / 5)));
  const rssFloor = floors(settled, (s) => s.rss, warmupSeconds, last, count);
  if (rssFloor.length < 2) throw new Error("too few memory samples");
  const rss = trend(rssFloor, warmupSeconds, last);
  const heap = trend(
    floors(settled, (s) => s.heapUsed, warmupSeconds, last, count),
    warmupSeconds,
    last,
  );
  const minutes = new Map<number, number[]>();
  for (const s of samples) {
    const minute = Math.floor(s.at / 60);
    minutes.set(minute, minutes.get(minute) ?? []);
    minutes.get(minute)?.push(s.rss);
  }
  return {
    warmupSeconds,
    rssStartMb: round(rss.start / MIB, 1),
    rssEndMb: round(rss.end / MIB, 1),
    rssGrowthPct: round(((rss.end - rss.start) / rss.start) * 100, 2),
    rssPeakMb: round(Math.max(...samples.map((s) => s.rss)) / MIB, 1),
    heapStartMb: round(heap.start / MIB, 1),
    heapEndMb: round(heap.end / MIB, 1),
    rssByMinuteMb: [...minutes.values()].map((m) => round(median(m) / MIB, 1)).join(" "),
  };
}
