import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { queryRows } from "../src/db/client";
import { type RunningMcpServer, startMcpServer } from "../src/demo/mcp-servers";
import { createMetrics, type MetricsServer, serveMetrics } from "../src/lib/metrics";
import { as, createTenant, createTestApp, type Tenant, type TestApp, testClock } from "./app";
import { labelSets, sampleValue, scrape } from "./prometheus";

const rpc = (method: string, params: Record<string, unknown> = {}, id = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params });

async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
}

const slugOf = async (t: TestApp, orgId: string) =>
  (
    await queryRows<{ slug: string }>(t.database.db, sql`SELECT slug FROM organization WHERE id = ${orgId}`)
  )[0]?.slug as string;

/** Registers a server, checks it (so that its tools are known), and issues a key for it. */
async function register(admin: ReturnType<typeof as>, name: string, url: string) {
  const created = await admin({ method: "POST", url: "/mcp/servers", payload: { name, url } });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().id as string;
  const checked = await admin({ method: "POST", url: `/mcp/servers/${id}/check` });
  expect(checked.statusCode, checked.body).toBe(200);
  const key = (
    await admin({ method: "POST", url: `/mcp/servers/${id}/keys`, payload: { name: "k" } })
  ).json();
  return { id, key: key.key as string, keyId: key.id as string };
}

