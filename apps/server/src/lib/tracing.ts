import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  propagation,
  type Span,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
// Types only: the SDK itself is imported (dynamically) when tracing is turned on, never otherwise.
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";

/** Traces, as an effect: off (nothing loaded, nothing recorded) unless an OTLP endpoint is set. */
export interface Tracing {
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** Sends what is still buffered and stops; the API falls back to doing nothing. */
  shutdown(): Promise<void>;
}

/** The attribute every Switchboard span carries: the request's X-Correlation-ID. */
export const ATTR_CORRELATION_ID = "switchboard.correlation_id";
const CORRELATION = createContextKey(ATTR_CORRELATION_ID);

export const noTracing: Tracing = {
  enabled: false,
  tracer: trace.getTracer("switchboard"),
  shutdown: async () => {},
};

/**
 * Starts the OpenTelemetry Node SDK, configured by the standard OTEL_* variables (endpoint,
 * protocol, headers, sampler, resource, batch sizes): traces only, since metrics are Prometheus's
 * and logs pino's, and no auto-instrumentation (the server is one esbuild bundle, which module
 * patching cannot see into): Switchboard makes its spans itself. `spanProcessors` replaces the
 * exporter the variables name (tests pass an in-memory one).
 */
export async function startTracing(opts: { spanProcessors?: SpanProcessor[] } = {}): Promise<Tracing> {
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  const named =
    process.env.OTEL_SERVICE_NAME ||
    /(^|,)\s*service\.name\s*=/.test(process.env.OTEL_RESOURCE_ATTRIBUTES ?? "");
  const sdk = new NodeSDK({
    ...(named ? {} : { serviceName: "switchboard" }),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
    ...(opts.spanProcessors ? { spanProcessors: opts.spanProcessors } : {}),
  });
  sdk.start();
  return {
    enabled: true,
    tracer: trace.getTracer("switchboard"),
    async shutdown() {
      try {
        await sdk.shutdown();
      } finally {
        // The API's globals go back to no-ops, so that a later start in this process (a test) works.
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}

/** The context with this request's correlation id, which every span started under it records. */
export const withCorrelationId = (ctx: Context, id: string): Context => ctx.setValue(CORRELATION, id);

/** Attributes every span gets: the correlation id of the request it belongs to, when there is one. */
export function baseAttributes(ctx: Context = context.active()): Attributes {
  const id = ctx.getValue(CORRELATION);
  return typeof id === "string" ? { [ATTR_CORRELATION_ID]: id } : {};
}

/**
 * W3C trace context headers (`traceparent`, and `tracestate` when there is one) for a request
 * made now, from the active span; empty when tracing is off.
 */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** Marks a span failed with the error's name (the message may hold what a span must not). */
export function failSpan(span: Span, err: unknown, message?: string): void {
  const name = (err as { name?: unknown })?.name;
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: message ?? (typeof name === "string" ? name : "error"),
  });
  if (err instanceof Error) span.recordException({ name: err.name, message: message ?? err.name });
}

/**
 * Runs `fn` in a span of its own, a child of the active one, ended when `fn` settles; with
 * tracing off, runs `fn` with no span at no cost.
 */
export async function inSpan<T>(
  tracing: Tracing,
  name: string,
  opts: { kind: SpanKind; attributes?: Attributes },
  fn: (span: Span | null) => Promise<T>,
): Promise<T> {
  if (!tracing.enabled) return fn(null);
  const parent = context.active();
  const span = tracing.tracer.startSpan(
    name,
    { kind: opts.kind, attributes: { ...baseAttributes(parent), ...opts.attributes } },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}
