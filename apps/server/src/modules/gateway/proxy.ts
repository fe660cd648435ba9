import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Span, SpanStatusCode } from "@opentelemetry/api";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Dispatcher } from "undici";
import type { EventBus } from "../../lib/bus";
import type { Logger } from "../../lib/log";
import type { GatewayOutcome, Metrics } from "../../lib/metrics";
import type { SecretBox } from "../../lib/secrets";
import type { Tracing } from "../../lib/tracing";
import type { RateLimitStore } from "../../plugins/rate-limit-store";
import { classify } from "../health/probe";
import { openHeaders } from "../upstream/target";
import type { UsageRecorder } from "../usage/service";
import type { GatewayError } from "./errors";
import { rpcErrorBody, sendGatewayError } from "./errors";
import {
  type Exchange,
  filterToolsList,
  headerMismatch,
  NO_BODY,
  readExchange,
  type ToolPolicy,
  toolPolicy,
  withTraceMeta,
} from "./policy";
import type { GatewayResolver, GatewayServer, Refusal } from "./service";
import { rewriteSse } from "./sse";
import { createSseAnswers, sseStreamName } from "./sse-answers";
import { rpcMethodLabel, toolsCalled, traceUpstream } from "./telemetry";

export interface GatewayOptions {
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  streamIdleMs: number;
  maxStreamsPerKey: number;
  /** Gateway requests a minute per key. */
  ratePerMinute: number;
}

export interface GatewayDeps {
  resolver: GatewayResolver;
  secrets: SecretBox;
  /** The SSRF-guarded way out (the same rules as health probes, checked per connection). */
  dispatcher: Dispatcher;
  limitStore: RateLimitStore;
  /** Carries the answers the gateway writes into 2024-11-05 SSE streams to the instance serving them. */
  bus: EventBus;
  log: Logger;
  options: GatewayOptions;
  metrics: Metrics;
  tracing: Tracing;
  /** Where each call of a resolved key is counted, per server, key and minute. */
  usage: UsageRecorder;
}

/** Which endpoint of a server a request came to. */
export type Endpoint = "mcp" | "sse" | "messages";

/** Headers of the client's request that mean something to MCP and go on to the server. */
const FORWARDED = new Set([
  "accept",
  "content-type",
  "mcp-session-id",
  "mcp-protocol-version",
  "mcp-method",
  "mcp-name",
  "last-event-id",
  "traceparent",
  "tracestate",
]);
/** Headers of the server's answer that go back to the client. */
const RETURNED = new Set([
  "content-type",
  "mcp-session-id",
  "mcp-protocol-version",
  "cache-control",
  "retry-after",
]);
/** Headers Switchboard sets itself: a stored header of these names would break the exchange. */
const OWN = new Set([
  "host",
  "content-length",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "te",
]);
const MAX_FILTERED_JSON = 32 * 1024 * 1024;
/** A JSON answer of at most this many bytes (by its Content-Length) is read whole and sent at once. */
const SMALL_ANSWER = 64 * 1024;

const REFUSED: Record<Refusal["status"], (r: Refusal) => GatewayError> = {
  401: (r) => ({
    status: 401,
    reason: r.reason,
    message:
      r.reason === "revoked"
        ? "This API key has been revoked"
        : r.reason === "expired"
          ? "This API key has expired"
          : "Send an API key of this server as Authorization: Bearer mcp_…",
    headers: { "www-authenticate": 'Bearer realm="switchboard"' },
  }),
  403: () => ({ status: 403, reason: "other_server", message: "This API key was issued for another server" }),
  404: () => ({ status: 404, reason: "not_found", message: "No such MCP server" }),
};

const NO_TOOLS: ReadonlySet<string> = new Set();

const bearer = (headers: IncomingHttpHeaders) => /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "")?.[1];
/** A W3C trace context for a call the client sent none with: trace and parent ids from one draw. */
const traceparent = () => {
  const id = randomBytes(24).toString("hex");
  return `00-${id.slice(0, 32)}-${id.slice(32)}-01`;
};

