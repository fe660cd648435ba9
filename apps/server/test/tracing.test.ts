import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { queryRows } from "../src/db/client";
import { type RunningMcpServer, startMcpServer } from "../src/demo/mcp-servers";
import { type RunningModernServer, startModernMcpServer } from "../src/demo/modern-servers";
import { ATTR_CORRELATION_ID, startTracing, type Tracing } from "../src/lib/tracing";
import { as, createTenant, createTestApp, ORIGIN, type Tenant, type TestApp } from "./app";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
}

/** A loopback HTTP server that keeps each request's headers and body and answers JSON-RPC. */
async function recordingUpstream() {
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      seen.push({ headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":1,"result":{}}');
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`,
    seen,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

describe("traces (in-memory exporter)", () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let t: TestApp;
  let base: string;
  let tenant: Tenant;
  let admin: ReturnType<typeof as>;
  let slug: string;
  let mcp: RunningMcpServer;
  let modern: RunningModernServer;

  beforeAll(async () => {
    tracing = await startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    t = await createTestApp("pglite", { tracing, env: { PROBE_TIMEOUT_MS: "3000" } });
    base = await listen(t);
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    slug = (
      await queryRows<{ slug: string }>(
        t.database.db,
        sql`SELECT slug FROM organization WHERE id = ${tenant.orgId}`,
      )
    )[0]?.slug as string;
    mcp = await startMcpServer({ name: "traced" });
    modern = await startModernMcpServer({ name: "traced-modern" });
  });
  afterAll(async () => {
    await mcp.close();
    await modern.close();
    await t.close();
    await tracing.shutdown();
  });

  /** The spans of one trace, once the server span of the request that started it has ended. */
  const traceOf = (traceId: string) =>
    vi.waitFor(
      () => {
        const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
        const root = spans.find((s) => s.kind === SpanKind.SERVER);
        if (!root) throw new Error(`no server span in trace ${traceId} yet`);
        return { root, spans };
      },
      { timeout: 5000, interval: 20 },
    );

  it("continues an incoming traceparent in a server span with the correlation id, its queries its children", async () => {
    const res = await fetch(`${base}/mcp/servers?pageSize=5`, {
      headers: {
        ...ORIGIN,
        cookie: tenant.admin.cookie,
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
        "x-correlation-id": "trace-test-0001",
      },
    });
    expect(res.status).toBe(200);
    const { root, spans } = await traceOf(TRACE_ID);
    expect(root.name).toBe("GET /mcp/servers");
    expect(parentOf(root)).toBe(CALLER_SPAN);
    expect(root.attributes).toMatchObject({
      [ATTR_CORRELATION_ID]: "trace-test-0001",
      "http.route": "/mcp/servers",
      "http.request.method": "GET",
      "http.response.status_code": 200,
    });
    const queries = spans.filter((s) => s.attributes["db.system.name"] === "postgresql");
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.some((q) => parentOf(q) === idOf(root) && q.name === "SELECT mcp_servers")).toBe(true);
    for (const q of queries) {
      expect(q.kind).toBe(SpanKind.CLIENT);
      expect(q.attributes[ATTR_CORRELATION_ID]).toBe("trace-test-0001");
      expect(String(q.attributes["db.query.text"])).not.toContain(tenant.orgId);
    }
  });

  it("records a probe as a span whose traceparent the MCP server receives", async () => {
    const server = (
      await admin({ method: "POST", url: "/mcp/servers", payload: { name: "probed", url: mcp.url } })
    ).json();
    mcp.traceparents.length = 0;
    const res = await fetch(`${base}/mcp/servers/${server.id}/check`, {
      method: "POST",
      headers: { ...ORIGIN, cookie: tenant.admin.cookie, "x-correlation-id": "trace-test-0002" },
    });
    expect((await res.json()).check.status).toBe("healthy");
    const probe = await vi.waitFor(() => {
      const found = exporter
        .getFinishedSpans()
        .find((s) => s.name === "health probe" && s.attributes[ATTR_CORRELATION_ID] === "trace-test-0002");
      if (!found) throw new Error("no probe span yet");
      return found;
    });
    const { root } = await traceOf(probe.spanContext().traceId);
    expect(parentOf(probe)).toBe(idOf(root));
    expect(probe.attributes).toMatchObject({
      "switchboard.probe.status": "healthy",
      "server.address": "127.0.0.1",
      "url.path": "/mcp",
    });
    // Every request of the probe (initialize, tools/list, the session's end) carries the probe's span.
    expect(mcp.traceparents.length).toBeGreaterThanOrEqual(2);
    for (const header of mcp.traceparents) {
      const [, traceId, parent] = TRACEPARENT.exec(header) ?? [];
      expect(traceId).toBe(probe.spanContext().traceId);
      expect(parent).toBe(idOf(probe));
    }
  });

  it("gives the 2026-07-28 discovery the probe's trace context in _meta as in the header", async () => {
    const up = await recordingUpstream();
    try {
      const res = await admin({ method: "POST", url: "/mcp/probe", payload: { url: up.url } });
      expect(res.statusCode).toBe(200);
      const discover = up.seen.find((r) => JSON.parse(r.body || "{}").method === "server/discover");
      const header = String(discover?.headers.traceparent);
      expect(header).toMatch(TRACEPARENT);
      expect(JSON.parse(discover?.body ?? "{}").params._meta.traceparent).toBe(header);
      const probe = exporter
        .getFinishedSpans()
        .find((s) => s.name === "health probe" && s.spanContext().traceId === TRACEPARENT.exec(header)?.[1]);
      expect(probe && `00-${probe.spanContext().traceId}-${idOf(probe)}-01`).toBe(header);
    } finally {
      await up.close();
    }
  });

  it("carries the probe's span to a real 2026-07-28 server", async () => {
    const server = (
      await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "probed-modern", url: modern.url },
      })
    ).json();
    modern.traceparents.length = 0;
    const checked = (await admin({ method: "POST", url: `/mcp/servers/${server.id}/check` })).json();
    expect(checked.check.serverInfo.era).toBe("modern");
    expect(modern.traceparents.length).toBeGreaterThanOrEqual(1);
    const probeSpans = new Set(
      exporter
        .getFinishedSpans()
        .filter((s) => s.name === "health probe")
        .map((s) => `00-${s.spanContext().traceId}-${idOf(s)}-01`),
    );
    for (const header of modern.traceparents) expect(probeSpans.has(header)).toBe(true);
  });

  it("makes the gateway's upstream call a span, sent to the MCP server as its traceparent", async () => {
    const created = (
      await admin({ method: "POST", url: "/mcp/servers", payload: { name: "relayed", url: mcp.url } })
    ).json();
    const key = (
      await admin({ method: "POST", url: `/mcp/servers/${created.id}/keys`, payload: { name: "k" } })
    ).json().key as string;
    mcp.traceparents.length = 0;
    const callerTrace = "0af7651916cd43dd8448eb211c80319c";
    const res = await fetch(`${base}/gateway/${slug}/relayed/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        traceparent: `00-${callerTrace}-b7ad6b7169203331-01`,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
      }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const { root, spans } = await traceOf(callerTrace);
    expect(root.name).toBe("POST /gateway/:org/:server/mcp");
    const upstream = spans.find((s) => s.name === "gateway initialize");
    expect(upstream?.kind).toBe(SpanKind.CLIENT);
    expect(upstream && parentOf(upstream)).toBe(idOf(root));
    expect(upstream?.attributes).toMatchObject({
      "switchboard.org": slug,
      "switchboard.server": "relayed",
      "mcp.method.name": "initialize",
      "http.response.status_code": 200,
      "switchboard.gateway.outcome": "ok",
    });
    expect(mcp.traceparents).toEqual([`00-${callerTrace}-${upstream && idOf(upstream)}-01`]);
  });

  it("puts the gateway's trace context in the _meta of a 2026-07-28 request, replacing the client's", async () => {
    const up = await recordingUpstream();
    try {
      const created = (
        await admin({ method: "POST", url: "/mcp/servers", payload: { name: "meta", url: up.url } })
      ).json();
      const key = (
        await admin({ method: "POST", url: `/mcp/servers/${created.id}/keys`, payload: { name: "k" } })
      ).json().key as string;
      const meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01`,
        tracestate: "vendor=client",
        progressToken: 7,
      };
      const res = await fetch(`${base}/gateway/${slug}/meta/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": "tools/list",
          traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01`,
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: meta } }),
      });
      expect(res.status).toBe(200);
      const sent = up.seen[0];
      const header = sent?.headers.traceparent as string;
      const [, traceId, parent] = TRACEPARENT.exec(header) ?? [];
      expect(traceId).toBe("1".repeat(32));
      expect(parent).not.toBe("2".repeat(16));
      const body = JSON.parse(sent?.body ?? "{}");
      expect(body.params._meta).toEqual({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        traceparent: header,
        progressToken: 7,
      });
    } finally {
      await up.close();
    }
  });
});

describe("traces sent over OTLP/HTTP", () => {
  const posts: { path: string; type: string | undefined; body: string }[] = [];
  let receiver: Server;
  let endpoint: string;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        posts.push({ path: req.url ?? "", type: req.headers["content-type"], body });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
    endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await new Promise<void>((done) => receiver.close(() => done()));
  });

  it("exports the spans to the collector OTEL_EXPORTER_OTLP_ENDPOINT names, as the standard variables say", async () => {
    // The SDK reads OTEL_* from the environment, as it does in production; JSON so the test can read it.
    vi.stubEnv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    vi.stubEnv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
    vi.stubEnv("OTEL_SERVICE_NAME", "switchboard-under-test");
    vi.stubEnv("OTEL_BSP_SCHEDULE_DELAY", "50");
    const t = await createTestApp("pglite", { env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
    expect(t.runtime.tracing.enabled).toBe(true);
    try {
      const res = await t.app.inject({
        method: "GET",
        url: "/readyz",
        headers: { "x-correlation-id": "otlp-test-0001" },
      });
      expect(res.statusCode).toBe(200);
    } finally {
      // Closing the runtime flushes what the batch processor still holds.
      await t.close();
    }
    const traces = posts.filter((p) => p.path === "/v1/traces");
    expect(traces.length).toBeGreaterThan(0);
    expect(traces[0]?.type).toContain("application/json");
    const spans = traces.flatMap((p) =>
      (
        JSON.parse(p.body).resourceSpans as { resource: unknown; scopeSpans: { spans: unknown[] }[] }[]
      ).flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ resource: r.resource, span })))),
    ) as {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      span: { name: string; attributes: { key: string; value: { stringValue?: string } }[] };
    }[];
    const ready = spans.find((s) => s.span.name === "GET /readyz");
    expect(ready).toBeDefined();
    expect(ready?.span.attributes).toContainEqual({
      key: ATTR_CORRELATION_ID,
      value: { stringValue: "otlp-test-0001" },
    });
    expect(ready?.resource.attributes).toContainEqual({
      key: "service.name",
      value: { stringValue: "switchboard-under-test" },
    });
    expect(spans.some((s) => s.span.name === "SELECT")).toBe(true);
  });
});
