import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/client";
import { createTenant, createTestApp, type Tenant, type TestApp } from "./app";

describe("CSRF check and Authorization headers", () => {
  let t: TestApp;
  let tenant: Tenant;
  beforeAll(async () => {
    t = await createTestApp("pglite", {
      // A write authenticated by key alone, as a key-authenticated route would be.
      routes: (app) =>
        app.post("/key-write", { config: { auth: "api_key" } }, async (_request, reply) =>
          reply.code(202).send({ ok: true }),
        ),
    });
    tenant = await createTenant(t.app);
  });
  afterAll(() => t.close());

  it("refuses a cookie-authenticated write from a foreign origin though it carries a Bearer header", async () => {
    for (const authorization of ["Bearer anything", "Bearer mcp_not-a-real-key", "bearer x"]) {
      const res = await t.app.inject({
        method: "POST",
        url: "/mcp/servers",
        headers: { cookie: tenant.admin.cookie, origin: "https://evil.example.com", authorization },
        payload: { name: "csrf-bearer", url: "http://127.0.0.1:9/mcp" },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().detail).toMatch(/evil\.example\.com is not a trusted origin/);
    }
    const rows = await queryRows<{ name: string }>(
      t.database.db,
      sql`SELECT name FROM mcp_servers WHERE tenant_id = ${tenant.orgId}`,
    );
    expect(rows).toEqual([]);
  });

  it("lets a write to a key-authenticated route through, cookie or not, since it never reads the cookie", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/key-write",
      headers: { cookie: tenant.admin.cookie, origin: "https://elsewhere.example.com" },
      payload: {},
    });
    expect(res.statusCode).toBe(202);
  });
});
