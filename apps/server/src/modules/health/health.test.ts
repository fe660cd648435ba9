import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { queryRows } from "../../db/client";
import { type RunningMcpServer, startMcpServer } from "../../demo/mcp-servers";
import { nextCheckAt } from "./schedule";

describe("nextCheckAt", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const after = (failures: number, random = 0.5) =>
    nextCheckAt(now, 60, failures, () => random).getTime() - now.getTime();

  it("waits the interval after a success", () => {
    expect(after(0)).toBe(60_000);
  });

  it("doubles the wait with every failure in a row", () => {
    expect([1, 2, 3, 4].map((f) => after(f))).toEqual([120_000, 240_000, 480_000, 960_000]);
  });

  it("caps the wait at 30 minutes, jitter included", () => {
    expect(after(5)).toBe(30 * 60_000);
    expect(after(50, 0.999)).toBe(30 * 60_000);
  });

  it("spreads retries by ±20%", () => {
    expect(after(1, 0)).toBe(96_000);
    expect(after(1, 1)).toBe(144_000);
  });
});

describe.each(testDatabaseKinds())("health API on %s", (kind) => {
  let t: TestApp;
  let tenant: Tenant;
  let admin: ReturnType<typeof as>;
  let mcp: RunningMcpServer;
  let serverId: string;

  beforeAll(async () => {
    t = await createTestApp(kind, { env: { PROBE_TIMEOUT_MS: "2000", PROBE_DEGRADED_MS: "1500" } });
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    mcp = await startMcpServer({
      name: "checked",
      requireHeader: { name: "X-Api-Token", value: "s3cret-upstream" },
    });
    serverId = (
      await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: {
          name: "checked",
          url: mcp.url,
          headers: [{ name: "X-Api-Token", value: "s3cret-upstream" }],
        },
      })
    ).json().id;
  });
  afterAll(async () => {
    await mcp.close();
    await t.close();
  });

  it("POST /check probes now with the stored header, records the result and returns it", async () => {
    const res = await admin({ method: "POST", url: `/mcp/servers/${serverId}/check` });
    expect(res.statusCode).toBe(200);
    const { check, server } = res.json();
    expect(check).toMatchObject({
      status: "healthy",
      error: null,
      tools: [{ name: "echo" }, { name: "add" }],
    });
    expect(server).toMatchObject({
      status: "healthy",
      lastLatencyMs: check.latencyMs,
      consecutiveFailures: 0,
      serverInfo: { name: "checked", version: "1.2.3" },
      tools: [
        { name: "echo", description: "Echoes the text it is given" },
        { name: "add", description: "Adds two numbers" },
      ],
      version: 1,
    });
    const history = (await admin({ method: "GET", url: `/mcp/servers/${serverId}/health` })).json();
    expect(history.items[0]).toMatchObject({ status: "healthy", toolsCount: 2, serverId });
    const audit = await queryRows<{ action: string }>(
      t.database.db,
      sql`SELECT action FROM audit_logs WHERE target_id = ${serverId}`,
    );
    expect(audit.map((a) => a.action)).toContain("server.check");
  });

  it("records a failure, keeps what the last success learned, and backs off", async () => {
    mcp.setBehaviour("http500");
    try {
      const res = await admin({ method: "POST", url: `/mcp/servers/${serverId}/check` });
      const { check, server } = res.json();
      expect(check).toMatchObject({ status: "unhealthy", error: "http_500", serverInfo: null });
      expect(server).toMatchObject({ status: "unhealthy", lastError: "http_500", consecutiveFailures: 1 });
      expect(server.tools).toHaveLength(2);
      const wait = Date.parse(server.nextCheckAt) - Date.parse(server.lastCheckedAt);
      expect(wait).toBeGreaterThanOrEqual(0.8 * 120_000);
      expect(wait).toBeLessThanOrEqual(1.2 * 120_000);
    } finally {
      mcp.setBehaviour("healthy");
    }
  });

  it("GET /health lists checks newest first, bounded by limit", async () => {
    await admin({ method: "POST", url: `/mcp/servers/${serverId}/check` });
    const res = await t.app.inject({
      method: "GET",
      url: `/mcp/servers/${serverId}/health?limit=2`,
      headers: { cookie: tenant.member.cookie },
    });
    expect(res.statusCode).toBe(200);
    const items = res.json().items;
    expect(items).toHaveLength(2);
    expect(items.map((i: { status: string }) => i.status)).toEqual(["healthy", "unhealthy"]);
    expect(Date.parse(items[0].checkedAt)).toBeGreaterThanOrEqual(Date.parse(items[1].checkedAt));
    expect((await admin({ method: "GET", url: `/mcp/servers/${serverId}/health?limit=0` })).statusCode).toBe(
      400,
    );
    expect(
      (await admin({ method: "GET", url: `/mcp/servers/${serverId}/health?limit=1001` })).statusCode,
    ).toBe(400);
  });

  it("refuses members a check, and 404s another tenant's server", async () => {
    expect(
      (await as(t.app, tenant.member)({ method: "POST", url: `/mcp/servers/${serverId}/check` })).statusCode,
    ).toBe(403);
    const other = await createTenant(t.app);
    const res = await as(t.app, other.admin)({ method: "POST", url: `/mcp/servers/${serverId}/check` });
    expect(res.statusCode).toBe(404);
    expect(
      (await as(t.app, other.admin)({ method: "GET", url: `/mcp/servers/${serverId}/health` })).statusCode,
    ).toBe(404);
  });

  it("POST /probe tests an unsaved definition, audits it, and records nothing else", async () => {
    const servers = async () => (await queryRows(t.database.db, sql`SELECT id FROM mcp_servers`)).length;
    const checks = async () => (await queryRows(t.database.db, sql`SELECT id FROM mcp_server_health`)).length;
    const [s0, c0] = [await servers(), await checks()];
    const ok = await admin({
      method: "POST",
      url: "/mcp/probe",
      payload: { url: mcp.url, headers: [{ name: "X-Api-Token", value: "s3cret-upstream" }] },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: "healthy", tools: [{ name: "echo" }, { name: "add" }] });
    const denied = await admin({ method: "POST", url: "/mcp/probe", payload: { url: mcp.url } });
    expect(denied.json()).toMatchObject({ status: "unhealthy", error: "auth_required" });
    expect([await servers(), await checks()]).toEqual([s0, c0]);
    const audit = await queryRows<{ changes: Record<string, unknown> }>(
      t.database.db,
      sql`SELECT changes FROM audit_logs WHERE tenant_id = ${tenant.orgId} AND action = 'server.probe' ORDER BY created_at`,
    );
    expect(audit[0]?.changes).toMatchObject({ url: mcp.url, headers: ["X-Api-Token"], status: "healthy" });
    expect(JSON.stringify(audit)).not.toContain("s3cret-upstream");
    expect((await admin({ method: "POST", url: "/mcp/probe", payload: { url: "ftp://x" } })).statusCode).toBe(
      400,
    );
  });
});

