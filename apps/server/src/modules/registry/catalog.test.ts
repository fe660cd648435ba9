import { OFFICIAL_META_KEY, SERVER_JSON_SCHEMA_URL, SWITCHBOARD_META_KEY } from "@switchboard/shared";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  as,
  BASE_URL,
  createOrg,
  createTenant,
  createTestApp,
  signUp,
  type Tenant,
  type TestApp,
} from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { checkOpenApi, checkServerJson } from "../../../test/registry-format";
import { queryRows } from "../../db/client";

// Servers on a closed loopback port: the catalog lists them, nothing here connects to them.
const UPSTREAM = "http://127.0.0.1:9";

describe.each(testDatabaseKinds())("an organization's catalog as a /v0.1 registry on %s", (kind) => {
  let t: TestApp;
  let org: Tenant;
  let other: Tenant;
  let owner: ReturnType<typeof as>;
  let slug: string;
  let key: string;
  let otherKey: string;
  const created: Record<string, { id: string; createdAt: string; updatedAt: string }> = {};

  const catalog = (path: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: "GET", url: `/registry/${slug}/v0.1${path}`, headers });
  const asKey = (k: string) => ({ authorization: `Bearer ${k}` });
  const slugOf = async (tenantId: string) =>
    (
      await queryRows<{ slug: string }>(
        t.database.db,
        sql`SELECT slug FROM organization WHERE id = ${tenantId}`,
      )
    )[0]?.slug ?? "";

  beforeAll(async () => {
    t = await createTestApp(kind);
    org = await createTenant(t.app);
    other = await createTenant(t.app);
    owner = as(t.app, org.owner);
    slug = await slugOf(org.orgId);
    for (const payload of [
      {
        name: "weather",
        url: `${UPSTREAM}/mcp`,
        registryName: "com.acme/weather",
        displayName: "Weather",
        description: "Forecasts for anywhere. Backed by **three** providers.",
        releaseVersion: "2.0.1",
        websiteUrl: "https://weather.example.com",
        headers: [{ name: "Authorization", value: "Bearer upstream-secret" }],
      },
      { name: "files", transport: "sse", url: `${UPSTREAM}/sse`, description: "Files over SSE." },
      { name: "calendar", url: `${UPSTREAM}/mcp`, description: "Meetings.", enabled: false },
    ]) {
      const res = await owner({ method: "POST", url: "/mcp/servers", payload });
      expect(res.statusCode).toBe(201);
      created[payload.name] = res.json();
    }
    key = (
      await owner({
        method: "POST",
        url: `/mcp/servers/${created.files?.id}/keys`,
        payload: { name: "gallery" },
      })
    ).json().key;
    const otherServer = await as(
      t.app,
      other.owner,
    )({ method: "POST", url: "/mcp/servers", payload: { name: "theirs", url: `${UPSTREAM}/mcp` } });
    otherKey = (
      await as(
        t.app,
        other.owner,
      )({ method: "POST", url: `/mcp/servers/${otherServer.json().id}/keys`, payload: { name: "k" } })
    ).json().key;
  });
  afterAll(() => t.close());

  it("lists the servers in the official format, each reached through the gateway, for a key of the organization", async () => {
    const res = await catalog("/servers", asKey(key));
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(checkOpenApi("ServerList", page)).toEqual({ valid: true, errors: [] });
    for (const e of page.servers) expect(checkServerJson(e.server)).toEqual({ valid: true, errors: [] });
    expect(page.metadata).toEqual({ count: 3 });
    expect(page.servers.map((e: { server: { name: string } }) => e.server.name)).toEqual([
      "com.acme/weather",
      `${slug}/calendar`,
      `${slug}/files`,
    ]);
    const weather = page.servers[0];
    expect(weather).toEqual({
      server: {
        $schema: SERVER_JSON_SCHEMA_URL,
        name: "com.acme/weather",
        description: "Forecasts for anywhere.",
        title: "Weather",
        version: "2.0.1",
        websiteUrl: "https://weather.example.com",
        remotes: [
          {
            type: "streamable-http",
            url: `${BASE_URL}/gateway/${slug}/weather/mcp`,
            headers: [
              {
                name: "Authorization",
                description: expect.stringContaining("mcp_"),
                isRequired: true,
                isSecret: true,
                value: "Bearer {api_key}",
                variables: { api_key: expect.objectContaining({ isRequired: true, isSecret: true }) },
              },
            ],
          },
        ],
      },
      _meta: {
        [OFFICIAL_META_KEY]: {
          status: "active",
          publishedAt: created.weather?.createdAt,
          updatedAt: created.weather?.updatedAt,
          isLatest: true,
        },
        [SWITCHBOARD_META_KEY]: { enabled: true, health: "unknown", needsConfiguration: false },
      },
    });
    expect(res.body).not.toContain("upstream-secret");
    expect(res.body).not.toContain(UPSTREAM);
    expect(page.servers[2].server.remotes[0]).toMatchObject({
      type: "sse",
      url: `${BASE_URL}/gateway/${slug}/files/sse`,
    });
  });

  it("is read by members with their session, and by no one else", async () => {
    expect((await catalog("/servers", { cookie: org.member.cookie })).statusCode).toBe(200);
    // A member whose active organization is another one still reads it.
    const both = await signUp(t.app);
    await addMember(t.app, org.owner, org.orgId, both, "member");
    await createOrg(t.app, both);
    expect((await catalog("/servers", { cookie: both.cookie })).statusCode).toBe(200);
    const noCredentials = await catalog("/servers");
    expect(noCredentials.statusCode).toBe(401);
    expect(noCredentials.headers["content-type"]).toContain("application/problem+json");
    expect((await catalog("/servers", asKey(`mcp_${"x".repeat(60)}`))).statusCode).toBe(401);
    // Another organization's key, or member, is told nothing about this one.
    expect((await catalog("/servers", asKey(otherKey))).statusCode).toBe(404);
    expect((await catalog("/servers", { cookie: other.owner.cookie })).statusCode).toBe(404);
    const unknown = await t.app.inject({
      method: "GET",
      url: "/registry/no-such-org/v0.1/servers",
      headers: asKey(otherKey),
    });
    expect(unknown.statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: "GET", url: "/registry/no-such-org/v0.1/servers" })).statusCode,
    ).toBe(401);
  });

  it("is public once the organization says so, an audited change that only owners and admins make", async () => {
    const member = await as(
      t.app,
      org.member,
    )({ method: "PATCH", url: "/mcp/registry/settings", payload: { catalogPublic: true } });
    expect(member.statusCode).toBe(403);
    const res = await owner({
      method: "PATCH",
      url: "/mcp/registry/settings",
      payload: { catalogPublic: true },
    });
    expect(res.json()).toMatchObject({ catalogPublic: true, catalogUrl: `${BASE_URL}/registry/${slug}` });
    expect((await catalog("/servers")).statusCode).toBe(200);
    const [audit] = await queryRows<{ changes: unknown; actor_id: string }>(
      t.database.db,
      sql`SELECT changes, actor_id FROM audit_logs WHERE tenant_id = ${org.orgId} AND action = 'registry.settings_update'`,
    );
    expect(audit).toEqual({ changes: { catalogPublic: { from: false, to: true } }, actor_id: org.owner.id });
    await owner({ method: "PATCH", url: "/mcp/registry/settings", payload: { catalogPublic: false } });
    expect((await catalog("/servers")).statusCode).toBe(401);
  });

  it("pages with an opaque cursor until the last page, which has none", async () => {
    const first = (await catalog("/servers?limit=2", asKey(key))).json();
    expect(first.metadata.count).toBe(2);
    expect(first.metadata.nextCursor).toEqual(expect.any(String));
    const second = (
      await catalog(`/servers?limit=2&cursor=${encodeURIComponent(first.metadata.nextCursor)}`, asKey(key))
    ).json();
    expect(second.metadata).toEqual({ count: 1 });
    expect(
      [...first.servers, ...second.servers].map((e: { server: { name: string } }) => e.server.name),
    ).toEqual(["com.acme/weather", `${slug}/calendar`, `${slug}/files`]);
    const bad = await catalog("/servers?cursor=nonsense", asKey(key));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe("query.cursor");
    expect((await catalog("/servers?limit=101", asKey(key))).statusCode).toBe(400);
  });

  it("searches names, filters by version and by what changed since a time", async () => {
    const names = async (query: string) =>
      (await catalog(`/servers?${query}`, asKey(key)))
        .json()
        .servers.map((e: { server: { name: string } }) => e.server.name);
    expect(await names("search=WEATH")).toEqual(["com.acme/weather"]);
    expect(await names("version=2.0.1")).toEqual(["com.acme/weather"]);
    expect(await names("version=latest")).toHaveLength(3);
    await owner({
      method: "PATCH",
      url: `/mcp/servers/${created.files?.id}`,
      payload: { description: "Files, now." },
    });
    const since = encodeURIComponent(created.calendar?.updatedAt ?? "");
    expect(await names(`updated_since=${since}`)).toEqual([`${slug}/files`]);
    expect((await catalog("/servers?updated_since=yesterday", asKey(key))).statusCode).toBe(400);
  });

  it("answers a server's versions and each version, `latest` included, as the OpenAPI document says", async () => {
    const name = encodeURIComponent("com.acme/weather");
    const versions = await catalog(`/servers/${name}/versions`, asKey(key));
    expect(versions.statusCode).toBe(200);
    expect(checkOpenApi("ServerList", versions.json())).toEqual({ valid: true, errors: [] });
    expect(versions.json().servers.map((e: { server: { version: string } }) => e.server.version)).toEqual([
      "2.0.1",
    ]);
    for (const v of ["latest", "2.0.1"]) {
      const one = await catalog(`/servers/${name}/versions/${v}`, asKey(key));
      expect(one.statusCode).toBe(200);
      expect(checkOpenApi("ServerResponse", one.json())).toEqual({ valid: true, errors: [] });
      expect(one.json().server.name).toBe("com.acme/weather");
    }
    expect((await catalog(`/servers/${name}/versions/9.9.9`, asKey(key))).statusCode).toBe(404);
    expect(
      (await catalog(`/servers/${encodeURIComponent("com.acme/nothing")}/versions`, asKey(key))).statusCode,
    ).toBe(404);
    // A server without a registry name of its own is found under the organization's namespace.
    const files = await catalog(
      `/servers/${encodeURIComponent(`${slug}/files`)}/versions/latest`,
      asKey(key),
    );
    expect(files.json().server.version).toBe("0.0.0");
  });

  it.each([
    ["the organization", (name: string) => `/registry/a%00b/v0.1/servers/${name}/versions`],
    ["the server's name", () => `/registry/${slug}/v0.1/servers/com.acme%2Fwea%00ther/versions`],
    ["the version", (name: string) => `/registry/${slug}/v0.1/servers/${name}/versions/1.0%00`],
    ["the organization, listing", () => "/registry/%01/v0.1/servers"],
  ])("refuses a control character in %s with a 400, before any query", async (_what, path) => {
    const res = await t.app.inject({
      method: "GET",
      url: path(encodeURIComponent("com.acme/weather")),
      headers: asKey(key),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: "VALIDATION",
      issues: [{ message: "must not contain control characters" }],
    });
  });

  it("finds a server by the longest registry name and version it takes, percent-encoded", async () => {
    // 200 characters of name, 255 of version (UTF-8 of 3 bytes each, 9 characters encoded).
    const registryName = `com.acme/${"n".repeat(191)}`;
    const releaseVersion = `1.0.0-${"é€".repeat(124)}x`;
    expect([registryName.length, releaseVersion.length]).toEqual([200, 255]);
    const res = await owner({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "long-names", url: `${UPSTREAM}/mcp`, registryName, releaseVersion },
    });
    expect(res.statusCode).toBe(201);
    const path = `/servers/${encodeURIComponent(registryName)}/versions`;
    const versions = await catalog(path, asKey(key));
    expect(versions.statusCode).toBe(200);
    const one = await catalog(`${path}/${encodeURIComponent(releaseVersion)}`, asKey(key));
    expect(one.statusCode).toBe(200);
    expect(one.json().server).toMatchObject({ name: registryName, version: releaseVersion });
    await owner({ method: "DELETE", url: `/mcp/servers/${res.json().id}` });
  });
});

describe("the catalog's rate limit", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite", { env: { RATE_LIMIT_CATALOG_PER_IP: "3" } });
  });
  afterAll(() => t.close());

  it("refuses an address past RATE_LIMIT_CATALOG_PER_IP requests a minute, whatever the catalog", async () => {
    const get = (slug: string) => t.app.inject({ method: "GET", url: `/registry/${slug}/v0.1/servers` });
    for (let i = 0; i < 3; i++) expect((await get("somebody")).statusCode).not.toBe(429);
    const refused = await get("anybody-else");
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["content-type"]).toContain("application/problem+json");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
  });
});
