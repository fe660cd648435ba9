import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from "fastify";
import fp from "fastify-plugin";
import type { Metrics } from "../lib/metrics";
import { ATTR_CORRELATION_ID, type Tracing, withCorrelationId } from "../lib/tracing";

/** The `route` of a request no route matched (a 404): never its URL, which anyone can vary. */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * Every request measured (Prometheus: count and duration by route template, method and status
 * class) and, with tracing on, a server span that continues the caller's `traceparent`, with the
 * correlation id as an attribute. The span's context is made active for the hooks that follow
 * and for the handler, so that the database queries, probes and upstream calls a request makes
 * are its children. Registered first, before any route. With metrics and tracing both off, it
 * adds nothing at all to a request.
 */
export const telemetryPlugin = fp(
  async (app: FastifyInstance, { metrics, tracing }: { metrics: Metrics; tracing: Tracing }) => {
    if (metrics.enabled) {
      app.addHook("onResponse", (request, reply, done) => {
        metrics.httpRequest(
          request.routeOptions.url ?? UNMATCHED_ROUTE,
          request.method,
          reply.statusCode,
          reply.elapsedTime / 1000,
        );
        done();
      });
    }
    if (!tracing.enabled) return;

    const { tracer } = tracing;
    const contexts = new WeakMap<FastifyRequest, Context>();

    app.addHook("onRequest", (request, reply, done) => {
      const parent = propagation.extract(ROOT_CONTEXT, request.headers);
      const span: Span = tracer.startSpan(
        request.method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            [ATTR_CORRELATION_ID]: request.id,
            "http.request.method": request.method,
            "url.path": request.url.split("?")[0] ?? "/",
            "url.scheme": request.protocol,
            "client.address": request.ip,
            ...(request.headers["user-agent"]
              ? { "user_agent.original": request.headers["user-agent"].slice(0, 256) }
              : {}),
          },
        },
        parent,
      );
      const active = withCorrelationId(trace.setSpan(parent, span), request.id);
      contexts.set(request, active);
      // 'close' comes for every answer, hijacked streams and clients that left midway included.
      reply.raw.once("close", () => {
        const route = request.routeOptions.url;
        const status = reply.raw.statusCode;
        if (route) {
          span.setAttribute("http.route", route);
          span.updateName(`${request.method} ${route}`);
        }
        span.setAttribute("http.response.status_code", status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        if (!reply.raw.writableFinished) span.setAttribute("switchboard.aborted", true);
        span.end();
      });
      // The hooks after this one (authentication, rate limits) run within the request's span.
      context.with(active, done);
    });

    // The handler too, which runs after the body was read, outside the context the hooks had.
    app.addHook("onRoute", (route) => {
      if (route.websocket) return;
      const handler = route.handler as RouteHandlerMethod;
      route.handler = function (this: FastifyInstance, request, reply) {
        const active = contexts.get(request);
        return active
          ? context.with(active, () => handler.call(this, request, reply))
          : handler.call(this, request, reply);
      } as RouteHandlerMethod;
    });

    app.addHook("onError", (request, _reply, error, done) => {
      const span = trace.getSpan(contexts.get(request) ?? ROOT_CONTEXT);
      span?.recordException({ name: error.name, message: error.code ?? error.name });
      done();
    });
  },
  { name: "telemetry" },
);
