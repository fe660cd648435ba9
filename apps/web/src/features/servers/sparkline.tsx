const WIDTH = 96;
const HEIGHT = 24;
/** Room for the stroke, so the highest and lowest points are not cut in half. */
const PAD = 2;

/**
 * The SVG path of a series, oldest first, scaled to its own range: a null (no data) breaks the
 * line, and a point alone between gaps is drawn as a dot (a zero-length segment with round caps).
 */
export function sparklinePath(values: (number | null)[], width = WIDTH, height = HEIGHT): string {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return "";
  const min = Math.min(...known);
  const span = Math.max(...known) - min;
  const step = values.length > 1 ? (width - 2 * PAD) / (values.length - 1) : 0;
  const y = (v: number) => (span === 0 ? height / 2 : height - PAD - ((v - min) / span) * (height - 2 * PAD));
  const round = (n: number) => Math.round(n * 10) / 10;
  let d = "";
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null) {
      drawing = false;
      return;
    }
    const next = values[i + 1];
    const point = `${round(PAD + i * step)} ${round(y(v))}`;
    if (drawing) d += ` L${point}`;
    else d += `${d ? " " : ""}M${point}${next === null || next === undefined ? " h0" : ""}`;
    drawing = true;
  });
  return d;
}

/** The latest value of a series, or null if it has none. */
export const lastKnown = (values: (number | null)[]) => values.findLast((v) => v !== null) ?? null;

/**
 * A tiny line of a server's latency hour by hour: plain SVG (no chart library, no inline style),
 * named for screen readers by what it ends on.
 */
export function LatencySparkline({ values }: { values: (number | null)[] }) {
  const last = lastKnown(values);
  if (last === null)
    return (
      <span className="text-sm text-slate-600 dark:text-slate-400" title="No latency in the last 24 h">
        —
      </span>
    );
  const label = `Latency over 24 h, last ${last} ms`;
  return (
    <svg
      role="img"
      aria-label={label}
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      width={WIDTH}
      height={HEIGHT}
      className="text-indigo-600 dark:text-indigo-300"
    >
      <title>{label}</title>
      <path
        d={sparklinePath(values)}
        fill="none"
        stroke="currentColor"
        strokeWidth={1.5}
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