/** The headers to send upstream: the MCP ones of the client, then the server's stored ones. */
function upstreamHeaders(request: FastifyRequest, server: GatewayServer, secrets: SecretBox) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string" && (FORWARDED.has(name) || name.startsWith("mcp-param-")))
      headers[name] = value;
  }
  for (const [name, value] of Object.entries(openHeaders(server.headers, secrets))) {
    if (!OWN.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  headers.traceparent ??= traceparent();
  headers["x-correlation-id"] = request.id;
  return headers;
}

/**
 * The gateway: authenticates the key, applies the key's and the server's policy, and forwards
 * the request to the server through the guarded dispatcher, streaming the answer back with
 * backpressure. It keeps nothing about a session in memory, so any instance serves any request.
 */
export function createGateway(deps: GatewayDeps) {
  const { options } = deps;
  const streams = new Map<string, number>();
  /** Answers being streamed now, ended when the app closes: a client then reconnects elsewhere. */
  const open = new Set<import("node:http").ServerResponse>();
  const sseAnswers = createSseAnswers(deps.bus);

  const countHit = (keyId: string) =>
    new Promise<{ current: number; ttl: number }>((resolve, reject) =>
      deps.limitStore.incr(
        `gateway:${keyId}`,
        (err, res) => (err || !res ? reject(err) : resolve(res)),
        60_000,
        options.ratePerMinute,
      ),
    );

  /** The fields of a call's one "gateway call" log line (never arguments, results or header values). */
  function callLog(request: FastifyRequest, exchange: Exchange) {
    const { org, server } = (request.params ?? {}) as { org?: string; server?: string };
    return {
      org,
      server,
      method: exchange.method ?? request.method,
      tool: exchange.tool,
      correlationId: request.id,
      bytesIn: Buffer.isBuffer(request.body)
        ? request.body.length
        : Number(request.headers["content-length"]) || 0,
    } as Record<string, unknown>;
  }

  /**
   * Answers an error found before the gateway's handler ran (a body over the limit, one Fastify
   * could not read), with its log line like any other call.
   */
  function refuse(request: FastifyRequest, reply: FastifyReply, error: GatewayError) {
    const exchange =
      request.method === "POST" && Buffer.isBuffer(request.body) ? readExchange(request.body) : NO_BODY;
    deps.log.info(
      {
        ...callLog(request, exchange),
        status: error.status,
        outcome: "refused",
        latencyMs: Math.round(reply.elapsedTime),
        reason: error.reason,
      },
      "gateway call",
    );
    deps.metrics.gatewayRequest({
      org: null,
      server: null,
      rpcMethod: rpcMethodLabel(request.method, exchange),
      outcome: "refused",
      seconds: reply.elapsedTime / 1000,
      tools: [],
      knownTools: NO_TOOLS,
    });
    return sendGatewayError(request, reply, exchange.ids, error);
  }

  async function handle(endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply) {
    const started = performance.now();
    const { org, server: name } = request.params as { org: string; server: string };
    const exchange: Exchange =
      request.method === "POST" ? readExchange(request.body as Buffer | undefined) : NO_BODY;
    const log = callLog(request, exchange);
    const bytesIn = Number(log.bytesIn) || 0;
    // Set once the key and server are resolved: only then do names reach metrics and usage.
    let resolvedServer: GatewayServer | null = null;
    let resolvedKeyId: string | null = null;
    let span: Span | null = null;
    const finish = (
      status: number,
      outcome: GatewayOutcome,
      extra: { reason?: string; upstreamStatus?: number; bytesOut?: number } = {},
    ) => {
      const latencyMs = performance.now() - started;
      deps.log.info({ ...log, status, outcome, latencyMs: Math.round(latencyMs), ...extra }, "gateway call");
      const forwarded = outcome !== "refused" && outcome !== "rate_limited";
      deps.metrics.gatewayRequest({
        org: resolvedServer ? org : null,
        server: resolvedServer ? name : null,
        rpcMethod: rpcMethodLabel(request.method, exchange),
        outcome,
        seconds: latencyMs / 1000,
        tools: forwarded ? toolsCalled(exchange) : [],
        knownTools: resolvedServer?.toolNames ?? NO_TOOLS,
      });
      if (resolvedServer && resolvedKeyId) {
        deps.usage.record({
          tenantId: resolvedServer.tenantId,
          serverId: resolvedServer.id,
          keyId: resolvedKeyId,
          ok: outcome === "ok",
          latencyMs,
          bytesIn,
          bytesOut: extra.bytesOut ?? 0,
        });
      }
      if (span) {
        if (extra.upstreamStatus !== undefined)
          span.setAttribute("http.response.status_code", extra.upstreamStatus);
        span.setAttribute("switchboard.gateway.outcome", outcome);
        if (outcome !== "ok")
          span.setStatus({ code: SpanStatusCode.ERROR, message: extra.reason ?? outcome });
        span.end();
      }
    };
    const fail = (error: GatewayError, outcome: GatewayOutcome = "refused", ids = exchange.ids) => {
      finish(error.status, outcome, { reason: error.reason });
      return sendGatewayError(request, reply, ids, error);
    };

    const resolved = await deps.resolver.resolve(org, name, bearer(request.headers));
    if (!resolved.ok) return fail(REFUSED[resolved.status](resolved));
    const { server, key } = resolved;
    log.keyId = key.keyId;
    resolvedServer = server;
    resolvedKeyId = key.keyId;
    if (!server.enabled) {
      return fail({
        status: 503,
        reason: "server_disabled",
        message: "This MCP server is disabled in Switchboard",
      });
    }
    if (server.needsConfiguration) {
      return fail({
        status: 503,
        reason: "needs_configuration",
        message: "This MCP server needs configuration in Switchboard: a required header has no value yet",
      });
    }
    const wants = endpoint === "mcp" ? "streamable-http" : "sse";
    if (server.transport !== wants) {
      const path = server.transport === "sse" ? "sse" : "mcp";
      return fail({
        status: 404,
        reason: "wrong_transport",
        message: `This server speaks ${server.transport}: connect to /gateway/${org}/${name}/${path}`,
      });
    }
    const hit = await countHit(key.keyId).catch(() => null);
    if (hit && hit.current > options.ratePerMinute) {
      const after = Math.max(1, Math.ceil(hit.ttl / 1000));
      deps.metrics.rateLimited("gateway");
      return fail(
        {
          status: 429,
          reason: "rate_limited",
          message: `Rate limit of ${options.ratePerMinute} requests a minute reached for this key; retry in ${after} s`,
          headers: { "retry-after": String(after) },
        },
        "rate_limited",
      );
    }
    if (exchange.invalid) {
      // Every revision requires a POST body to be JSON-RPC (2025-11-25 streamable HTTP: "The body
      // of the POST request MUST be a single JSON-RPC request, notification, or response"; the
      // 2024-11-05 SSE transport POSTs messages likewise), so a body the gateway cannot read as
      // such is refused, whether or not a policy applies: passing on what the gateway could not
      // judge would let a server that reads it more leniently run what the policy never saw.
      // Answered as JSON-RPC answers an unreadable message: an error whose id is null.
      return fail(
        {
          status: 400,
          reason: "invalid_json_rpc",
          rpcCode: exchange.invalid.code,
          message: exchange.invalid.message,
        },
        "refused",
        [null],
      );
    }
    if (endpoint === "mcp") {
      const mismatch = headerMismatch(request.headers, exchange);
      if (mismatch) {
        return fail({
          status: 400,
          reason: "header_mismatch",
          rpcCode: -32020,
          message: `Header mismatch: ${mismatch}`,
        });
      }
    }
    const policy = toolPolicy(key.tools, server.pinned);
    const refusedTool = policy
      ? exchange.messages.find(
          (m) => m.method === "tools/call" && !policy.mayCall(String((m.params as { name?: unknown })?.name)),
        )
      : undefined;
    let target: URL;
    try {
      target = upstreamUrl(endpoint, server.url, request.query as Record<string, string>);
    } catch (err) {
      return fail({ status: 400, reason: "bad_endpoint", message: (err as Error).message });
    }
    if (refusedTool) {
      const tool = String((refusedTool.params as { name?: unknown })?.name);
      const message =
        key.tools && !key.tools.includes(tool)
          ? `Tool ${tool} is not allowed for this API key`
          : `Tool ${tool} is not one of this server's approved tools`;
      if (endpoint === "messages") {
        // The 2024-11-05 SSE transport answers on the session's stream, and a client reads nothing
        // else: the POST is accepted as a server accepts it (202), the error goes into the stream.
        const stream = sseStreamName(server.id, target);
        for (const id of exchange.ids) {
          const answer = rpcErrorBody([id], -32602, message, { reason: "tool_refused" });
          await sseAnswers.send(server.tenantId, stream, answer).catch((err: unknown) => {
            deps.log.warn({ err, correlationId: request.id }, "could not send a refusal to its SSE stream");
          });
        }
        finish(202, "refused", { reason: "tool_refused" });
        return reply.code(202).type("text/plain; charset=utf-8").send("Accepted");
      }
      // A JSON-RPC error in a 200, as a server answers an unknown tool: the client sees a tool error.
      return fail({ status: 200, reason: "tool_refused", rpcCode: -32602, message });
    }
    const inFlight = streams.get(key.keyId) ?? 0;
    if (inFlight >= options.maxStreamsPerKey) {
      deps.metrics.rateLimited("gateway_streams");
      return fail(
        {
          status: 429,
          reason: "too_many_streams",
          message: `This key already has ${inFlight} requests open through the gateway (at most ${options.maxStreamsPerKey})`,
          headers: { "retry-after": "1" },
        },
        "rate_limited",
      );
    }
    streams.set(key.keyId, inFlight + 1);
    const release = () => {
      const n = (streams.get(key.keyId) ?? 1) - 1;
      if (n > 0) streams.set(key.keyId, n);
      else streams.delete(key.keyId);
    };

    // The client going away aborts the upstream request, whatever stage it is at. (A response
    // closes after it is sent too: that is no reason to abort, and aborting costs every call.)
    const abort = new AbortController();
    const onClientGone = () => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.on("close", onClientGone);
    const sent = upstreamHeaders(request, server, deps.secrets);
    let body = request.method === "POST" ? (request.body as Buffer) : null;
    if (deps.tracing.enabled) {
      const traced = traceUpstream(deps.tracing, {
        request,
        exchange,
        target,
        org,
        name,
        server,
        key,
        headers: sent,
      });
      span = traced.span;
      if (body && traced.meta) body = Buffer.from(JSON.stringify(withTraceMeta(exchange, traced.meta)));
    }
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await deps.dispatcher.request({
        origin: target.origin,
        path: target.pathname + target.search,
        method: request.method as "GET" | "POST" | "DELETE",
        headers: sent,
        body,
        signal: abort.signal,
        headersTimeout: options.upstreamTimeoutMs,
        bodyTimeout: options.streamIdleMs,
      });
    } catch (err) {
      release();
      reply.raw.off("close", onClientGone);
      if (abort.signal.aborted) return finish(499, "client_gone", { reason: "client_gone" });
      const reason = classify(err);
      if ((err as { code?: string }).code === "UND_ERR_HEADERS_TIMEOUT") {
        return fail(
          { status: 504, reason: "upstream_timeout", message: "The MCP server did not answer in time" },
          "timeout",
        );
      }
      return fail(
        { status: 502, reason, message: `The MCP server could not be reached (${reason})` },
        "unreachable",
      );
    }

    const status = upstream.statusCode;
    log.upstreamStatus = status;
    if (status === 401 || status === 403 || (status >= 300 && status < 400)) {
      await upstream.body.dump().catch(() => {});
      release();
      reply.raw.off("close", onClientGone);
      return status < 400
        ? fail(
            { status: 502, reason: "upstream_redirect", message: "The MCP server answered with a redirect" },
            "upstream_error",
          )
        : fail(
            {
              status: 502,
              reason: "auth_rejected",
              message: "The MCP server refused the credentials Switchboard holds for it",
            },
            "auth_rejected",
          );
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (RETURNED.has(name) && typeof value === "string") headers[name] = value;
    }
    const sse = (headers["content-type"] ?? "").startsWith("text/event-stream");
    if (sse) headers["x-accel-buffering"] = "no";

    reply.hijack();
    const out = reply.raw;
    open.add(out);
    let bytesOut = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytesOut += chunk.length;
        done(null, chunk);
      },
    });
    let stopAnswers = () => {};
    try {
      // On a 2024-11-05 stream served here, the gateway's own answers to the session are written in.
      const onEndpoint = (messageUrl: string) => {
        stopAnswers();
        stopAnswers = sseAnswers.serve(sseStreamName(server.id, new URL(messageUrl, target)), (m) =>
          rewrite?.inject(m),
        );
      };
      const rewrite = sse ? sseRewrite(endpoint, policy, org, name, onEndpoint) : null;
      if (!sse && policy && exchange.messages.some((m) => m.method === "tools/list")) {
        const body = filteredJson(await upstream.body.text(), policy);
        bytesOut = Buffer.byteLength(body);
        out.writeHead(status, {
          ...replyHeaders(reply),
          ...headers,
          "content-length": bytesOut,
        });
        out.end(body);
      } else if (!sse && Number(upstream.headers["content-length"]) <= SMALL_ANSWER) {
        // Most answers are small JSON: read whole and sent with the headers in one write, they
        // cost no stream pipeline (its streams, listeners and abort signal halved the stream work
        // of a call in `npm run bench`'s profile). Larger answers and event streams stream.
        const body = Buffer.from(await upstream.body.arrayBuffer());
        bytesOut = body.length;
        out.writeHead(status, { ...replyHeaders(reply), ...headers, "content-length": body.length });
        out.end(body);
      } else {
        // A body passed on as it came keeps the server's length, so that it goes out with the
        // headers in one write rather than chunked. An event stream's headers go at once, so that
        // the client sees it open before its first event.
        const length = !sse && !rewrite ? upstream.headers["content-length"] : undefined;
        out.writeHead(status, {
          ...replyHeaders(reply),
          ...headers,
          ...(typeof length === "string" ? { "content-length": length } : {}),
        });
        if (sse) out.flushHeaders();
        // Counted last, so that bytesOut is what the client was sent (after any rewriting).
        await (rewrite
          ? pipeline(upstream.body, rewrite, counted, out)
          : pipeline(upstream.body, counted, out));
      }
      finish(status, status < 400 ? "ok" : "upstream_error", { upstreamStatus: status, bytesOut });
    } catch (err) {
      // The client left, or the server died or fell silent mid-stream: the other side is ended now.
      out.destroy();
      upstream.body.destroy();
      // A silent server is named as such even when the pipeline's teardown of the client's side
      // (which fires the client's close, and so the abort) ran before this catch.
      const failure = streamFailure(err);
      const gone = abort.signal.aborted && failure !== "stream_idle";
      finish(status, gone ? "client_gone" : "stream_error", {
        upstreamStatus: status,
        bytesOut,
        reason: gone ? "client_gone" : failure,
      });
    } finally {
      stopAnswers();
      open.delete(out);
      release();
      reply.raw.off("close", onClientGone);
    }
  }

  return Object.assign(handle, {
    refuse,
    /** Stops listening for SSE answers (when the app closes). */
    close: sseAnswers.close,
    /** Ends every answer still streaming (at shutdown), so that closing never waits on a stream. */
    endStreams() {
      for (const out of open) out.destroy();
    },
  });
}