describe("registering private targets", () => {
  let t: TestApp;
  let admin: ReturnType<typeof as>;
  beforeAll(async () => {
    t = await createTestApp("pglite", { env: { ALLOW_PRIVATE_TARGETS: "false" } });
    admin = as(t.app, (await createTenant(t.app)).admin);
  });
  afterAll(() => t.close());

  it.each([
    "http://10.0.0.5/mcp",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]:3000/mcp",
    "http://127.0.0.1:3000/mcp",
    "http://localhost:3000/mcp",
  ])("refuses %s with a 400 that says why, without connecting", async (url) => {
    const res = await admin({ method: "POST", url: "/mcp/servers", payload: { name: "internal", url } });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/private, loopback or link-local.*ALLOW_PRIVATE_TARGETS/);
    expect(res.json().issues[0].path).toBe("body.url");
  });

  it("refuses to change a server's URL to a private one", async () => {
    const created = await admin({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "public", url: "http://93.184.216.34/mcp" },
    });
    expect(created.statusCode).toBe(201);
    const res = await admin({
      method: "PATCH",
      url: `/mcp/servers/${created.json().id}`,
      payload: { url: "http://192.168.0.10/mcp" },
    });
    expect(res.statusCode).toBe(400);
  });

  it("refuses to probe a private target", async () => {
    const res = await admin({
      method: "POST",
      url: "/mcp/probe",
      payload: { url: "http://169.254.169.254/" },
    });
    expect(res.json()).toMatchObject({ status: "unhealthy", error: "target_refused" });
  });
});
