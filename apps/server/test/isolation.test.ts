import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/client";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "./app";
import { testDatabaseKinds } from "./db";

/**
 * Tenant isolation as a matrix: every route, called by every role of tenant B with tenant A's
 * server or key id, answers 404 and changes nothing of tenant A's.
 */
describe.each(testDatabaseKinds())("tenant isolation on %s", (kind) => {
  let t: TestApp;
  let a: Tenant;
  let b: Tenant;
  let serverA: string;
  let keyA: { id: string; key: string };
  let serverB: string;

  const snapshot = async () => ({
    servers: await queryRows(
      t.database.db,
      sql`SELECT * FROM mcp_servers WHERE tenant_id = ${a.orgId} ORDER BY id`,
    ),
    keys: await queryRows(
      t.database.db,
      sql`SELECT * FROM mcp_api_keys WHERE tenant_id = ${a.orgId} ORDER BY id`,
    ),
    audit: await queryRows(
      t.database.db,
      sql`SELECT id FROM audit_logs WHERE tenant_id = ${a.orgId} ORDER BY id`,
    ),
  });

  beforeAll(async () => {
    t = await createTestApp(kind);
    a = await createTenant(t.app);
    b = await createTenant(t.app);
    const adminA = as(t.app, a.admin);
    serverA = (
      await adminA({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "shared-name", url: "http://127.0.0.1:9/mcp" },
      })
    ).json().id;
    keyA = (
      await adminA({ method: "POST", url: `/mcp/servers/${serverA}/keys`, payload: { name: "a-key" } })
    ).json();
    serverB = (
      await as(
        t.app,
        b.admin,
      )({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "shared-name", url: "http://127.0.0.1:9/mcp" },
      })
    ).json().id;
  });
  afterAll(() => t.close());

  const routes = () => [
    { method: "GET" as const, url: `/mcp/servers/${serverA}` },
    { method: "GET" as const, url: `/mcp/servers/${serverA}/server.json` },
    { method: "PATCH" as const, url: `/mcp/servers/${serverA}`, payload: { description: "hijacked" } },
    {
      method: "PATCH" as const,
      url: `/mcp/servers/${serverA}`,
      payload: { enabled: false },
      headers: { "if-match": "1" },
    },
    { method: "DELETE" as const, url: `/mcp/servers/${serverA}` },
    { method: "GET" as const, url: `/mcp/servers/${serverA}/keys` },
    { method: "POST" as const, url: `/mcp/servers/${serverA}/keys`, payload: { name: "planted" } },
    { method: "DELETE" as const, url: `/mcp/servers/${serverA}/keys/${keyA.id}` },
    { method: "DELETE" as const, url: `/mcp/servers/${serverB}/keys/${keyA.id}` },
  ];

  it.each(["owner", "admin"] as const)(
    "answers 404 to tenant B's %s on every route given tenant A's ids",
    async (role) => {
      const before = await snapshot();
      const call = as(t.app, b[role]);
      for (const route of routes()) {
        const res = await call(route);
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(404);
        expect(res.json().code).toBe("NOT_FOUND");
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it("answers tenant B's member 404 on reads and 403 on writes, changing nothing", async () => {
    const before = await snapshot();
    const call = as(t.app, b.member);
    for (const route of routes()) {
      const res = await call(route);
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(route.method === "GET" ? 404 : 403);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("keeps lists, searches and the audit trail apart", async () => {
    const callB = as(t.app, b.owner);
    const list = (await callB({ method: "GET", url: "/mcp/servers?q=shared" })).json();
    expect(list.items.map((s: { id: string }) => s.id)).toEqual([serverB]);
    const audit = (await callB({ method: "GET", url: `/mcp/audit-logs?targetId=${serverA}` })).json();
    expect(audit.total).toBe(0);
    const keys = (await callB({ method: "GET", url: `/mcp/servers/${serverB}/keys` })).json();
    expect(keys.items).toEqual([]);
  });

  it("scopes an API key to its own tenant and server", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: "/mcp/whoami",
      headers: { authorization: `Bearer ${keyA.key}` },
    });
    expect(res.json()).toEqual({ tenantId: a.orgId, serverId: serverA, keyId: keyA.id });
    // A key is not a session: management routes refuse it.
    const mgmt = await t.app.inject({
      method: "GET",
      url: "/mcp/servers",
      headers: { authorization: `Bearer ${keyA.key}` },
    });
    expect(mgmt.statusCode).toBe(401);
  });
});
