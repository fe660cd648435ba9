import { SERVER_JSON_SCHEMA_URL, SWITCHBOARD_META_KEY } from "@switchboard/shared";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { officialEntry } from "../../../test/registry-fixture";
import { checkOpenApi, checkServerJson } from "../../../test/registry-format";
import { queryRows } from "../../db/client";

/*
 * Servers imported here point at example.com: they are registered and exported, never probed
 * (no scheduler runs in these tests) and never proxied. Exported servers point at a closed port on
 * loopback.
 */

const SECRET = "upstream-secret-value-42";

/** A remote server as the official documentation shows one (URL variables, declared headers). */
const documented = {
  $schema: SERVER_JSON_SCHEMA_URL,
  name: "com.example/weather",
  title: "Weather API",
  description: "MCP server providing weather data and forecasts via OpenWeatherMap API",
  version: "1.0.2",
  websiteUrl: "https://modelcontextprotocol.io/examples",
  repository: { url: "https://github.com/example/weather", source: "github", id: "b94b5f7e" },
  remotes: [
    { type: "sse", url: "https://mcp.example.com/sse" },
    {
      type: "streamable-http",
      url: "https://{tenant_id}.api.example.com/mcp",
      variables: { tenant_id: { description: "Your tenant identifier", isRequired: true } },
      headers: [
        { name: "X-API-Key", description: "API key for authentication", isRequired: true, isSecret: true },
        { name: "X-Region", description: "Service region", default: "us-east-1" },
      ],
    },
  ],
};

const plain = (name: string, extra: Record<string, unknown> = {}) => ({
  name: `com.example/${name}`,
  description: `The ${name} server.`,
  version: "0.1.0",
  remotes: [{ type: "streamable-http", url: `https://${name}.example.com/mcp` }],
  ...extra,
});

const packageOnly = {
  name: "io.modelcontextprotocol/filesystem",
  description: "Node.js server implementing Model Context Protocol (MCP) for filesystem operations.",
  version: "1.0.2",
  packages: [
    {
      registryType: "npm",
      identifier: "@modelcontextprotocol/server-filesystem",
      version: "1.0.2",
      transport: { type: "stdio" },
    },
    {
      registryType: "oci",
      identifier: "ghcr.io/modelcontextprotocol/filesystem:1.0.2",
      transport: { type: "stdio" },
    },
  ],
};