/** Why a stream broke off: the upstream fell silent past GATEWAY_STREAM_IDLE_MS, or as a probe would say. */
function streamFailure(err: unknown): string {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === "UND_ERR_BODY_TIMEOUT") return "stream_idle";
  }
  return classify(err);
}

/** The headers Fastify's hooks set on the reply (correlation id, CORS, security), for a hijacked answer. */
function replyHeaders(reply: FastifyReply): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}

/** Where a request goes: the server's URL, or (2025 SSE) the message endpoint it named, on its origin. */
function upstreamUrl(endpoint: Endpoint, serverUrl: string, query: Record<string, string>): URL {
  const base = new URL(serverUrl);
  if (endpoint !== "messages") return base;
  const named = query.upstream;
  if (!named) throw new Error("The message endpoint needs the upstream parameter the SSE stream gave");
  const target = new URL(named, base);
  if (target.origin !== base.origin)
    throw new Error("The message endpoint must be on the server's own origin");
  return target;
}

/** For an SSE answer: the 2025 endpoint event pointed at the gateway, tools/list results filtered. */
function sseRewrite(
  endpoint: Endpoint,
  policy: ToolPolicy | null,
  org: string,
  name: string,
  onEndpoint: (messageUrl: string) => void,
) {
  if (endpoint !== "sse" && !policy) return null;
  return rewriteSse({
    ...(endpoint === "sse"
      ? {
          endpoint: (data: string) => {
            onEndpoint(data);
            return `/gateway/${encodeURIComponent(org)}/${encodeURIComponent(name)}/messages?upstream=${encodeURIComponent(data)}`;
          },
        }
      : {}),
    ...(policy ? { message: (m: unknown) => filterToolsList(m, policy) } : {}),
  });
}

/** A JSON answer to tools/list with the tools the policy hides taken out (a batch too). */
function filteredJson(text: string, policy: ToolPolicy): string {
  if (text.length > MAX_FILTERED_JSON) throw new Error("tools/list answer too large to filter");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return JSON.stringify(
    Array.isArray(parsed) ? parsed.map((m) => filterToolsList(m, policy)) : filterToolsList(parsed, policy),
  );
}