describe("Prometheus metrics", () => {
  let t: TestApp;
  let base: string;
  let tenant: Tenant;
  let admin: ReturnType<typeof as>;
  let slug: string;
  let metrics: MetricsServer;
  let mcp: RunningMcpServer;

  beforeAll(async () => {
    t = await createTestApp("pglite", { env: { RATE_LIMIT_GATEWAY: "100000" } });
    base = await listen(t);
    metrics = await serveMetrics(t.runtime.metrics, { host: "127.0.0.1", port: 0 });
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    slug = await slugOf(t, tenant.orgId);
    mcp = await startMcpServer({ name: "metered" });
  });
  afterAll(async () => {
    await metrics.close();
    await mcp.close();
    await t.close();
  });

  it("serves /metrics on a listener of its own, in the Prometheus text format, with process metrics", async () => {
    expect(metrics.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const text = await scrape(metrics.url);
    expect(text).toContain("# TYPE switchboard_http_requests_total counter");
    expect(text).toContain("# TYPE switchboard_http_request_duration_seconds histogram");
    expect(sampleValue(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect((await fetch(metrics.url.replace("/metrics", "/"))).status).toBe(404);
    expect((await fetch(metrics.url, { method: "POST" })).status).toBe(405);
    // The API does not serve them.
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it("counts API requests by route template, method and status class, never by raw URL", async () => {
    const created = await admin({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "counted", url: "http://127.0.0.1:9/mcp" },
    });
    const id = created.json().id as string;
    const before = await scrape(metrics.url);
    const route = { route: "/mcp/servers/:id", method: "GET", status_class: "2xx" };
    const missing = { route: "/mcp/servers/:id", method: "GET", status_class: "4xx" };
    const unmatched = { route: "unmatched", method: "GET", status_class: "4xx" };
    for (let i = 0; i < 3; i++) await admin({ method: "GET", url: `/mcp/servers/${id}` });
    await admin({ method: "GET", url: "/mcp/servers/00000000-0000-4000-8000-000000000000" });
    await t.app.inject({ method: "GET", url: `/no/such/path/${id}` });

    const after = await scrape(metrics.url);
    const delta = (labels: Record<string, string>, name = "switchboard_http_requests_total") =>
      (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    expect(delta(route)).toBe(3);
    expect(delta(route, "switchboard_http_request_duration_seconds_count")).toBe(3);
    expect(delta({ ...route, le: "+Inf" }, "switchboard_http_request_duration_seconds_bucket")).toBe(3);
    expect(delta(missing)).toBe(1);
    expect(delta(unmatched)).toBe(1);
    expect(after).not.toContain(id);
  });

  it("counts probes by status and reason, times them, and shows the servers that are down", async () => {
    const up = (
      await admin({ method: "POST", url: "/mcp/servers", payload: { name: "up", url: mcp.url } })
    ).json();
    const down = (
      await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "down", url: "http://127.0.0.1:9/mcp" },
      })
    ).json();
    const before = await scrape(metrics.url);
    expect(sampleValue(before, "switchboard_server_down", { org: slug, server: "down" })).toBeUndefined();

    expect((await admin({ method: "POST", url: `/mcp/servers/${up.id}/check` })).json().check.status).toBe(
      "healthy",
    );
    expect((await admin({ method: "POST", url: `/mcp/servers/${down.id}/check` })).json().check.error).toBe(
      "connection_refused",
    );

    const after = await scrape(metrics.url);
    const delta = (name: string, labels: Record<string, string>) =>
      (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    expect(delta("switchboard_probes_total", { status: "healthy", reason: "none" })).toBe(1);
    expect(delta("switchboard_probes_total", { status: "unhealthy", reason: "connection_refused" })).toBe(1);
    expect(delta("switchboard_probe_duration_seconds_count", { status: "healthy" })).toBe(1);
    expect(sampleValue(after, "switchboard_probes_in_flight")).toBe(0);
    expect(sampleValue(after, "switchboard_server_down", { org: slug, server: "down" })).toBe(1);
    expect(sampleValue(after, "switchboard_server_down", { org: slug, server: "up" })).toBeUndefined();
    expect(
      sampleValue(after, "switchboard_servers", { status: "unhealthy", enabled: "true" }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(after, "switchboard_servers", { status: "healthy", enabled: "true" }),
    ).toBeGreaterThanOrEqual(1);

    // Disabled, a down server is no longer reported as one to act on.
    await admin({ method: "PATCH", url: `/mcp/servers/${down.id}`, payload: { enabled: false } });
    const disabled = await scrape(metrics.url);
    expect(sampleValue(disabled, "switchboard_server_down", { org: slug, server: "down" })).toBeUndefined();
    expect(
      sampleValue(disabled, "switchboard_servers", { status: "unhealthy", enabled: "false" }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("counts gateway requests by organization, server, JSON-RPC method and outcome, and tool calls by tool", async () => {
    const gw = await register(admin, "through", mcp.url);
    const before = await scrape(metrics.url);
    const client = new Client({ name: "metrics-test", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/gateway/${slug}/through/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
      }),
    );
    await client.callTool({ name: "echo", arguments: { text: "a" } });
    await client.callTool({ name: "echo", arguments: { text: "b" } });
    await client.callTool({ name: "add", arguments: {} });
    await client.close();
    const refused = await fetch(`${base}/gateway/${slug}/through/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer mcp_${"x".repeat(60)}`, "content-type": "application/json" },
      body: rpc("tools/list"),
    });
    expect(refused.status).toBe(401);

    const after = await scrape(metrics.url);
    const delta = (name: string, labels: Record<string, string>) =>
      (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    const ok = { org: slug, server: "through", outcome: "ok" };
    expect(delta("switchboard_gateway_requests_total", { ...ok, rpc_method: "initialize" })).toBe(1);
    expect(delta("switchboard_gateway_requests_total", { ...ok, rpc_method: "tools/call" })).toBe(3);
    expect(
      delta("switchboard_gateway_request_duration_seconds_count", { ...ok, rpc_method: "tools/call" }),
    ).toBe(3);
    expect(
      delta("switchboard_gateway_tool_calls_total", { org: slug, server: "through", tool: "echo" }),
    ).toBe(2);
    expect(delta("switchboard_gateway_tool_calls_total", { org: slug, server: "through", tool: "add" })).toBe(
      1,
    );
    // A key that resolved nothing names no organization or server: a label value nobody can choose.
    expect(
      delta("switchboard_gateway_requests_total", {
        org: "_unknown",
        server: "_unknown",
        rpc_method: "tools/list",
        outcome: "refused",
      }),
    ).toBe(1);
  });

  it("counts an unreachable server and a refused tool call as outcomes of their own", async () => {
    const gone = await register(admin, "gone", "http://127.0.0.1:9/mcp");
    const limited = (
      await admin({
        method: "POST",
        url: `/mcp/servers/${(await register(admin, "limited", mcp.url)).id}/keys`,
        payload: { name: "echo only", tools: ["echo"] },
      })
    ).json().key as string;
    const before = await scrape(metrics.url);
    const call = (server: string, key: string, body: string) =>
      fetch(`${base}/gateway/${slug}/${server}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body,
      });
    expect((await call("gone", gone.key, rpc("ping"))).status).toBe(502);
    expect((await call("limited", limited, rpc("tools/call", { name: "add" }))).status).toBe(200);

    const after = await scrape(metrics.url);
    const delta = (labels: Record<string, string>) =>
      (sampleValue(after, "switchboard_gateway_requests_total", labels) ?? 0) -
      (sampleValue(before, "switchboard_gateway_requests_total", labels) ?? 0);
    expect(delta({ org: slug, server: "gone", rpc_method: "ping", outcome: "unreachable" })).toBe(1);
    expect(delta({ org: slug, server: "limited", rpc_method: "tools/call", outcome: "refused" })).toBe(1);
    // A refused call never reached the server: it is no tool call.
    expect(
      labelSets(after, "switchboard_gateway_tool_calls_total").filter((l) => l.server === "limited"),
    ).toEqual([]);
  });
});

describe("Prometheus metrics for very large deployments", () => {
  let t: TestApp;
  let base: string;
  let metrics: MetricsServer;
  let mcp: RunningMcpServer;
  let admin: ReturnType<typeof as>;
  let slug: string;
  const clock = testClock(new Date("2031-01-01T00:00:00.000Z"));

  beforeAll(async () => {
    t = await createTestApp("pglite", {
      clock,
      env: { METRICS_TOOLS_PER_SERVER: "2", METRICS_ORG_LABEL: "false", RATE_LIMIT_GATEWAY: "20" },
    });
    base = await listen(t);
    metrics = await serveMetrics(t.runtime.metrics, { host: "127.0.0.1", port: 0 });
    const tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    slug = await slugOf(t, tenant.orgId);
    mcp = await startMcpServer({
      name: "many-tools",
      stateless: true,
      jsonResponse: true,
      tools: ["alpha", "beta", "gamma", "delta"].map((name) => ({ name, description: name })),
    });
  });
  afterAll(async () => {
    await metrics.close();
    await mcp.close();
    await t.close();
  });

  const post = (key: string, body: string) =>
    fetch(`${base}/gateway/${slug}/many/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body,
    });

  it("names at most METRICS_TOOLS_PER_SERVER tools a server, and only tools it listed; the rest are `other`", async () => {
    const gw = await register(admin, "many", mcp.url);
    for (const tool of ["alpha", "beta", "gamma", "delta", "alpha", "made-up-by-a-client"]) {
      expect((await post(gw.key, rpc("tools/call", { name: tool }))).status).toBe(200);
    }
    const text = await scrape(metrics.url);
    const tools = labelSets(text, "switchboard_gateway_tool_calls_total");
    expect(tools.map((l) => l.tool).sort()).toEqual(["alpha", "beta", "other"]);
    expect(sampleValue(text, "switchboard_gateway_tool_calls_total", { server: "many", tool: "alpha" })).toBe(
      2,
    );
    expect(sampleValue(text, "switchboard_gateway_tool_calls_total", { server: "many", tool: "beta" })).toBe(
      1,
    );
    expect(sampleValue(text, "switchboard_gateway_tool_calls_total", { server: "many", tool: "other" })).toBe(
      3,
    );
    expect(text).not.toContain("made-up-by-a-client");
  });

  it("drops the organization label with METRICS_ORG_LABEL=false", async () => {
    const text = await scrape(metrics.url);
    const gateway = labelSets(text, "switchboard_gateway_requests_total");
    expect(gateway.length).toBeGreaterThan(0);
    for (const labels of gateway)
      expect(Object.keys(labels).sort()).toEqual(["outcome", "rpc_method", "server"]);
    expect(text).not.toContain(slug);
  });

  it("counts rate-limit refusals by kind", async () => {
    const gw = await register(admin, "busy", mcp.url);
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      statuses.push(
        (
          await fetch(`${base}/gateway/${slug}/busy/mcp`, {
            method: "POST",
            headers: { authorization: `Bearer ${gw.key}`, "content-type": "application/json" },
            body: rpc("ping", {}, i),
          })
        ).status,
      );
    }
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    const text = await scrape(metrics.url);
    expect(sampleValue(text, "switchboard_rate_limited_total", { kind: "gateway" })).toBe(1);
    expect(
      sampleValue(text, "switchboard_gateway_requests_total", {
        server: "busy",
        rpc_method: "ping",
        outcome: "rate_limited",
      }),
    ).toBe(1);
  });

  it("reports the scheduler's lag: how late the oldest due check is, by the runtime's clock", async () => {
    expect(
      (await admin({ method: "POST", url: "/mcp/servers", payload: { name: "waiting", url: mcp.url } }))
        .statusCode,
    ).toBe(201);
    // Each first check sits in its server's phase slot (set by its random id): time runs to 300 s
    // past the earliest of them, whichever server that is.
    const { items } = (await admin({ method: "GET", url: "/mcp/servers" })).json();
    const due = Math.min(...items.map((s: { nextCheckAt: string }) => Date.parse(s.nextCheckAt)));
    clock.advance(due - clock.now().getTime() + 300_000);
    const text = await scrape(metrics.url);
    expect(sampleValue(text, "switchboard_scheduler_lag_seconds")).toBe(300);
  });
});

describe.runIf(inject("pgTemplate"))("Prometheus metrics on PostgreSQL", () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it("reports the database pools, the API's and the scheduler's: their size, idle and waiting connections", async () => {
    t = await createTestApp("postgres", { env: { SCHEDULER_POOL_SIZE: "3" } });
    await createTenant(t.app);
    await t.runtime.schedulerDb.execute(sql`SELECT 1`);
    const text = (await t.runtime.metrics.scrape()).body;
    const api = { pool: "api" };
    const scheduler = { pool: "scheduler" };
    expect(sampleValue(text, "switchboard_db_pool_max", api)).toBe(5);
    expect(sampleValue(text, "switchboard_db_pool_size", api)).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, "switchboard_db_pool_waiting", api)).toBe(0);
    expect(sampleValue(text, "switchboard_db_pool_max", scheduler)).toBe(3);
    expect(sampleValue(text, "switchboard_db_pool_size", scheduler)).toBe(1);
    expect(sampleValue(text, "switchboard_db_pool_idle", scheduler)).toBe(1);
    expect(sampleValue(text, "switchboard_db_pool_waiting", scheduler)).toBe(0);
  });
});

describe.runIf(process.env.TEST_REDIS_URL)("Prometheus metrics with Redis", () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it("reports Redis as up while it answers", async () => {
    t = await createTestApp("pglite", {
      env: { REDIS_URL: process.env.TEST_REDIS_URL as string, REDIS_PREFIX: `${inject("runId")}:metrics:` },
    });
    await vi.waitFor(
      async () =>
        expect(sampleValue((await t.runtime.metrics.scrape()).body, "switchboard_redis_up")).toBe(1),
      { timeout: 5000, interval: 50 },
    );
    await t.runtime.redis?.ping();
  });
});

describe("createMetrics", () => {
  it("bounds what a probe reason can add to a label", () => {
    const metrics = createMetrics({ orgLabel: true, toolsPerServer: 1, defaultMetrics: false });
    metrics.probe("unhealthy", "http_503", 0.1);
    metrics.probe("unhealthy", "some reason nobody planned, with spaces & symbols", 0.1);
    return metrics.scrape().then(({ body }) => {
      expect(sampleValue(body, "switchboard_probes_total", { status: "unhealthy", reason: "http_503" })).toBe(
        1,
      );
      expect(sampleValue(body, "switchboard_probes_total", { status: "unhealthy", reason: "other" })).toBe(1);
    });
  });
});
