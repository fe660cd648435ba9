import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { officialEntry, type RegistryFixture, startRegistryFixture } from "../../../test/registry-fixture";
import { checkOpenApi } from "../../../test/registry-format";

/*
 * A registry of the official /v0.1 API on 127.0.0.1 serves the documents. The servers it lists
 * point at example.com: they are registered, never probed (no scheduler runs here) nor proxied.
 */

const entry = (name: string) =>
  officialEntry({
    $schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    name: `io.github.example/${name}`,
    description: `The ${name} server.`,
    version: "1.0.0",
    remotes: [{ type: "streamable-http", url: `https://${name}.example.com/mcp` }],
  });

const entries = ["one", "two", "three", "four", "five"].map(entry);

describe.each(testDatabaseKinds())("import from a registry URL on %s", (kind) => {
  let t: TestApp;
  let tenant: Tenant;
  let owner: ReturnType<typeof as>;
  let registry: RegistryFixture;
  const fixtures: RegistryFixture[] = [];

  const importFrom = (payload: Record<string, unknown>, dryRun = false) =>
    owner({
      method: "POST",
      url: `/mcp/servers/import-from-registry${dryRun ? "?dryRun=true" : ""}`,
      payload,
    });
  const start = async (opts: Parameters<typeof startRegistryFixture>[0]) => {
    const f = await startRegistryFixture(opts);
    fixtures.push(f);
    return f;
  };

  beforeAll(async () => {
    t = await createTestApp(kind, {
      env: { REGISTRY_IMPORT_MAX_PAGES: "5", REGISTRY_IMPORT_TIMEOUT_MS: "1500" },
    });
    tenant = await createTenant(t.app);
    owner = as(t.app, tenant.owner);
    registry = await start({ entries });
  });
  afterAll(async () => {
    await Promise.all(fixtures.map((f) => f.close()));
    await t.close();
  });

  it("serves pages the official OpenAPI document accepts (the fixture speaks the format)", async () => {
    const res = await fetch(`${registry.url}/v0.1/servers?limit=2`);
    expect(checkOpenApi("ServerList", await res.json())).toEqual({ valid: true, errors: [] });
  });

  it("previews, then imports every server of the registry, asking for the latest versions", async () => {
    const preview = await importFrom({ url: registry.url }, true);
    expect(preview.statusCode).toBe(200);
    expect(preview.json()).toMatchObject({ dryRun: true, truncated: false, counts: { created: 5 } });
    registry.requests.length = 0;
    const res = await importFrom({ url: `${registry.url}/v0.1/servers`, limit: 5 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      dryRun: false,
      pages: 1,
      truncated: false,
      counts: { created: 5, updated: 0, unchanged: 0, skipped: 0 },
    });
    expect(res.json().items.map((i: { name: string }) => i.name)).toEqual([
      "one",
      "two",
      "three",
      "four",
      "five",
    ]);
    expect(registry.requests).toEqual(["/v0.1/servers?limit=5&version=latest"]);
    const again = await importFrom({ url: registry.url });
    expect(again.json()).toMatchObject({ counts: { unchanged: 5 } });
  });

  it("passes search on and stops at its limit, saying there was more", async () => {
    const res = await importFrom({ url: registry.url, search: "o", limit: 2 }, true);
    expect(res.json()).toMatchObject({ truncated: true, pages: 1 });
    expect(res.json().items.map((i: { registryName: string }) => i.registryName)).toEqual([
      "io.github.example/one",
      "io.github.example/two",
    ]);
    expect(registry.requests.at(-1)).toBe("/v0.1/servers?limit=2&version=latest&search=o");
  });

  it("follows the cursor across pages of at most 100, asking each time for what it still wants", async () => {
    const many = await start({ entries: Array.from({ length: 120 }, (_v, i) => entry(`s${i}`)) });
    const all = await importFrom({ url: many.url, limit: 120 }, true);
    expect(all.json()).toMatchObject({ pages: 2, truncated: false, counts: { created: 120 } });
    expect(many.requests).toEqual([
      "/v0.1/servers?limit=100&version=latest",
      "/v0.1/servers?limit=20&version=latest&cursor=100",
    ]);
  });

  it("stops a registry that pages forever after its page bound", async () => {
    const forever = await start({ entries, mode: "forever" });
    const res = await importFrom({ url: forever.url, limit: 500 }, true);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ pages: 5, truncated: true });
    expect(forever.requests).toHaveLength(5);
  });

  it("stops reading a registry that sends 50 MB, and imports nothing", async () => {
    const huge = await start({ mode: "huge" });
    const res = await importFrom({ url: huge.url });
    expect(res.statusCode).toBe(502);
    expect(res.json().detail).toContain("larger than 4 MiB");
    // It was cut off near the bound, not read to the end.
    await new Promise((r) => setTimeout(r, 100));
    expect(huge.bytesSent()).toBeLessThan(20 * 1024 * 1024);
  });

  it("gives up on a registry that does not answer in time", async () => {
    const silent = await start({ mode: "silent" });
    const started = Date.now();
    const res = await importFrom({ url: silent.url });
    expect(res.statusCode).toBe(504);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("skips an entry that is not valid server.json, naming where, and imports the rest", async () => {
    const bad = { server: { name: "io.github.example/broken", version: "1" } };
    const mixed = await start({ entries: [entry("fine"), bad as never] });
    const res = await importFrom({ url: mixed.url }, true);
    expect(res.json().items).toEqual([
      expect.objectContaining({ result: "created", registryName: "io.github.example/fine" }),
      expect.objectContaining({
        result: "skipped",
        registryName: "io.github.example/broken",
        reason: expect.stringContaining("servers.1.server.description"),
      }),
    ]);
  });

  it("answers 502 when the URL is not a registry", async () => {
    const res = await importFrom({ url: `${registry.url}/elsewhere/v0.1/servers` });
    expect(res.statusCode).toBe(502);
    expect(res.json().detail).toContain("404");
  });

  it("lets only owners and admins import", async () => {
    const res = await as(
      t.app,
      tenant.member,
    )({
      method: "POST",
      url: "/mcp/servers/import-from-registry",
      payload: { url: registry.url },
    });
    expect(res.statusCode).toBe(403);
  });
});

describe("import from a registry on a private address", () => {
  let t: TestApp;
  let registry: RegistryFixture;

  beforeAll(async () => {
    // The operator has not allowed private targets: loopback is refused like any private address.
    t = await createTestApp("pglite", { env: { ALLOW_PRIVATE_TARGETS: "false" } });
    registry = await startRegistryFixture({ entries });
  });
  afterAll(async () => {
    await registry.close();
    await t.close();
  });

  it("is refused without connecting, naming ALLOW_PRIVATE_TARGETS", async () => {
    const tenant = await createTenant(t.app);
    for (const url of [registry.url, registry.url.replace("127.0.0.1", "[::ffff:127.0.0.1]")]) {
      const res = await as(
        t.app,
        tenant.owner,
      )({
        method: "POST",
        url: "/mcp/servers/import-from-registry",
        payload: { url },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().detail).toContain("ALLOW_PRIVATE_TARGETS");
      expect(res.json().issues[0].path).toBe("body.url");
    }
    expect(registry.connections()).toBe(0);
  });
});
