import { ServerListQuery } from "@switchboard/shared";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { queryRows } from "../../db/client";
import { createSecretBox } from "../../lib/secrets";
import { MASK } from "../audit/mask";
import { listStampedRows } from "./repo";

const URL_A = "http://127.0.0.1:9/mcp";

describe.each(testDatabaseKinds())("MCP servers API on %s", (kind) => {
  let t: TestApp;
  let tenant: Tenant;
  let owner: ReturnType<typeof as>;
  let member: ReturnType<typeof as>;

  const create = (body: Record<string, unknown>) =>
    owner({ method: "POST", url: "/mcp/servers", payload: body });
  const serverRows = (tenantId = tenant.orgId) =>
    queryRows<Record<string, unknown>>(
      t.database.db,
      sql`SELECT * FROM mcp_servers WHERE tenant_id = ${tenantId} ORDER BY name`,
    );
  const auditRows = (tenantId = tenant.orgId) =>
    queryRows<{ action: string; target_id: string; changes: Record<string, unknown> }>(
      t.database.db,
      sql`SELECT action, target_id, changes FROM audit_logs WHERE tenant_id = ${tenantId} AND action LIKE 'server.%' ORDER BY created_at`,
    );

  beforeAll(async () => {
    t = await createTestApp(kind);
    tenant = await createTenant(t.app);
    owner = as(t.app, tenant.owner);
    member = as(t.app, tenant.member);
  });
  afterAll(() => t.close());

  describe("POST /mcp/servers", () => {
    it("registers a server with sensible defaults and answers 201 with it", async () => {
      const res = await create({ name: "weather", url: URL_A });
      expect(res.statusCode).toBe(201);
      const server = res.json();
      expect(server).toMatchObject({
        name: "weather",
        displayName: "weather",
        description: "",
        transport: "streamable-http",
        url: URL_A,
        headers: [],
        tags: [],
        enabled: true,
        checkIntervalSeconds: 60,
        status: "unknown",
        lastCheckedAt: null,
        consecutiveFailures: 0,
        tools: [],
        createdBy: tenant.owner.id,
        version: 1,
      });
      expect(res.headers.location).toBe(`/mcp/servers/${server.id}`);
      expect(res.headers.etag).toBe('"1"');
    });

    it("stores upstream header values encrypted and answers with them masked", async () => {
      const res = await create({
        name: "secured",
        displayName: "Secured server",
        description: "Needs a **token**.\n\n- one\n- two",
        transport: "sse",
        url: "https://mcp.example.com/sse",
        headers: [{ name: "Authorization", value: "Bearer upstream-secret-123" }],
        tags: ["prod", "team-a"],
        checkIntervalSeconds: 300,
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().headers).toEqual([{ name: "Authorization", value: MASK }]);
      expect(res.body).not.toContain("upstream-secret-123");
      const [row] = (await serverRows()).filter((r) => r.name === "secured");
      const stored = ((row?.headers ?? []) as { name: string; value: string }[])[0];
      expect(JSON.stringify(row)).not.toContain("upstream-secret-123");
      expect(stored?.value).toMatch(/^v1:/);
      expect(createSecretBox(t.config.secretsKey).open(stored?.value ?? "")).toBe(
        "Bearer upstream-secret-123",
      );
      const audit = (await auditRows()).find(
        (a) => a.action === "server.create" && a.target_id === res.json().id,
      );
      expect(audit?.changes.headers).toEqual([{ name: "Authorization", value: MASK }]);
      expect(JSON.stringify(await auditRows())).not.toContain("upstream-secret-123");
    });

    it.each([
      ["name", { name: "Weather" }],
      ["name", { name: "-weather" }],
      ["name", { name: "a".repeat(64) }],
      ["name", { name: "" }],
      ["url", { url: "ftp://127.0.0.1/mcp" }],
      ["url", { url: "/relative/mcp" }],
      ["url", { url: "javascript:alert(1)" }],
      ["url", { url: "http://127.0.0.1/has space" }],
      ["description", { description: "x".repeat(2001) }],
      ["description", { description: "bell\u0007" }],
      ["displayName", { displayName: "line\nbreak" }],
      ["displayName", { displayName: "   " }],
      ["transport", { transport: "stdio" }],
      ["tags", { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }],
      ["tags", { tags: ["a", "a"] }],
      ["tags.0", { tags: ["Not A Tag"] }],
      ["checkIntervalSeconds", { checkIntervalSeconds: 5 }],
      ["checkIntervalSeconds", { checkIntervalSeconds: 1.5 }],
      ["enabled", { enabled: "yes" }],
      [
        "headers",
        {
          headers: [
            { name: "X-A", value: "1" },
            { name: "x-a", value: "2" },
          ],
        },
      ],
      ["headers.0.name", { headers: [{ name: "Host", value: "evil" }] }],
      ["headers.0.name", { headers: [{ name: "Bad Header", value: "1" }] }],
      ["headers.0.value", { headers: [{ name: "X-Token", value: "" }] }],
      ["headers.0.value", { headers: [{ name: "X-Token", value: "a\r\nX-Injected: 1" }] }],
      ["colour", { colour: "red" }],
    ])("refuses a bad %s with a 400 naming it, and writes nothing", async (field, patch) => {
      const before = (await serverRows()).length;
      const res = await create({ name: "valid-name", url: URL_A, ...patch });
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toMatch(/problem\+json/);
      expect(res.json().issues.map((i: { path: string }) => i.path)).toContain(`body.${field}`);
      expect((await serverRows()).length).toBe(before);
    });

    it("answers 409 for a name taken in the tenant and changes nothing", async () => {
      await create({ name: "dup", url: URL_A });
      const rowsBefore = await serverRows();
      const auditBefore = await auditRows();
      const res = await create({ name: "dup", url: "http://127.0.0.1:10/mcp" });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: "CONFLICT", issues: [{ path: "body.name" }] });
      expect(await serverRows()).toEqual(rowsBefore);
      expect(await auditRows()).toEqual(auditBefore);
    });

    it("lets two tenants use the same name", async () => {
      const other = await createTenant(t.app);
      const res = await as(
        t.app,
        other.admin,
      )({ method: "POST", url: "/mcp/servers", payload: { name: "dup", url: URL_A } });
      expect(res.statusCode).toBe(201);
    });

    it("refuses members with a 403 and writes nothing", async () => {
      const res = await member({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "by-member", url: URL_A },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().detail).toMatch(/owners and admins/);
      expect((await serverRows()).some((r) => r.name === "by-member")).toBe(false);
    });
  });

  describe("GET /mcp/servers/:id", () => {
    it("reads one server, and 404s an unknown id", async () => {
      const id = (await create({ name: "readable", url: URL_A })).json().id;
      const res = await member({ method: "GET", url: `/mcp/servers/${id}` });
      expect(res.statusCode).toBe(200);
      expect(res.json().name).toBe("readable");
      const missing = await member({
        method: "GET",
        url: "/mcp/servers/00000000-0000-4000-8000-000000000000",
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().code).toBe("NOT_FOUND");
      const malformed = await member({ method: "GET", url: "/mcp/servers/not-a-uuid" });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().issues[0].path).toBe("params.id");
    });
  });

  describe("PATCH /mcp/servers/:id", () => {
    it("changes fields, bumps the version and audits a before/after diff", async () => {
      const created = (await create({ name: "patchable", url: URL_A, tags: ["a"] })).json();
      const res = await owner({
        method: "PATCH",
        url: `/mcp/servers/${created.id}`,
        payload: { displayName: "Patched", tags: ["a", "b"], checkIntervalSeconds: 120 },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        displayName: "Patched",
        tags: ["a", "b"],
        checkIntervalSeconds: 120,
        version: 2,
      });
      expect(res.headers.etag).toBe('"2"');
      const audit = (await auditRows()).filter((a) => a.target_id === created.id);
      expect(audit.map((a) => a.action)).toEqual(["server.create", "server.update"]);
      expect(audit[1]?.changes).toEqual({
        displayName: { from: "patchable", to: "Patched" },
        tags: { from: ["a"], to: ["a", "b"] },
        checkIntervalSeconds: { from: 60, to: 120 },
      });
    });

    it("honours If-Match: 412 for a stale version, leaving the server as it was", async () => {
      const created = (await create({ name: "versioned", url: URL_A })).json();
      const ok = await owner({
        method: "PATCH",
        url: `/mcp/servers/${created.id}`,
        headers: { "if-match": '"1"' },
        payload: { description: "first" },
      });
      expect(ok.statusCode).toBe(200);
      const auditBefore = await auditRows();
      const stale = await owner({
        method: "PATCH",
        url: `/mcp/servers/${created.id}`,
        headers: { "if-match": "1" },
        payload: { description: "second" },
      });
      expect(stale.statusCode).toBe(412);
      expect(stale.json()).toMatchObject({
        code: "PRECONDITION_FAILED",
        detail: expect.stringMatching(/version 2/),
      });
      const now = await owner({ method: "GET", url: `/mcp/servers/${created.id}` });
      expect(now.json()).toMatchObject({ description: "first", version: 2 });
      expect(await auditRows()).toEqual(auditBefore);
      const bad = await owner({
        method: "PATCH",
        url: `/mcp/servers/${created.id}`,
        headers: { "if-match": "latest" },
        payload: { description: "third" },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().issues[0].path).toBe("headers.if-match");
    });

    it("keeps a stored header value when the header is sent without one, and rotates it when sent with one", async () => {
      const box = createSecretBox(t.config.secretsKey);
      const stored = async (name: string) => {
        const row = (await serverRows()).find((r) => r.name === name);
        return ((row?.headers ?? []) as { name: string; value: string }[]).map((h) => [
          h.name,
          box.open(h.value),
        ]);
      };
      const created = (
        await create({
          name: "headers",
          url: URL_A,
          headers: [{ name: "Authorization", value: "Bearer one" }],
        })
      ).json();
      const url = `/mcp/servers/${created.id}`;
      await owner({
        method: "PATCH",
        url,
        payload: { headers: [{ name: "Authorization" }, { name: "X-Team", value: "blue" }] },
      });
      expect(await stored("headers")).toEqual([
        ["Authorization", "Bearer one"],
        ["X-Team", "blue"],
      ]);
      await owner({
        method: "PATCH",
        url,
        payload: { headers: [{ name: "Authorization", value: "Bearer two" }] },
      });
      expect(await stored("headers")).toEqual([["Authorization", "Bearer two"]]);
      const last = (await auditRows()).filter((a) => a.target_id === created.id).at(-1);
      expect(last?.changes.headerValuesChanged).toEqual(["Authorization"]);
      expect(JSON.stringify(await auditRows())).not.toMatch(/Bearer (one|two)|blue/);

      const missing = await owner({ method: "PATCH", url, payload: { headers: [{ name: "X-New" }] } });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().issues[0].path).toBe("body.headers.0.value");
      expect(await stored("headers")).toEqual([["Authorization", "Bearer two"]]);
    });

    it("answers 409 when renaming onto a taken name, 400 for an empty change, 404 for an unknown id", async () => {
      const a = (await create({ name: "rename-a", url: URL_A })).json();
      await create({ name: "rename-b", url: URL_A });
      const clash = await owner({
        method: "PATCH",
        url: `/mcp/servers/${a.id}`,
        payload: { name: "rename-b" },
      });
      expect(clash.statusCode).toBe(409);
      expect((await owner({ method: "GET", url: `/mcp/servers/${a.id}` })).json().name).toBe("rename-a");
      const empty = await owner({ method: "PATCH", url: `/mcp/servers/${a.id}`, payload: {} });
      expect(empty.statusCode).toBe(400);
      const unknown = await owner({
        method: "PATCH",
        url: "/mcp/servers/00000000-0000-4000-8000-000000000000",
        payload: { description: "x" },
      });
      expect(unknown.statusCode).toBe(404);
    });

    it("stops scheduling checks for a disabled server and resumes when enabled", async () => {
      const created = (await create({ name: "toggle", url: URL_A })).json();
      expect(created.nextCheckAt).not.toBeNull();
      const off = await owner({
        method: "PATCH",
        url: `/mcp/servers/${created.id}`,
        payload: { enabled: false },
      });
      expect(off.json()).toMatchObject({ enabled: false, nextCheckAt: null });
      const on = await owner({
        method: "PATCH",
        url: `/mcp/servers/${created.id}`,
        payload: { enabled: true },
      });
      expect(on.json().nextCheckAt).not.toBeNull();
    });

    it("refuses members", async () => {
      const created = (await create({ name: "member-patch", url: URL_A })).json();
      const res = await member({
        method: "PATCH",
        url: `/mcp/servers/${created.id}`,
        payload: { description: "x" },
      });
      expect(res.statusCode).toBe(403);
      expect((await owner({ method: "GET", url: `/mcp/servers/${created.id}` })).json().version).toBe(1);
    });
  });

  describe("DELETE /mcp/servers/:id", () => {
    it("deletes the server with its keys and health history, and audits it", async () => {
      const created = (await create({ name: "doomed", url: URL_A })).json();
      await owner({ method: "POST", url: `/mcp/servers/${created.id}/keys`, payload: { name: "k" } });
      await t.database.db.execute(
        sql`INSERT INTO mcp_server_health (server_id, tenant_id, status) VALUES (${created.id}, ${tenant.orgId}, 'healthy')`,
      );
      expect((await member({ method: "DELETE", url: `/mcp/servers/${created.id}` })).statusCode).toBe(403);
      const res = await owner({ method: "DELETE", url: `/mcp/servers/${created.id}` });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe("");
      const left = await queryRows<{ n: number }>(
        t.database.db,
        sql`SELECT (SELECT count(*) FROM mcp_api_keys WHERE server_id = ${created.id})::int
             + (SELECT count(*) FROM mcp_server_health WHERE server_id = ${created.id})::int AS n`,
      );
      expect(left[0]?.n).toBe(0);
      expect((await auditRows()).filter((a) => a.target_id === created.id).map((a) => a.action)).toEqual([
        "server.create",
        "server.delete",
      ]);
      expect((await owner({ method: "DELETE", url: `/mcp/servers/${created.id}` })).statusCode).toBe(404);
    });
  });

  describe("GET /mcp/servers", () => {
    let lister: Tenant;
    let call: ReturnType<typeof as>;
    const names = async (query: string) => {
      const res = await call({ method: "GET", url: `/mcp/servers${query}` });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json().items as { name: string }[]).map((s) => s.name);
    };

    beforeAll(async () => {
      lister = await createTenant(t.app);
      call = as(t.app, lister.admin);
      const seed = [
        {
          name: "alpha",
          displayName: "Zeta Alpha",
          tags: ["prod"],
          transport: "sse",
          description: "Weather forecasts",
        },
        { name: "bravo", displayName: "Yankee Bravo", tags: ["prod", "eu"], description: "Stock 50% quotes" },
        { name: "charlie", displayName: "X-ray Charlie", tags: ["staging"], enabled: false },
        { name: "delta", displayName: "Whiskey Delta", tags: ["eu"], transport: "sse" },
        { name: "echo", displayName: "Victor Echo", tags: [] },
      ];
      for (const s of seed) {
        const res = await call({ method: "POST", url: "/mcp/servers", payload: { url: URL_A, ...s } });
        expect(res.statusCode).toBe(201);
      }
      const set = (name: string, status: string, at: string | null) =>
        t.database.db.execute(
          sql`UPDATE mcp_servers SET status = ${status}, last_checked_at = ${at}::timestamptz WHERE tenant_id = ${lister.orgId} AND name = ${name}`,
        );
      await set("alpha", "healthy", "2026-01-03T00:00:00Z");
      await set("bravo", "unhealthy", "2026-01-01T00:00:00Z");
      await set("delta", "healthy", "2026-01-02T00:00:00Z");
    });

    it("returns a page with its total, 50 per page by default", async () => {
      const res = await call({ method: "GET", url: "/mcp/servers" });
      expect(res.json()).toMatchObject({ page: 1, pageSize: 50, total: 5 });
      expect(await names("?pageSize=2")).toEqual(["alpha", "bravo"]);
      expect(await names("?pageSize=2&page=3")).toEqual(["echo"]);
      expect(await names("?pageSize=2&page=4")).toEqual([]);
      expect((await call({ method: "GET", url: "/mcp/servers?pageSize=200" })).statusCode).toBe(200);
    });

    it("counts a change in the total at once, though totals are reused between requests", async () => {
      const other = await createTenant(t.app);
      const c = as(t.app, other.admin);
      const total = async (query: string) =>
        (await c({ method: "GET", url: `/mcp/servers${query}` })).json().total as number;
      expect([await total(""), await total("?enabled=true")]).toEqual([0, 0]);

      const created = await c({ method: "POST", url: "/mcp/servers", payload: { name: "one", url: URL_A } });
      expect(created.statusCode).toBe(201);
      expect([await total(""), await total("?enabled=true")]).toEqual([1, 1]);

      const id = created.json().id as string;
      const off = await c({ method: "PATCH", url: `/mcp/servers/${id}`, payload: { enabled: false } });
      expect(off.statusCode).toBe(200);
      expect([await total(""), await total("?enabled=true"), await total("?enabled=false")]).toEqual([
        1, 0, 1,
      ]);

      expect((await c({ method: "DELETE", url: `/mcp/servers/${id}` })).statusCode).toBe(204);
      expect([await total(""), await total("?enabled=false")]).toEqual([0, 0]);
    });

    it("counts again after an edit only the totals that edit can move", async () => {
      const other = await createTenant(t.app);
      const c = as(t.app, other.admin);
      const ids: string[] = [];
      for (const name of ["red-one", "red-two", "plain"]) {
        const res = await c({
          method: "POST",
          url: "/mcp/servers",
          payload: { name, url: URL_A, tags: name === "plain" ? [] : ["red"] },
        });
        expect(res.statusCode).toBe(201);
        ids.push(res.json().id);
      }
      const total = async (query: string) =>
        (await c({ method: "GET", url: `/mcp/servers${query}` })).json().total as number;
      expect([await total("?tag=red"), await total("?q=red"), await total("")]).toEqual([2, 2, 3]);

      // A change no event tells of (the totals' time to live bounds what it can cost) shows where
      // a count was made again and where the one remembered was reused.
      await t.database.db.execute(
        sql`UPDATE mcp_servers SET tags = '{}', name = 'renamed', display_name = 'Renamed' WHERE tenant_id = ${other.orgId} AND name = 'red-one'`,
      );
      const described = await c({
        method: "PATCH",
        url: `/mcp/servers/${ids[2]}`,
        payload: { description: "Edited" },
      });
      expect(described.statusCode).toBe(200);
      // A description moves searches only: those are counted again, the count by tag is reused.
      expect([await total("?tag=red"), await total("?q=red"), await total("")]).toEqual([2, 1, 3]);

      const tagged = await c({ method: "PATCH", url: `/mcp/servers/${ids[2]}`, payload: { tags: ["blue"] } });
      expect(tagged.statusCode).toBe(200);
      expect([await total("?tag=red"), await total("?tag=blue"), await total("")]).toEqual([1, 1, 3]);
    });

    it("shows every write at once, though rows that did not change are reused between lists", async () => {
      const other = await createTenant(t.app);
      const c = as(t.app, other.admin);
      for (const name of ["one", "two", "three"]) {
        const res = await c({
          method: "POST",
          url: "/mcp/servers",
          payload: { name, url: URL_A, tags: ["x"] },
        });
        expect(res.statusCode).toBe(201);
      }
      const list = async () => {
        const res = await c({ method: "GET", url: "/mcp/servers?tag=x&sort=name" });
        expect(res.statusCode, res.body).toBe(200);
        return res.json().items as Record<string, unknown>[];
      };
      const first = await list();
      expect(await list()).toEqual(first);

      // A check recorded by another instance, straight into the table, and an edit through the API.
      await t.database.db.execute(
        sql`UPDATE mcp_servers SET status = 'unhealthy', last_latency_ms = 777 WHERE tenant_id = ${other.orgId} AND name = 'one'`,
      );
      const three = first.find((s) => s.name === "three");
      const edited = await c({
        method: "PATCH",
        url: `/mcp/servers/${three?.id}`,
        payload: { description: "Edited" },
      });
      expect(edited.statusCode).toBe(200);
      const after = await list();
      expect(after.map((s) => [s.name, s.status, s.lastLatencyMs, s.description])).toEqual([
        ["one", "unhealthy", 777, ""],
        ["three", "unknown", null, "Edited"],
        ["two", "unknown", null, ""],
      ]);
      expect(after[2]).toEqual(first.find((s) => s.name === "two"));
      // What the list shows of each is what reading it alone shows, but its definitions.
      for (const item of after) {
        const one = await c({ method: "GET", url: `/mcp/servers/${item.id}` });
        const { tools, prompts, resources, ...summary } = one.json();
        expect(item).toEqual(summary);
      }
    });

    it("reads in full only the rows whose stamps it was not sent", async () => {
      const rows = (known: readonly string[]) =>
        listStampedRows(t.database.db, lister.orgId, ServerListQuery.parse({ sort: "name" }), known);
      const fresh = await rows([]);
      expect(fresh.map((r) => r.row?.name)).toEqual(["alpha", "bravo", "charlie", "delta", "echo"]);
      const stamps = fresh.map((r) => r.stamp);
      expect((await rows(stamps)).map((r) => r.row)).toEqual([null, null, null, null, null]);

      // Any write gives the row a new stamp, even one that sets what was there.
      await t.database.db.execute(
        sql`UPDATE mcp_servers SET status = status WHERE tenant_id = ${lister.orgId} AND name = 'charlie'`,
      );
      const again = await rows(stamps);
      expect(again.map((r) => r.row?.name ?? null)).toEqual([null, null, "charlie", null, null]);
      expect(again[2]?.stamp).not.toBe(stamps[2]);
      expect(again[2]?.row).toEqual(fresh[2]?.row);
    });

    it.each([
      ["?pageSize=201", "query.pageSize"],
      ["?pageSize=0", "query.pageSize"],
      ["?page=-1", "query.page"],
      ["?sort=url", "query.sort"],
      ["?sort=--name", "query.sort"],
      ["?status=broken", "query.status"],
      ["?transport=stdio", "query.transport"],
      ["?enabled=maybe", "query.enabled"],
      ["?tag=Bad%20Tag", "query.tag"],
      [`?q=${"x".repeat(201)}`, "query.q"],
      ["?unknown=1", "query.unknown"],
    ])("refuses %s with a 400 naming %s", async (query, path) => {
      const res = await call({ method: "GET", url: `/mcp/servers${query}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().issues.map((i: { path: string }) => i.path)).toContain(path);
    });

    it.each([
      ["name", ["alpha", "bravo", "charlie", "delta", "echo"]],
      ["-name", ["echo", "delta", "charlie", "bravo", "alpha"]],
      ["displayName", ["echo", "delta", "charlie", "bravo", "alpha"]],
      ["-displayName", ["alpha", "bravo", "charlie", "delta", "echo"]],
      ["createdAt", ["alpha", "bravo", "charlie", "delta", "echo"]],
      ["-createdAt", ["echo", "delta", "charlie", "bravo", "alpha"]],
      ["lastCheckedAt", ["bravo", "delta", "alpha", "charlie", "echo"]],
      ["-lastCheckedAt", ["alpha", "delta", "bravo", "charlie", "echo"]],
    ])("sorts by %s", async (sort, expected) => {
      expect(await names(`?sort=${sort}`)).toEqual(expected);
    });

    it("sorts by status and by updatedAt", async () => {
      // healthy < unhealthy < unknown as text; ties by name.
      expect(await names("?sort=status")).toEqual(["alpha", "delta", "bravo", "charlie", "echo"]);
      expect(await names("?sort=-status")).toEqual(["charlie", "echo", "bravo", "alpha", "delta"]);
      const id = (await call({ method: "GET", url: "/mcp/servers?q=bravo" })).json().items[0].id;
      await call({ method: "PATCH", url: `/mcp/servers/${id}`, payload: { checkIntervalSeconds: 90 } });
      expect((await names("?sort=-updatedAt"))[0]).toBe("bravo");
    });

    it("filters by status, transport, tag and enabled, alone and combined", async () => {
      expect(await names("?status=healthy")).toEqual(["alpha", "delta"]);
      expect(await names("?status=unknown")).toEqual(["charlie", "echo"]);
      expect(await names("?transport=sse")).toEqual(["alpha", "delta"]);
      expect(await names("?tag=eu")).toEqual(["bravo", "delta"]);
      expect(await names("?enabled=false")).toEqual(["charlie"]);
      expect(await names("?enabled=true&tag=prod")).toEqual(["alpha", "bravo"]);
      expect(await names("?status=healthy&transport=sse&tag=eu&sort=-name")).toEqual(["delta"]);
      const res = await call({ method: "GET", url: "/mcp/servers?tag=prod&pageSize=1" });
      expect(res.json().total).toBe(2);
    });

    it("searches name, display name, description and tags, case-insensitively", async () => {
      expect(await names("?q=CHAR")).toEqual(["charlie"]);
      expect(await names("?q=yankee")).toEqual(["bravo"]);
      expect(await names("?q=forecast")).toEqual(["alpha"]);
      expect(await names("?q=staging")).toEqual(["charlie"]);
      expect(await names("?q=50%25")).toEqual(["bravo"]);
      expect(await names("?q=%25")).toEqual(["bravo"]);
      expect(await names("?q=_")).toEqual([]);
      expect(await names("?q=nothing-matches")).toEqual([]);
      expect(await names("?q=a&tag=eu&sort=-name")).toEqual(["delta", "bravo"]);
    });

    it("finds a server by what it says now: a rename or a new description is searched at once", async () => {
      const other = await createTenant(t.app);
      const c = as(t.app, other.admin);
      const found = async (q: string) =>
        (await c({ method: "GET", url: `/mcp/servers?q=${q}` }))
          .json()
          .items.map((s: { name: string }) => s.name);
      const created = await c({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "lookup", url: URL_A, description: "Tides and currents", tags: ["sea"] },
      });
      expect(created.statusCode).toBe(201);
      expect([await found("tides"), await found("SEA")]).toEqual([["lookup"], ["lookup"]]);

      const id = created.json().id as string;
      const edited = await c({
        method: "PATCH",
        url: `/mcp/servers/${id}`,
        payload: { displayName: "Harbour Master", description: "Berths", tags: ["port"] },
      });
      expect(edited.statusCode).toBe(200);
      expect([await found("tides"), await found("sea")]).toEqual([[], []]);
      expect([await found("harbour"), await found("berths"), await found("PORT")]).toEqual([
        ["lookup"],
        ["lookup"],
        ["lookup"],
      ]);
      // A health check rewrites the row but not what it says: search still finds it.
      await t.database.db.execute(sql`UPDATE mcp_servers SET status = 'healthy' WHERE id = ${id}`);
      expect(await found("berths")).toEqual(["lookup"]);
    });

    it("lists only the caller's tenant", async () => {
      const all = (await call({ method: "GET", url: "/mcp/servers?pageSize=200" })).json();
      expect(all.total).toBe(5);
      const mine = (await owner({ method: "GET", url: "/mcp/servers?pageSize=200" })).json();
      expect(mine.items.some((s: { name: string }) => ["charlie", "echo"].includes(s.name))).toBe(false);
    });
  });
});
