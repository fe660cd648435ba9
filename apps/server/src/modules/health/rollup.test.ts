import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp, testClock } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { queryRows } from "../../db/client";
import type { ProbeResult, Prober } from "./probe";
import { type HealthRecord, recordHealth } from "./repo";
import { purgeHealthHistory } from "./service";

const T0 = new Date("2031-02-03T10:58:00.000Z");
const MINUTE = 60_000;
const HOUR = 3_600_000;

const outcome = (status: ProbeResult["status"], latencyMs: number): ProbeResult => ({
  status,
  latencyMs,
  error: status === "unhealthy" ? "connection_refused" : null,
  serverInfo: null,
  tools: [],
  prompts: [],
  resources: [],
  authChallenge: null,
});

type HourRow = {
  hour: string;
  checks: number;
  healthy: number;
  degraded: number;
  unhealthy: number;
  auth_required: number;
  latency_sum: number;
  latency_count: number;
  latency_max: number | null;
};

describe.each(testDatabaseKinds())("health rollup and status since on %s", (kind) => {
  const clock = testClock(T0);
  let next = outcome("healthy", 10);
  const probe: Prober = async () => next;
  let t: TestApp;
  let tenant: Tenant;
  let admin: ReturnType<typeof as>;

  const at = (iso: string) => clock.advance(new Date(iso).getTime() - clock.now().getTime());
  const register = async (name: string) =>
    (
      await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: { name, url: "http://127.0.0.1:9/mcp" },
      })
    ).json().id as string;
  const check = async (id: string, result: ProbeResult) => {
    next = result;
    const res = await admin({ method: "POST", url: `/mcp/servers/${id}/check` });
    expect(res.statusCode).toBe(200);
    return res.json().server;
  };
  const normalize = (rows: HourRow[]) =>
    rows.map((r) => ({
      ...r,
      hour: new Date(r.hour).toISOString(),
      latency_sum: Number(r.latency_sum),
    }));
  /** The rollup as stored. */
  const rolled = async (id: string) =>
    normalize(
      await queryRows<HourRow>(
        t.database.db,
        sql`SELECT hour, checks, healthy, degraded, unhealthy, auth_required, latency_sum, latency_count, latency_max
            FROM mcp_health_hours WHERE server_id = ${id} ORDER BY hour`,
      ),
    );
  /** The rollup as the raw history says it should be (hours counted in JavaScript, UTC). */
  const fromHistory = async (id: string) => {
    const checks = await queryRows<{ checked_at: string; status: string; latency_ms: number | null }>(
      t.database.db,
      sql`SELECT checked_at, status, latency_ms FROM mcp_server_health WHERE server_id = ${id} ORDER BY checked_at`,
    );
    const hours = new Map<string, HourRow>();
    for (const c of checks) {
      const ms = new Date(c.checked_at).getTime();
      const hour = new Date(ms - (ms % HOUR)).toISOString();
      const h = hours.get(hour) ?? {
        hour,
        checks: 0,
        healthy: 0,
        degraded: 0,
        unhealthy: 0,
        auth_required: 0,
        latency_sum: 0,
        latency_count: 0,
        latency_max: null,
      };
      h.checks++;
      h[c.status as "healthy"]++;
      if (c.status !== "unhealthy" && c.latency_ms !== null) {
        h.latency_sum += c.latency_ms;
        h.latency_count++;
        h.latency_max = Math.max(h.latency_max ?? 0, c.latency_ms);
      }
      hours.set(hour, h);
    }
    return [...hours.values()];
  };

  beforeAll(async () => {
    t = await createTestApp(kind, { clock, probe });
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
  });
  afterAll(() => t?.close());

  it("statusSince is when the current status began: it moves only when the status changes", async () => {
    at("2031-02-03T10:58:00.000Z");
    const id = await register("since");
    expect((await admin({ method: "GET", url: `/mcp/servers/${id}` })).json().statusSince).toBeNull();

    expect((await check(id, outcome("healthy", 20))).statusSince).toBe("2031-02-03T10:58:00.000Z");
    clock.advance(MINUTE);
    expect((await check(id, outcome("healthy", 30))).statusSince).toBe("2031-02-03T10:58:00.000Z");
    clock.advance(MINUTE);
    expect((await check(id, outcome("unhealthy", 5000))).statusSince).toBe("2031-02-03T11:00:00.000Z");
    clock.advance(MINUTE);
    const still = await check(id, outcome("unhealthy", 5000));
    expect(still).toMatchObject({ status: "unhealthy", statusSince: "2031-02-03T11:00:00.000Z" });

    // Every read of a server carries it: one server, and the list (built as JSON in SQL).
    expect((await admin({ method: "GET", url: `/mcp/servers/${id}` })).json().statusSince).toBe(
      "2031-02-03T11:00:00.000Z",
    );
    const list = (await admin({ method: "GET", url: "/mcp/servers?q=since" })).json();
    expect(list.items.find((s: { id: string }) => s.id === id)?.statusSince).toBe("2031-02-03T11:00:00.000Z");

    // Switched off for a fortnight and on again, still down: down since the check after, not for 14 days.
    for (const action of ["disable", "enable"]) {
      expect(
        (await admin({ method: "POST", url: "/mcp/servers/bulk", payload: { action, ids: [id] } }))
          .statusCode,
      ).toBe(200);
      clock.advance(14 * 24 * 60 * MINUTE);
    }
    expect((await admin({ method: "GET", url: `/mcp/servers/${id}` })).json().statusSince).toBeNull();
    expect((await check(id, outcome("unhealthy", 5000))).statusSince).toBe(clock.now().toISOString());
  });

  it("counts each check in its server's hour, matching the raw history across hour boundaries", async () => {
    at("2031-02-03T10:58:30.000Z");
    const id = await register("hours");
    await check(id, outcome("healthy", 100));
    clock.advance(MINUTE); // 10:59:30
    await check(id, outcome("unhealthy", 9000));
    clock.advance(MINUTE); // 11:00:30
    await check(id, outcome("degraded", 2000));
    clock.advance(30 * MINUTE); // 11:30:30
    await check(id, outcome("auth_required", 40));

    const hours = await rolled(id);
    expect(hours).toEqual(await fromHistory(id));
    // A failed check counts as unhealthy, and its latency (time to fail) is no answer's latency.
    expect(hours).toEqual([
      {
        hour: "2031-02-03T10:00:00.000Z",
        checks: 2,
        healthy: 1,
        degraded: 0,
        unhealthy: 1,
        auth_required: 0,
        latency_sum: 100,
        latency_count: 1,
        latency_max: 100,
      },
      {
        hour: "2031-02-03T11:00:00.000Z",
        checks: 2,
        healthy: 0,
        degraded: 1,
        unhealthy: 0,
        auth_required: 1,
        latency_sum: 2040,
        latency_count: 2,
        latency_max: 2000,
      },
    ]);
  });

  it("adds a batch holding several checks of one server to each hour once, in UTC hours whatever the session's zone", async () => {
    const id = await register("batch");
    const other = await register("batch-other");
    const record = (serverId: string, iso: string, status: HealthRecord["status"], latencyMs: number) => ({
      serverId,
      tenantId: tenant.orgId,
      checkedAt: new Date(iso),
      seenLastCheckedAt: null,
      status,
      latencyMs,
      error: null,
      protocolVersion: null,
      era: null,
      toolsCount: null,
      consecutiveFailures: 0,
      nextCheckAt: null,
      learned: null,
      authChallenge: null,
    });
    const batch: HealthRecord[] = [
      record(id, "2031-02-04T08:10:00.000Z", "healthy", 10),
      record(id, "2031-02-04T08:20:00.000Z", "healthy", 30),
      record(id, "2031-02-04T08:59:59.999Z", "unhealthy", 10_000),
      record(id, "2031-02-04T09:00:00.000Z", "degraded", 50),
      record(other, "2031-02-04T08:15:00.000Z", "healthy", 7),
    ];
    await t.database.db.transaction(async (tx) => {
      // A zone half an hour off UTC: date_trunc alone would cut its hours at :30.
      await tx.execute(sql`SET LOCAL TIME ZONE 'Asia/Kolkata'`);
      const { recorded } = await recordHealth(tx, batch);
      expect(new Set(recorded)).toEqual(new Set([id, other]));
    });
    // A second batch into the same hour adds to it.
    await recordHealth(t.database.db, [record(id, "2031-02-04T08:40:00.000Z", "healthy", 60)]);

    const hours = await rolled(id);
    expect(hours).toEqual(await fromHistory(id));
    expect(
      hours.map((h) => [h.hour, h.checks, h.unhealthy, h.latency_sum, h.latency_count, h.latency_max]),
    ).toEqual([
      ["2031-02-04T08:00:00.000Z", 4, 1, 100, 3, 60],
      ["2031-02-04T09:00:00.000Z", 1, 0, 50, 1, 50],
    ]);
    expect(await rolled(other)).toEqual(await fromHistory(other));
  });

  it("writes no hour for a server that is not in the check's organization", async () => {
    const id = await register("foreign-check");
    const { recorded } = await recordHealth(t.database.db, [
      {
        serverId: id,
        tenantId: "another-organization",
        checkedAt: new Date("2031-02-04T10:00:00.000Z"),
        seenLastCheckedAt: null,
        status: "healthy",
        latencyMs: 1,
        error: null,
        protocolVersion: null,
        era: null,
        toolsCount: null,
        consecutiveFailures: 0,
        nextCheckAt: null,
        learned: null,
        authChallenge: null,
      },
    ]);
    expect(recorded).toEqual([]);
    expect(await rolled(id)).toEqual([]);
  });

  it("the retention purge removes the hours that ended before the cutoff, with the checks, and keeps the rest", async () => {
    at("2031-03-01T00:00:00.000Z");
    const id = await register("purged");
    at("2031-03-01T10:30:00.000Z");
    await check(id, outcome("healthy", 10));
    at("2031-03-01T11:30:00.000Z");
    await check(id, outcome("healthy", 10));
    at("2031-03-01T12:30:00.000Z");
    await check(id, outcome("healthy", 10));

    // Seven days later, to the minute: the cutoff falls at 11:45, inside the 11:00 hour.
    at("2031-03-08T11:45:00.000Z");
    const purged = await purgeHealthHistory({ db: t.database.db, clock, retentionDays: 7 });
    expect(purged.hours).toBeGreaterThanOrEqual(1);
    expect(purged.checks).toBeGreaterThanOrEqual(2);
    expect((await rolled(id)).map((h) => h.hour)).toEqual([
      "2031-03-01T11:00:00.000Z",
      "2031-03-01T12:00:00.000Z",
    ]);
    const left = await queryRows<{ n: number }>(
      t.database.db,
      sql`SELECT count(*)::int AS n FROM mcp_server_health WHERE server_id = ${id}`,
    );
    expect(left[0]?.n).toBe(1);
  });

  it("deleting a server deletes its hours", async () => {
    const id = await register("gone");
    await check(id, outcome("healthy", 10));
    expect(await rolled(id)).toHaveLength(1);
    expect((await admin({ method: "DELETE", url: `/mcp/servers/${id}` })).statusCode).toBe(204);
    expect(await rolled(id)).toEqual([]);
  });
});
