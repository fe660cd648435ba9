import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { queryRows } from "../../db/client";
import { claimDueServers } from "../health/repo";

// A closed port on loopback: nothing here is ever reached, and a refused connection is harmless.
const URL_A = "http://127.0.0.1:9/mcp";

describe.each(testDatabaseKinds())("a server's registry fields and declared headers on %s", (kind) => {
  let t: TestApp;
  let tenant: Tenant;
  let owner: ReturnType<typeof as>;
  let slug: string;

  const create = (body: Record<string, unknown>) =>
    owner({ method: "POST", url: "/mcp/servers", payload: body });
  const row = async (id: string) =>
    (
      await queryRows<{ next_check_at: unknown; needs_configuration: boolean }>(
        t.database.db,
        sql`SELECT next_check_at, needs_configuration FROM mcp_servers WHERE id = ${id}`,
      )
    )[0];

  beforeAll(async () => {
    t = await createTestApp(kind);
    tenant = await createTenant(t.app);
    owner = as(t.app, tenant.owner);
    const [org] = await queryRows<{ slug: string }>(
      t.database.db,
      sql`SELECT slug FROM organization WHERE id = ${tenant.orgId}`,
    );
    slug = org?.slug ?? "";
  });
  afterAll(() => t.close());

  it("keeps the registry name, title, website, repository and release version it is given", async () => {
    const res = await create({
      name: "weather",
      url: URL_A,
      registryName: "com.acme/weather",
      title: "Weather API",
      websiteUrl: "https://weather.example.com/docs",
      repository: { url: "https://github.com/acme/weather", source: "github", subfolder: "servers/mcp" },
      releaseVersion: "2.1.0-beta.1",
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      registryName: "com.acme/weather",
      title: "Weather API",
      websiteUrl: "https://weather.example.com/docs",
      repository: { url: "https://github.com/acme/weather", source: "github", subfolder: "servers/mcp" },
      releaseVersion: "2.1.0-beta.1",
      declaredHeaders: [],
      needsConfiguration: false,
      version: 1,
    });
    const patched = await owner({
      method: "PATCH",
      url: `/mcp/servers/${res.json().id}`,
      payload: { title: null, releaseVersion: "2.1.0" },
    });
    expect(patched.json()).toMatchObject({ title: null, releaseVersion: "2.1.0", version: 2 });
  });

  it("refuses a registry name another server of the organization has, and names that are not namespace/name", async () => {
    const taken = await create({ name: "weather-copy", url: URL_A, registryName: "com.acme/weather" });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().issues).toEqual([{ path: "body.registryName", message: "is already taken" }]);
    const bad = await create({ name: "bad-name", url: URL_A, registryName: "weather" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe("body.registryName");
    const version = await create({ name: "bad-version", url: URL_A, releaseVersion: "1.0 beta" });
    expect(version.statusCode).toBe(400);
  });

  describe("a required header declared without a value", () => {
    let id: string;
    let key: string;

    beforeAll(async () => {
      const res = await create({
        name: "needs-key",
        url: URL_A,
        declaredHeaders: [
          {
            name: "X-Api-Key",
            description: "Your key for the weather service",
            isRequired: true,
            isSecret: true,
          },
          { name: "X-Region", description: "Optional region" },
        ],
      });
      expect(res.statusCode).toBe(201);
      id = res.json().id;
      const keyRes = await owner({ method: "POST", url: `/mcp/servers/${id}/keys`, payload: { name: "ci" } });
      key = keyRes.json().key;
    });

    it("leaves the server listed as needing configuration, with which header is missing", async () => {
      const list = await owner({ method: "GET", url: "/mcp/servers?q=needs-key" });
      expect(list.json().items).toEqual([
        expect.objectContaining({
          name: "needs-key",
          needsConfiguration: true,
          declaredHeaders: [
            {
              name: "X-Api-Key",
              description: "Your key for the weather service",
              isRequired: true,
              isSecret: true,
              isSet: false,
            },
            {
              name: "X-Region",
              description: "Optional region",
              isRequired: false,
              isSecret: false,
              isSet: false,
            },
          ],
        }),
      ]);
    });

    it("is never picked by the scheduler and cannot be checked by hand", async () => {
      expect((await row(id))?.next_check_at).toBeNull();
      const far = new Date(Date.now() + 86_400_000 * 365);
      // Even a next check that somehow got set does not make it due.
      await t.database.db.execute(sql`UPDATE mcp_servers SET next_check_at = now() WHERE id = ${id}`);
      const claimed = await claimDueServers(t.database.db, far, 1000, far);
      expect(claimed.map((s) => s.id)).not.toContain(id);
      await t.database.db.execute(sql`UPDATE mcp_servers SET next_check_at = NULL WHERE id = ${id}`);
      const check = await owner({ method: "POST", url: `/mcp/servers/${id}/check` });
      expect(check.statusCode).toBe(409);
      expect(check.json().detail).toContain("X-Api-Key");
    });

    it("is not served by the gateway", async () => {
      const res = await t.app.inject({
        method: "POST",
        url: `/gateway/${slug}/needs-key/mcp`,
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          accept: "application/json",
        },
        payload: { jsonrpc: "2.0", id: 7, method: "tools/list" },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ id: 7, error: { data: { reason: "needs_configuration" } } });
    });

    it("is checked at once and served again when the header is given a value", async () => {
      const res = await owner({
        method: "PATCH",
        url: `/mcp/servers/${id}`,
        payload: { headers: [{ name: "x-api-key", value: "secret-value-1" }] },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().needsConfiguration).toBe(false);
      expect(res.json().declaredHeaders[0]).toMatchObject({ name: "X-Api-Key", isSet: true });
      expect(res.body).not.toContain("secret-value-1");
      const after = await row(id);
      expect(after?.needs_configuration).toBe(false);
      expect(after?.next_check_at).not.toBeNull();
      const gateway = await t.app.inject({
        method: "POST",
        url: `/gateway/${slug}/needs-key/mcp`,
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          accept: "application/json",
        },
        payload: { jsonrpc: "2.0", id: 8, method: "tools/list" },
      });
      expect(gateway.json().error?.data?.reason).not.toBe("needs_configuration");
    });

    it("needs configuration again when the header's value is removed", async () => {
      const res = await owner({ method: "PATCH", url: `/mcp/servers/${id}`, payload: { headers: [] } });
      expect(res.json().needsConfiguration).toBe(true);
      expect((await row(id))?.next_check_at).toBeNull();
    });
  });
});