describe.each(testDatabaseKinds())("server.json export and import on %s", (kind) => {
  let t: TestApp;
  let a: Tenant;
  let b: Tenant;
  let ownerA: ReturnType<typeof as>;
  let ownerB: ReturnType<typeof as>;

  const count = async (tenantId: string) =>
    Number(
      (
        await queryRows<{ n: number }>(
          t.database.db,
          sql`SELECT count(*)::int AS n FROM mcp_servers WHERE tenant_id = ${tenantId}`,
        )
      )[0]?.n,
    );
  const audits = (tenantId: string, action: string) =>
    queryRows<{ target_id: string; actor_id: string; changes: Record<string, unknown> }>(
      t.database.db,
      sql`SELECT target_id, actor_id, changes FROM audit_logs WHERE tenant_id = ${tenantId} AND action = ${action} ORDER BY created_at`,
    );
  const importAs = (who: ReturnType<typeof as>, payload: unknown, dryRun = false) =>
    who({ method: "POST", url: `/mcp/servers/import${dryRun ? "?dryRun=true" : ""}`, payload });

  beforeAll(async () => {
    t = await createTestApp(kind);
    a = await createTenant(t.app);
    b = await createTenant(t.app);
    ownerA = as(t.app, a.owner);
    ownerB = as(t.app, b.owner);
  });
  afterAll(() => t.close());

  describe("export", () => {
    let full: { id: string; name: string };

    beforeAll(async () => {
      const created = await ownerA({
        method: "POST",
        url: "/mcp/servers",
        payload: {
          name: "crm",
          displayName: "Customer records",
          description:
            "Reads and writes **customer records** in the CRM, with [audit](https://example.com/audit) of every change. Needs a token.\n\n## Tools\n\n- `find_customer`",
          url: "http://127.0.0.1:9/mcp",
          headers: [{ name: "Authorization", value: `Bearer ${SECRET}` }],
          declaredHeaders: [
            { name: "X-Tenant", description: "Which tenant's records", isRequired: false, isSecret: false },
          ],
          tags: ["crm", "prod"],
          registryName: "com.acme/crm",
          title: "CRM",
          websiteUrl: "https://crm.example.com/docs",
          repository: { url: "https://github.com/acme/crm", source: "github", subfolder: "mcp" },
          releaseVersion: "3.4.0",
        },
      });
      expect(created.statusCode).toBe(201);
      full = created.json();
      for (const payload of [
        { name: "legacy-sse", transport: "sse", url: "http://127.0.0.1:9/sse" },
        {
          name: "long-words",
          url: "http://127.0.0.1:9/mcp",
          description: `${"Supercalifragilistic ".repeat(8)}and so on`,
          declaredHeaders: [{ name: "X-Api-Key", isRequired: true, isSecret: true }],
        },
      ]) {
        expect((await ownerA({ method: "POST", url: "/mcp/servers", payload })).statusCode).toBe(201);
      }
    });

    it("writes a valid server.json with header names and descriptions, never their values", async () => {
      const res = await ownerA({ method: "GET", url: `/mcp/servers/${full.id}/server.json` });
      expect(res.statusCode).toBe(200);
      const doc = res.json();
      expect(checkServerJson(doc)).toEqual({ valid: true, errors: [] });
      expect(res.body).not.toContain(SECRET);
      expect(doc).toEqual({
        $schema: SERVER_JSON_SCHEMA_URL,
        name: "com.acme/crm",
        description: "Reads and writes customer records in the CRM, with audit of every change.",
        title: "CRM",
        version: "3.4.0",
        websiteUrl: "https://crm.example.com/docs",
        repository: { url: "https://github.com/acme/crm", source: "github", subfolder: "mcp" },
        remotes: [
          {
            type: "streamable-http",
            url: "http://127.0.0.1:9/mcp",
            headers: [
              { name: "X-Tenant", description: "Which tenant's records", isRequired: false, isSecret: false },
              { name: "Authorization", isRequired: true, isSecret: true },
            ],
          },
        ],
        _meta: {
          [SWITCHBOARD_META_KEY]: {
            description: expect.stringContaining("## Tools"),
            displayName: "Customer records",
            tags: ["crm", "prod"],
          },
        },
      });
    });

    it("exports every server, each valid, names in the organization's namespace when they have none", async () => {
      const res = await ownerA({ method: "GET", url: "/mcp/servers/export" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-disposition"]).toContain("attachment");
      const docs = res.json() as Record<string, unknown>[];
      expect(docs.map((d) => d.name)).toEqual([
        "com.acme/crm",
        expect.stringMatching(/^[a-z0-9-]+\/legacy-sse$/),
        expect.stringMatching(/\/long-words$/),
      ]);
      for (const doc of docs) expect(checkServerJson(doc)).toEqual({ valid: true, errors: [] });
      const long = docs[2] as { description: string; version: string };
      expect(long.description.length).toBeLessThanOrEqual(100);
      expect(long.description.endsWith("…")).toBe(true);
      expect(long.version).toBe("0.0.0");
      const sse = docs[1] as { remotes: unknown[]; description: string };
      expect(sse.remotes).toEqual([{ type: "sse", url: "http://127.0.0.1:9/sse" }]);
      expect(sse.description).toBe("legacy-sse");
      const filtered = await ownerA({ method: "GET", url: "/mcp/servers/export?transport=sse" });
      expect(filtered.json().map((d: { name: string }) => d.name)).toEqual([docs[1]?.name]);
    });

    it("uses the namespace the organization chose, and records the change in the audit trail", async () => {
      const before = await ownerA({ method: "GET", url: "/mcp/registry/settings" });
      expect(before.json()).toMatchObject({ namespaceIsDefault: true, catalogPublic: false });
      const member = await as(
        t.app,
        a.member,
      )({ method: "PATCH", url: "/mcp/registry/settings", payload: { namespace: "com.acme" } });
      expect(member.statusCode).toBe(403);
      const bad = await ownerA({
        method: "PATCH",
        url: "/mcp/registry/settings",
        payload: { namespace: "acme/x" },
      });
      expect(bad.statusCode).toBe(400);
      const res = await ownerA({
        method: "PATCH",
        url: "/mcp/registry/settings",
        payload: { namespace: "com.acme" },
      });
      expect(res.json()).toMatchObject({ namespace: "com.acme", namespaceIsDefault: false });
      const docs = (await ownerA({ method: "GET", url: "/mcp/servers/export" })).json();
      expect(docs.map((d: { name: string }) => d.name)).toEqual([
        "com.acme/crm",
        "com.acme/legacy-sse",
        "com.acme/long-words",
      ]);
      const [audit] = await audits(a.orgId, "registry.settings_update");
      expect(audit?.changes).toEqual({ namespace: { from: before.json().namespace, to: "com.acme" } });
    });

    it("round-trips: every server exported and imported into another organization exports the same", async () => {
      const exported = (await ownerA({ method: "GET", url: "/mcp/servers/export" })).json();
      const res = await importAs(ownerB, exported);
      expect(res.statusCode).toBe(200);
      expect(res.json().counts).toEqual({ created: 3, updated: 0, unchanged: 0, skipped: 0 });
      const again = (await ownerB({ method: "GET", url: "/mcp/servers/export" })).json();
      expect(again).toEqual(exported);
      // Matched within the importing organization only: the exporting one is as it was.
      expect((await ownerA({ method: "GET", url: "/mcp/servers/export" })).json()).toEqual(exported);
      // The stored header came over as declared and unset: the copy needs its secret.
      const crm = res.json().items.find((i: { registryName: string }) => i.registryName === "com.acme/crm");
      expect(crm).toMatchObject({ result: "created", name: "crm", needsConfiguration: true });
      const server = (await ownerB({ method: "GET", url: `/mcp/servers/${crm.serverId}` })).json();
      expect(server).toMatchObject({ displayName: "Customer records", tags: ["crm", "prod"], headers: [] });
      expect(server.description).toContain("## Tools");
      // Imported again, nothing changes.
      const twice = await importAs(ownerB, exported);
      expect(twice.json().counts).toEqual({ created: 0, updated: 0, unchanged: 3, skipped: 0 });
    });
  });

  describe("import", () => {
    it("imports one document, preferring its streamable-http remote and filling its URL variables", async () => {
      const missing = await importAs(ownerA, documented);
      expect(missing.json().items).toEqual([
        expect.objectContaining({ result: "skipped", missingVariables: ["tenant_id"], serverId: null }),
      ]);
      const res = await importAs(ownerA, { source: documented, variables: { tenant_id: "acme" } });
      expect(res.statusCode).toBe(200);
      const [item] = res.json().items;
      expect(item).toMatchObject({
        index: 0,
        registryName: "com.example/weather",
        result: "created",
        name: "weather",
      });
      const server = (await ownerA({ method: "GET", url: `/mcp/servers/${item.serverId}` })).json();
      expect(server).toMatchObject({
        url: "https://acme.api.example.com/mcp",
        transport: "streamable-http",
        registryName: "com.example/weather",
        title: "Weather API",
        displayName: "Weather API",
        description: documented.description,
        releaseVersion: "1.0.2",
        websiteUrl: "https://modelcontextprotocol.io/examples",
        repository: documented.repository,
        needsConfiguration: true,
        declaredHeaders: [
          {
            name: "X-API-Key",
            description: "API key for authentication",
            isRequired: true,
            isSecret: true,
            isSet: false,
          },
          {
            name: "X-Region",
            description: "Service region",
            isRequired: false,
            isSecret: false,
            isSet: false,
          },
        ],
      });
    });

    it("stores a declared secret header's value when the request fills its variable, and never shows it", async () => {
      const doc = plain("billing", {
        remotes: [
          {
            type: "streamable-http",
            url: "https://billing.example.com/mcp",
            headers: [
              {
                name: "Authorization",
                description: "Bearer token",
                isRequired: true,
                isSecret: true,
                value: "Bearer {token}",
                variables: { token: { isRequired: true, isSecret: true } },
              },
            ],
          },
        ],
      });
      const res = await importAs(ownerA, { source: doc, variables: { token: SECRET } });
      const [item] = res.json().items;
      expect(item).toMatchObject({ result: "created", needsConfiguration: false });
      expect(res.body).not.toContain(SECRET);
      const server = await ownerA({ method: "GET", url: `/mcp/servers/${item.serverId}` });
      expect(server.body).not.toContain(SECRET);
      expect(server.json().declaredHeaders[0]).toMatchObject({ name: "Authorization", isSet: true });
      const [row] = await queryRows<{ headers: unknown }>(
        t.database.db,
        sql`SELECT headers FROM mcp_servers WHERE id = ${item.serverId}`,
      );
      expect(JSON.stringify(row)).not.toContain(SECRET);
      const audit = await queryRows<{ changes: unknown }>(
        t.database.db,
        sql`SELECT changes FROM audit_logs WHERE target_id = ${item.serverId}`,
      );
      expect(JSON.stringify(audit)).not.toContain(SECRET);
    });

    it("imports an array and a registry page, with the official metadata", async () => {
      const list = await importAs(ownerA, [plain("alpha"), plain("beta")]);
      expect(list.json().items.map((i: { result: string }) => i.result)).toEqual(["created", "created"]);
      const page = {
        servers: [officialEntry(plain("gamma")), officialEntry(plain("delta"))],
        metadata: { count: 2 },
      };
      expect(checkOpenApi("ServerList", page).valid).toBe(true);
      const res = await importAs(ownerA, page);
      expect(res.json()).toMatchObject({
        dryRun: false,
        counts: { created: 2, updated: 0, unchanged: 0, skipped: 0 },
        items: [
          { index: 0, registryName: "com.example/gamma", result: "created", name: "gamma" },
          { index: 1, registryName: "com.example/delta", result: "created", name: "delta" },
        ],
      });
    });

    it("updates the server it matches on the registry name, and says so", async () => {
      const res = await importAs(
        ownerA,
        plain("alpha", { version: "0.2.0", description: "Alpha, now better." }),
      );
      expect(res.json().items[0]).toMatchObject({ result: "updated", name: "alpha" });
      const server = (
        await ownerA({ method: "GET", url: `/mcp/servers/${res.json().items[0].serverId}` })
      ).json();
      expect(server).toMatchObject({
        releaseVersion: "0.2.0",
        description: "Alpha, now better.",
        version: 2,
      });
    });

    it("gives a new server a free name when another server has its name", async () => {
      const res = await importAs(ownerA, { ...plain("alpha"), name: "org.other/alpha" });
      expect(res.json().items[0]).toMatchObject({ result: "created", name: "alpha-2" });
    });

    it("previews a dry run without writing anything", async () => {
      const servers = await count(a.orgId);
      const imports = (await audits(a.orgId, "server.import")).length;
      const res = await importAs(
        ownerA,
        [plain("epsilon"), plain("alpha", { version: "0.3.0" }), packageOnly],
        true,
      );
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        dryRun: true,
        counts: { created: 1, updated: 1, unchanged: 0, skipped: 1 },
        items: [
          { result: "created", name: "epsilon", serverId: null },
          { result: "updated", name: "alpha" },
          { result: "skipped" },
        ],
      });
      expect(await count(a.orgId)).toBe(servers);
      expect((await audits(a.orgId, "server.import")).length).toBe(imports);
    });

    it("reports a package-only server as not importable", async () => {
      const res = await importAs(ownerA, packageOnly);
      expect(res.json().items[0]).toMatchObject({ result: "skipped", registryName: packageOnly.name });
      expect(res.json().items[0].reason).toMatch(/npm \(stdio\).*oci \(stdio\).*remote servers/);
    });

    it("takes up to 8 MiB, and says so when a body is larger", async () => {
      const res = await importAs(ownerA, { padding: "x".repeat(8 * 1024 * 1024) });
      expect(res.statusCode).toBe(413);
      expect(res.json().detail).toBe("The request body is larger than 8 MiB");
    });

    it("refuses a document that fails the schema with a 400 naming the path, and imports nothing", async () => {
      const servers = await count(a.orgId);
      const res = await importAs(ownerA, [
        plain("zeta"),
        plain("eta", { description: "x".repeat(101) }),
        { name: "no-slash" },
      ]);
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toContain("application/problem+json");
      const paths = res.json().issues.map((i: { path: string }) => i.path);
      expect(paths).toEqual(expect.arrayContaining(["body.1.description", "body.2.name", "body.2.version"]));
      expect(res.json().detail).toContain("body.1.description");
      expect(await count(a.orgId)).toBe(servers);
      const page = await importAs(ownerA, {
        servers: [{ server: { ...plain("theta"), remotes: [{ type: "stdio" }] } }],
      });
      expect(page.statusCode).toBe(400);
      expect(page.json().issues[0].path).toBe("body.servers.0.server.remotes.0.type");
      const notJsonDoc = await importAs(ownerA, { source: 42 });
      expect(notJsonDoc.statusCode).toBe(400);
    });

    it("keeps each document in its own transaction: one that cannot be registered leaves the others", async () => {
      const res = await importAs(ownerA, [
        plain("iota"),
        plain("kappa", { title: "Bad\u202etitle" }),
        plain("lambda"),
      ]);
      expect(res.json().items.map((i: { result: string }) => i.result)).toEqual([
        "created",
        "skipped",
        "created",
      ]);
      expect(res.json().items[1].reason).toContain("title");
    });

    it("audits every change as the import that made it", async () => {
      const rows = await audits(a.orgId, "server.import");
      expect(rows.length).toBeGreaterThanOrEqual(7);
      expect(rows[0]).toMatchObject({
        actor_id: a.owner.id,
        changes: { registryName: "com.example/weather", result: "created", source: "document" },
      });
      const creates = await audits(a.orgId, "server.create");
      expect(creates.map((r) => r.target_id)).toEqual(
        expect.arrayContaining(rows.filter((r) => r.changes.result === "created").map((r) => r.target_id)),
      );
    });

    it("lets only owners and admins import", async () => {
      const res = await importAs(as(t.app, a.member), plain("mu"));
      expect(res.statusCode).toBe(403);
    });
  });
});
