import { randomBytes, randomUUID } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { type Db, type Queryable, queryRows } from "../../db/client";
import { type RunningMcpServer, startMcpServer } from "../../demo/mcp-servers";
import { type RunningModernServer, startModernMcpServer } from "../../demo/modern-servers";
import type { InternalEvent } from "../../lib/bus";
import { type RunningFront, startFront } from "./probe-fixture";
import { claimDueServers, recordHealth } from "./repo";
import { nextCheckAt, phaseOf, slotAtOrAfter } from "./schedule";

/** Thrown to roll a test's transaction back. */
class RolledBack extends Error {}

describe("nextCheckAt", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const id = "80000000-0000-4000-8000-000000000000"; // phase: half an interval
  const after = (failures: number, random = 0.5) =>
    nextCheckAt(now, 60, failures, id, () => random).getTime() - now.getTime();

  it("keeps a server's phase after a success: its next slot at least half an interval away", () => {
    // Slots of this server fall at :30 of each minute; a check at :00 is followed by :30, not 1:00.
    expect(after(0)).toBe(30_000);
    const late = new Date("2026-01-01T00:00:40Z");
    expect(nextCheckAt(late, 60, 0, id).toISOString()).toBe("2026-01-01T00:01:30.000Z");
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

describe("check slots", () => {
  it("spread a fleet registered at once evenly over the interval", () => {
    const at = new Date("2026-01-01T00:00:00Z");
    const perSecond = new Array(60).fill(0);
    for (let i = 0; i < 6000; i++) {
      const slot = slotAtOrAfter(at, 60, randomUUID());
      const offset = slot.getTime() - at.getTime();
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(60_000);
      perSecond[Math.floor(offset / 1000)]++;
    }
    // 100 a second on average; a fleet checked all at once would put 6,000 in one second.
    expect(Math.max(...perSecond) / 100).toBeLessThan(1.5);
  });

  it("give each server the same phase in every interval", () => {
    const id = randomUUID();
    const a = slotAtOrAfter(new Date("2026-01-01T00:00:00Z"), 60, id).getTime() % 60_000;
    const b = slotAtOrAfter(new Date("2026-03-04T05:06:07Z"), 60, id).getTime() % 60_000;
    expect(a).toBe(b);
    expect(phaseOf(id)).toBeGreaterThanOrEqual(0);
    expect(phaseOf(id)).toBeLessThan(1);
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

  it("claims a due server in the queue alone, and records its check without an index entry (a HOT update)", async () => {
    await admin({ method: "POST", url: `/mcp/servers/${serverId}/check` });
    const db = t.database.db;
    await db.execute(
      sql`UPDATE mcp_servers SET next_check_at = now() - interval '1 second' WHERE id = ${serverId}`,
    );
    // The connection's own counts of row versions written, not yet reported to the shared
    // statistics (so exact), from the transaction's start: one connection, whatever the pool.
    const counts = async (q: Queryable, table: string) =>
      (
        await queryRows<{ updated: number; hot: number }>(
          q,
          sql`SELECT pg_stat_get_xact_tuples_updated(${table}::regclass)::int AS updated,
                     pg_stat_get_xact_tuples_hot_updated(${table}::regclass)::int AS hot`,
        )
      )[0] ?? { updated: 0, hot: 0 };
    await db
      .transaction(async (tx) => {
        const start = {
          servers: await counts(tx, "mcp_servers"),
          queue: await counts(tx, "mcp_check_schedule"),
        };
        const writes = async (table: "mcp_servers" | "mcp_check_schedule") => {
          const now = await counts(tx, table);
          const before = start[table === "mcp_servers" ? "servers" : "queue"];
          return { updated: now.updated - before.updated, hot: now.hot - before.hot };
        };
        const now = new Date();
        const [claimed] = await claimDueServers(
          tx as unknown as Db,
          now,
          10,
          new Date(now.getTime() + 60_000),
        );
        expect(claimed).toMatchObject({ id: serverId, status: "healthy" });
        expect(await writes("mcp_servers")).toEqual({ updated: 0, hot: 0 });
        expect(await writes("mcp_check_schedule")).toEqual({ updated: 1, hot: 0 });

        const next = new Date(now.getTime() + 30_000);
        const recorded = await recordHealth(tx, [
          {
            serverId,
            tenantId: tenant.orgId,
            checkedAt: now,
            seenLastCheckedAt: claimed?.lastCheckedAt ?? null,
            status: "healthy",
            latencyMs: 5,
            error: null,
            protocolVersion: null,
            era: null,
            toolsCount: null,
            consecutiveFailures: 0,
            nextCheckAt: next,
            learned: null,
            authChallenge: null,
          },
        ]);
        expect(recorded.current).toEqual([serverId]);
        expect(await writes("mcp_servers")).toEqual({ updated: 1, hot: 1 });
        // The recorded next check replaced the lease in the queue.
        const [queued] = await queryRows<{ due_at: string | Date }>(
          tx,
          sql`SELECT due_at FROM mcp_check_schedule WHERE server_id = ${serverId}`,
        );
        expect(new Date(queued?.due_at ?? 0).toISOString()).toBe(next.toISOString());
        throw new RolledBack();
      })
      .catch((e) => {
        if (!(e instanceof RolledBack)) throw e;
      });
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
    // Refused with a bare 401 (no OAuth challenge, no protected-resource metadata): a failure.
    const denied = await admin({ method: "POST", url: "/mcp/probe", payload: { url: mcp.url } });
    expect(denied.json()).toMatchObject({ status: "unhealthy", error: "http_401", authChallenge: null });
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

describe.each(testDatabaseKinds())("checks of a server that asks for credentials on %s", (kind) => {
  let t: TestApp;
  let admin: ReturnType<typeof as>;
  let url: string;
  /** `bare`: 401 with no sign of OAuth; `oauth`: 401 with a Bearer challenge. */
  let mode: "bare" | "oauth" = "bare";
  const server = createHttpServer((req, res) => {
    req.resume();
    const challenge = { "www-authenticate": 'Bearer resource_metadata="http://127.0.0.1:9/none"' };
    res.writeHead(401, mode === "oauth" ? challenge : {}).end();
  });

  beforeAll(async () => {
    t = await createTestApp(kind, { env: { PROBE_TIMEOUT_MS: "2000", PROBE_DEGRADED_MS: "1500" } });
    admin = as(t.app, (await createTenant(t.app)).admin);
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`;
  });
  afterAll(async () => {
    server.close();
    await t.close();
  });

  it("backs off a bare refusal as a failure, and an OAuth one not at all", async () => {
    const created = await admin({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "protected", url, checkIntervalSeconds: 60 },
    });
    const id = created.json().id;
    const check = async () =>
      (await admin({ method: "POST", url: `/mcp/servers/${id}/check` })).json().server;
    const wait = (s: { nextCheckAt: string; lastCheckedAt: string }) =>
      Date.parse(s.nextCheckAt) - Date.parse(s.lastCheckedAt);

    const failed = await check();
    expect(failed).toMatchObject({ status: "unhealthy", lastError: "http_401", consecutiveFailures: 1 });
    expect(wait(failed)).toBeGreaterThan(60_000);

    mode = "oauth";
    for (let i = 0; i < 2; i++) {
      const asking = await check();
      expect(asking).toMatchObject({ status: "auth_required", lastError: null, consecutiveFailures: 0 });
      expect(asking.authChallenge).toMatchObject({ resourceMetadataUrl: "http://127.0.0.1:9/none" });
      // Its next slot: at least half an interval on, less than one and a half (a backoff is 2×).
      expect(wait(asking)).toBeGreaterThanOrEqual(30_000);
      expect(wait(asking)).toBeLessThan(90_000);
    }
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
    // The form shows the issue under the URL field: it must say how to allow the address there too.
    expect(res.json().issues).toEqual([
      {
        path: "body.url",
        message: expect.stringMatching(/: private addresses need ALLOW_PRIVATE_TARGETS=true/),
      },
    ]);
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

describe.each(testDatabaseKinds())("tool drift and pins on %s", (kind) => {
  let t: TestApp;
  let tenant: Tenant;
  let admin: ReturnType<typeof as>;
  let mcp: RunningMcpServer;
  let modern: RunningModernServer;
  const events: InternalEvent[] = [];

  beforeAll(async () => {
    t = await createTestApp(kind, { env: { PROBE_TIMEOUT_MS: "2000", PROBE_DEGRADED_MS: "1500" } });
    t.runtime.bus.subscribe((e) => events.push(e));
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    mcp = await startMcpServer({ tools: [{ name: "lookup", description: "Finds a record" }] });
    modern = await startModernMcpServer({ tools: [{ name: "search", description: "Searches" }] });
  });
  afterAll(async () => {
    await mcp.close();
    await modern.close();
    await t.close();
  });

  const register = async (name: string, url: string) =>
    (await admin({ method: "POST", url: "/mcp/servers", payload: { name, url } })).json().id as string;
  const check = (id: string) => admin({ method: "POST", url: `/mcp/servers/${id}/check` });
  const get = async (id: string) => (await admin({ method: "GET", url: `/mcp/servers/${id}` })).json();

  it("keeps each tool's whole definition, and counts them in the list", async () => {
    const id = await register("defined", mcp.url);
    expect((await check(id)).statusCode).toBe(200);
    const server = await get(id);
    expect(server.tools).toEqual([
      {
        name: "lookup",
        title: null,
        description: "Finds a record",
        inputSchema: expect.objectContaining({ type: "object", properties: { text: { type: "string" } } }),
        outputSchema: null,
        annotations: null,
      },
    ]);
    expect(server.toolsHash).toMatch(/^[0-9a-f]{64}$/);
    const listed = (await admin({ method: "GET", url: "/mcp/servers?q=defined" })).json().items[0];
    expect(listed).toMatchObject({ id, toolsCount: 1, promptsCount: 0, resourcesCount: 0, pinned: false });
    expect(listed).not.toHaveProperty("tools");
  });

  it("records a change of a tool as drift, audits it as the system, tells the dashboards, and flags a pinned server", async () => {
    const id = await register("drifting", modern.url);
    await check(id);
    const baseline = await get(id);
    expect((await admin({ method: "GET", url: `/mcp/servers/${id}/drift` })).json().items).toEqual([]);
    const pinned = await admin({
      method: "PUT",
      url: `/mcp/servers/${id}/tools/pin`,
      payload: { toolsHash: baseline.toolsHash },
    });
    expect(pinned.statusCode).toBe(200);
    expect(pinned.json()).toMatchObject({ pinned: true, drifted: false });

    modern.setTools([{ name: "search", description: "Searches, and sends what it finds elsewhere" }]);
    expect((await check(id)).statusCode).toBe(200);
    const after = await get(id);
    expect(after).toMatchObject({ pinned: true, drifted: true });
    expect(after.toolsHash).not.toBe(baseline.toolsHash);

    const drift = (await admin({ method: "GET", url: `/mcp/servers/${id}/drift` })).json().items;
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({
      fromHash: baseline.toolsHash,
      toHash: after.toolsHash,
      added: [],
      removed: [],
      changed: [
        {
          name: "search",
          before: { description: "Searches" },
          after: { description: "Searches, and sends what it finds elsewhere" },
        },
      ],
    });
    const audits = await queryRows<{
      actor_type: string;
      actor_id: string;
      changes: Record<string, unknown>;
    }>(
      t.database.db,
      sql`SELECT actor_type, actor_id, changes FROM audit_logs WHERE target_id = ${id} AND action = 'server.tools_drift'`,
    );
    expect(audits).toEqual([
      {
        actor_type: "system",
        actor_id: "health",
        changes: expect.objectContaining({ changed: ["search"], pinned: true, driftId: drift[0].id }),
      },
    ]);
    expect(events).toContainEqual({
      type: "public",
      tenantId: tenant.orgId,
      event: expect.objectContaining({
        type: "tools.drifted",
        serverId: id,
        changed: ["search"],
        pinned: true,
      }),
    });
    const flagged = (await admin({ method: "GET", url: "/mcp/servers?drifted=true" })).json();
    expect(flagged.items.map((s: { id: string }) => s.id)).toEqual([id]);

    // The same tools seen again are no new drift.
    await check(id);
    expect((await admin({ method: "GET", url: `/mcp/servers/${id}/drift` })).json().items).toHaveLength(1);

    // Approving what was reviewed before the change is refused; approving the new set clears the flag.
    const stale = await admin({
      method: "PUT",
      url: `/mcp/servers/${id}/tools/pin`,
      payload: { toolsHash: baseline.toolsHash },
    });
    expect(stale.statusCode).toBe(412);
    const approved = await admin({
      method: "PUT",
      url: `/mcp/servers/${id}/tools/pin`,
      payload: { toolsHash: after.toolsHash },
    });
    expect(approved.json()).toMatchObject({ pinned: true, drifted: false });
    const unpinned = await admin({ method: "DELETE", url: `/mcp/servers/${id}/tools/pin` });
    expect(unpinned.json()).toMatchObject({ pinned: false, drifted: false, pinnedAt: null });
    const actions = await queryRows<{ action: string }>(
      t.database.db,
      sql`SELECT action FROM audit_logs WHERE target_id = ${id} AND action LIKE 'server.tools%' ORDER BY seq`,
    );
    expect(actions.map((a) => a.action)).toEqual([
      "server.tools_pin",
      "server.tools_drift",
      "server.tools_pin",
      "server.tools_unpin",
    ]);
  });

  it.each(["modern", "legacy"] as const)(
    "records no drift when a %s server's tools/list fails once between two good checks",
    async (era) => {
      const f: RunningFront = await startFront(era === "modern" ? modern.url : mcp.url);
      try {
        const id = await register(`listing-${era}`, f.url);
        await check(id);
        const baseline = await get(id);
        expect(baseline.tools).toHaveLength(1);
        await admin({
          method: "PUT",
          url: `/mcp/servers/${id}/tools/pin`,
          payload: { toolsHash: baseline.toolsHash },
        });
        const seen = events.length;

        f.answer = (req) => (req.rpcMethod === "tools/list" ? { status: 500, body: "listing broke" } : null);
        const failed = (await check(id)).json();
        expect(failed.check).toMatchObject({ status: "degraded", error: "http_500" });
        // Connected: what it said of itself is kept; what it could not list is not taken for a change.
        expect(failed.server).toMatchObject({
          status: "degraded",
          serverInfo: { era },
          tools: baseline.tools,
          toolsHash: baseline.toolsHash,
          pinned: true,
          drifted: false,
        });
        const history = (await admin({ method: "GET", url: `/mcp/servers/${id}/health?limit=1` })).json();
        expect(history.items[0]).toMatchObject({ status: "degraded", toolsCount: null });

        f.answer = () => null;
        const healed = (await check(id)).json();
        expect(healed.server).toMatchObject({
          status: "healthy",
          toolsHash: baseline.toolsHash,
          drifted: false,
        });

        expect((await admin({ method: "GET", url: `/mcp/servers/${id}/drift` })).json().items).toEqual([]);
        const audits = await queryRows(
          t.database.db,
          sql`SELECT id FROM audit_logs WHERE target_id = ${id} AND action = 'server.tools_drift'`,
        );
        expect(audits).toEqual([]);
        expect(
          events.slice(seen).filter((e) => e.type === "public" && e.event.type === "tools.drifted"),
        ).toEqual([]);
      } finally {
        await f.close();
      }
    },
  );

  it("keeps an unchanged tool set where it is stored, and still stores prompts that changed", async () => {
    // Definitions large enough to be stored out of line, where a rewrite would show as new chunks.
    const bulky = (n: number, text: string) =>
      Array.from({ length: 10 }, (_, i) => ({
        name: `tool-${i}`,
        description: `${text} ${randomBytes(600).toString("hex")}`.slice(0, 1000 + n),
      }));
    const tools = bulky(0, "first");
    const changing = await startModernMcpServer({ tools, prompts: ["summarize"] });
    try {
      const id = await register("bulky", changing.url);
      const [toast] = await queryRows<{ name: string }>(
        t.database.db,
        sql`SELECT reltoastrelid::regclass::text AS name FROM pg_class WHERE relname = 'mcp_servers'`,
      );
      const chunks = async () =>
        (
          await queryRows<{ id: number }>(
            t.database.db,
            sql`SELECT DISTINCT chunk_id::int8 AS id FROM ${sql.raw(toast?.name ?? "")} ORDER BY 1`,
          )
        ).map((r) => Number(r.id));
      expect((await check(id)).statusCode).toBe(200);
      const first = await get(id);
      const stored = await chunks();
      expect(stored.length).toBeGreaterThan(0);

      changing.setPrompts(["summarize", "translate"]);
      expect((await check(id)).statusCode).toBe(200);
      const second = await get(id);
      expect(second.prompts.map((p: { name: string }) => p.name)).toEqual(["summarize", "translate"]);
      expect(second.toolsHash).toBe(first.toolsHash);
      expect(second.tools).toEqual(first.tools);
      // No chunk stored anew (others' may have gone: vacuum runs when it will).
      const added = async () => (await chunks()).filter((c) => !stored.includes(c));
      expect(await added()).toEqual([]);

      changing.setTools(bulky(1, "second"));
      expect((await check(id)).statusCode).toBe(200);
      const third = await get(id);
      expect(third.toolsHash).not.toBe(first.toolsHash);
      expect(third.tools[0].description).toMatch(/^second /);
      expect((await added()).length).toBeGreaterThan(0);
      expect((await admin({ method: "GET", url: `/mcp/servers/${id}/drift` })).json().items).toHaveLength(1);
    } finally {
      await changing.close();
    }
  });

  it("refuses to pin a server never checked, and refuses members", async () => {
    const id = await register("unchecked", "http://127.0.0.1:9/mcp");
    expect((await admin({ method: "PUT", url: `/mcp/servers/${id}/tools/pin` })).statusCode).toBe(409);
    const member = as(t.app, tenant.member);
    expect((await member({ method: "PUT", url: `/mcp/servers/${id}/tools/pin` })).statusCode).toBe(403);
    expect((await member({ method: "GET", url: `/mcp/servers/${id}/drift` })).statusCode).toBe(200);
  });
});
