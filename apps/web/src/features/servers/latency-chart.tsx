import type { HealthCheck } from "@switchboard/shared";

const BAND: Record<HealthCheck["status"], string> = {
  healthy: "fill-emerald-500/25",
  degraded: "fill-amber-500/35",
  unhealthy: "fill-rose-500/35",
};

/** Latency over time as a line, over bands coloured by each check's status. Plain SVG. */
export function LatencyChart({ checks }: { checks: HealthCheck[] }) {
  const points = [...checks].reverse();
  if (points.length < 2)
    return <p className="text-sm text-slate-600 dark:text-slate-400">The chart appears after two checks.</p>;
  const W = 600;
  const H = 160;
  const max = Math.max(10, ...points.map((p) => p.latencyMs ?? 0));
  const step = W / (points.length - 1);
  const y = (ms: number | null) => H - ((ms ?? 0) / max) * (H - 10);
  const path = points
    .map((p, i) => `${i ? "L" : "M"}${(i * step).toFixed(1)},${y(p.latencyMs).toFixed(1)}`)
    .join(" ");
  return (
    <figure>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="h-40 w-full"
        role="img"
        aria-label={`Latency of the last ${points.length} checks, up to ${max} ms`}
      >
        {points.map((p, i) => (
          <rect
            key={p.id}
            x={Math.max(0, i * step - step / 2)}
            y={0}
            width={step}
            height={H}
            className={BAND[p.status]}
          >
            <title>
              {new Date(p.checkedAt).toLocaleString()}: {p.status}, {p.latencyMs ?? "—"} ms
              {p.error ? `, ${p.error}` : ""}
            </title>
          </rect>
        ))}
        <path d={path} className="fill-none stroke-indigo-600 dark:stroke-indigo-300" strokeWidth={2} />
      </svg>
      <figcaption className="mt-1 flex justify-between text-xs text-slate-600 dark:text-slate-400">
        <span>{new Date(points[0]?.checkedAt ?? "").toLocaleTimeString()}</span>
        <span>max {max} ms · green healthy, amber degraded, red unhealthy</span>
        <span>{new Date(points.at(-1)?.checkedAt ?? "").toLocaleTimeString()}</span>
      </figcaption>
    </figure>
  );
}
