import type { HealthCheck } from "@switchboard/shared";
import { reasonLine, STATUS_LABELS } from "../../lib/health-words";

const BAND: Record<HealthCheck["status"], string> = {
  healthy: "fill-emerald-500/25",
  degraded: "fill-amber-500/35",
  unhealthy: "fill-rose-500/35",
  auth_required: "fill-sky-500/30",
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
        // Stretched to the panel's width, however narrow: time runs left to right, not to scale.
        preserveAspectRatio="none"
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
              {new Date(p.checkedAt).toLocaleString()}: {STATUS_LABELS[p.status]}, {p.latencyMs ?? "—"} ms
              {p.error ? `, ${reasonLine(p.error)}` : ""}
            </title>
          </rect>
        ))}
        <path
          d={path}
          className="fill-none stroke-indigo-600 dark:stroke-indigo-300"
          strokeWidth={2}
          vectorEffect="non-scaling-stroke"
        />
      </svg>
      <figcaption className="mt-1 text-xs text-slate-600 dark:text-slate-400">
        <div className="flex justify-between">
          <span>{new Date(points[0]?.checkedAt ?? "").toLocaleTimeString()}</span>
          <span>max {max} ms</span>
          <span>{new Date(points.at(-1)?.checkedAt ?? "").toLocaleTimeString()}</span>
        </div>
        <p className="mt-0.5">Green healthy, amber degraded, red unhealthy, blue sign-in required.</p>
      </figcaption>
    </figure>
  );
}
