import type { IncomingHttpHeaders } from "node:http";
import { context, type Span, SpanKind, trace } from "@opentelemetry/api";
import type { FastifyRequest } from "fastify";
import type { VerifiedKey } from "../../lib/principal";
import { baseAttributes, type Tracing, traceHeaders } from "../../lib/tracing";
import { type Exchange, isModern } from "./policy";
import type { GatewayServer } from "./service";

/** JSON-RPC methods named in metrics as they are; any other is `other`, so the label stays bounded. */
const RPC_METHODS = new Set([
  "initialize",
  "ping",
  "server/discover",
  "tools/list",
  "tools/call",
  "prompts/list",
  "prompts/get",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "completion/complete",
  "logging/setLevel",
  "tasks/get",
  "tasks/list",
  "tasks/result",
  "tasks/cancel",
]);

/**
 * The `rpc_method` label of a request: its JSON-RPC method when it is a known one, `notification`,
 * `response` (a client answering the server), `batch`, `stream` (a GET opening a stream),
 * `session_end` (DELETE), or `other`.
 */
export function rpcMethodLabel(httpMethod: string, exchange: Exchange): string {
  if (httpMethod === "GET") return "stream";
  if (httpMethod === "DELETE") return "session_end";
  if (exchange.messages.length === 0) return "other";
  if (exchange.messages.length > 1) return "batch";
  const method = exchange.method;
  if (method === null) return "response";
  if (RPC_METHODS.has(method)) return method;
  return method.startsWith("notifications/") ? "notification" : "other";
}

/** The tools the `tools/call` messages of a request name. */
export function toolsCalled(exchange: Exchange): string[] {
  const tools: string[] = [];
  for (const m of exchange.messages) {
    const name = m.method === "tools/call" ? (m.params as { name?: unknown } | undefined)?.name : undefined;
    if (typeof name === "string") tools.push(name);
  }
  return tools;
}

/**
 * The upstream call as a span of its own, a child of the request's: the server receives it as its
 * parent, in `headers` (whose client `traceparent` and `tracestate` it replaces) and, for a
 * 2026-07-28 request, in each message's `_meta` (`meta`, null otherwise).
 */
export function traceUpstream(
  tracing: Tracing,
  c: {
    request: FastifyRequest;
    exchange: Exchange;
    target: URL;
    org: string;
    name: string;
    server: GatewayServer;
    key: VerifiedKey;
    headers: Record<string, string>;
  },
): { span: Span; meta: Record<string, string> | null } {
  const parent = context.active();
  const method = rpcMethodLabel(c.request.method, c.exchange);
  const span = tracing.tracer.startSpan(
    `gateway ${method}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        ...baseAttributes(parent),
        "http.request.method": c.request.method,
        "server.address": c.target.hostname,
        "server.port": Number(c.target.port || (c.target.protocol === "https:" ? 443 : 80)),
        "url.path": c.target.pathname,
        "mcp.method.name": c.exchange.method ?? method,
        ...(c.exchange.tool ? { "gen_ai.tool.name": c.exchange.tool } : {}),
        "switchboard.org": c.org,
        "switchboard.server": c.name,
        "switchboard.server_id": c.server.id,
        "switchboard.key_id": c.key.keyId,
      },
    },
    parent,
  );
  const sent = traceHeaders(trace.setSpan(parent, span));
  delete c.headers.tracestate;
  Object.assign(c.headers, sent);
  const modern = isModern(c.request.headers as IncomingHttpHeaders, c.exchange);
  return { span, meta: modern ? sent : null };
}
