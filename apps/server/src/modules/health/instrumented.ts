import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { Metrics } from "../../lib/metrics";
import { inSpan, type Tracing } from "../../lib/tracing";
import type { Prober } from "./probe";

/** Where a probe goes, without the query string (which may carry a token). */
function targetAttributes(url: string, transport: string) {
  try {
    const u = new URL(url);
    return {
      "server.address": u.hostname,
      "server.port": Number(u.port || (u.protocol === "https:" ? 443 : 80)),
      "url.path": u.pathname,
      "switchboard.mcp.transport": transport,
    };
  } catch {
    return { "switchboard.mcp.transport": transport };
  }
}

/**
 * A prober that reports every probe, whoever asks for it (the scheduler, "Check now", "Test
 * connection"): counted by outcome and timed in the metrics, and, with tracing on, a span that the
 * probe's requests carry to the server as their traceparent.
 */
export function instrumentProber(
  probe: Prober,
  { metrics, tracing }: { metrics: Metrics; tracing: Tracing },
): Prober {
  return async (target) => {
    metrics.probesInFlight(1);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await inSpan(
        tracing,
        "health probe",
        { kind: SpanKind.CLIENT, attributes: targetAttributes(target.url, target.transport) },
        async (span) => {
          const r = await probe(target);
          if (span) {
            span.setAttributes({
              "switchboard.probe.status": r.status,
              "switchboard.probe.latency_ms": r.latencyMs,
              ...(r.error ? { "switchboard.probe.reason": r.error } : {}),
              ...(r.serverInfo?.protocolVersion
                ? { "mcp.protocol.version": r.serverInfo.protocolVersion }
                : {}),
            });
            if (r.status === "unhealthy")
              span.setStatus({ code: SpanStatusCode.ERROR, message: r.error ?? "unhealthy" });
          }
          return r;
        },
      );
      metrics.probe(result.status, result.error, seconds());
      return result;
    } catch (err) {
      metrics.probe("unhealthy", "error", seconds());
      throw err;
    } finally {
      metrics.probesInFlight(-1);
    }
  };
}
