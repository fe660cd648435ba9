import { randomUUID } from "node:crypto";
import { FLEET_BATCH_MAX } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp, testClock } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import type { ProbeResult, Prober } from "./probe";

const NOW = "2031-04-10T12:30:00.000Z";

const outcome = (status: ProbeResult["status"], latencyMs: number): ProbeResult => ({
  status,
  latencyMs,
  error: status === "unhealthy" ? "timeout" : null,
  serverInfo: null,
  tools: [],
  prompts: [],
  resources: [],
  authChallenge: null,
});

/** A's checks, oldest first: when, and how it went. */
const CHECKS_OF_A: [string, ProbeResult][] = [
  ["2031-04-03T12:59:00.000Z", outcome("healthy", 10)], // the hour before the week's first
  ["2031-04-05T10:00:00.000Z", outcome("healthy", 100)],
  ["2031-04-05T10:05:00.000Z", outcome("unhealthy", 10_000)],
  ["2031-04-09T12:59:00.000Z", outcome("healthy", 50)], // the hour before the day's first
  ["2031-04-09T13:10:00.000Z", outcome("healthy", 40)],
  ["2031-04-09T13:20:00.000Z", outcome("degraded", 60)],
  ["2031-04-10T11:15:00.000Z", outcome("auth_required", 25)],
  ["2031-04-10T12:10:00.000Z", outcome("unhealthy", 10_000)],
  ["2031-04-10T12:20:10.000Z", outcome("healthy", 30)],
  ["2031-04-10T12:20:40.000Z", outcome("degraded", 71)],
];

const bucket = (at: string, counts: Partial<Record<string, number | null>>) => ({
  at,
  checks: 0,
  healthy: 0,
  degraded: 0,
  unhealthy: 0,
  authRequired: 0,
  avgLatencyMs: null,
  maxLatencyMs: null,
  ...counts,
});

describe.each(testDatabaseKinds())("uptime and health series on %s", (kind) => {
  const clock = testClock(new Date("2031-04-01T00:00:00.000Z"));
  let next = outcome("healthy", 1);
  const probe: Prober = async () => next;
  let t: TestApp;
  let tenant: Tenant;
  let admin: ReturnType<typeof as>;
  let member: ReturnType<typeof as>;
  let a: string;
  let b: string;
  let foreign: string;

  const register = async (who: ReturnType<typeof as>, name: string) =>
    (
      await who({ method: "POST", url: "/mcp/servers", payload: { name, url: "http://127.0.0.1:9/mcp" } })
    ).json().id as string;
  const series = (id: string, range?: string) =>
    member({ method: "GET", url: `/mcp/servers/${id}/health/series${range ? `?range=${range}` : ""}` });

  beforeAll(async () => {
    t = await createTestApp(kind, { clock, probe });
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    member = as(t.app, tenant.member);
    a = await register(admin, "alpha");
    b = await register(admin, "bravo");
    const other = await createTenant(t.app);
    foreign = await register(as(t.app, other.admin), "foreign");
    for (const [at, result] of CHECKS_OF_A) {
      clock.advance(new Date(at).getTime() - clock.now().getTime());
      next = result;
      expect((await admin({ method: "POST", url: `/mcp/servers/${a}/check` })).statusCode).toBe(200);
    }
    // The foreign server answers too: its checks must not show anywhere in this organization.
    next = outcome("healthy", 5);
    await as(t.app, other.admin)({ method: "POST", url: `/mcp/servers/${foreign}/check` });
    clock.advance(new Date(NOW).getTime() - clock.now().getTime());
  });
  afterAll(() => t?.close());

  describe("GET /mcp/servers/uptime", () => {
    it("gives any member the share of answered checks over 24 hours and 7 days, and hourly latency, in the order asked", async () => {
      const unknown = randomUUID();
      const res = await member({
        method: "GET",
        url: `/mcp/servers/uptime?ids=${b},${unknown},${a},${foreign}`,
      });
      expect(res.statusCode).toBe(200);
      const latency24h: (number | null)[] = new Array(24).fill(null);
      latency24h[0] = 50; // 2031-04-09T13:00: 40 and 60
      latency24h[22] = 25; // 11:00: asking for OAuth is an answer
      latency24h[23] = 51; // 12:00: 30 and 71, rounded; the failed check has no latency
      // Unknown and foreign ids are left out; a server never checked has no uptime, not 0 or 1.
      expect(res.json()).toEqual({
        items: [
          {
            serverId: b,
            uptime24h: null,
            uptime7d: null,
            checks24h: 0,
            checks7d: 0,
            latency24h: new Array(24).fill(null),
          },
          { serverId: a, uptime24h: 5 / 6, uptime7d: 7 / 9, checks24h: 6, checks7d: 9, latency24h },
        ],
      });
    });

    it("moves its windows with the clock: an hour later the oldest hour of the day drops out", async () => {
      clock.advance(3_600_000);
      try {
        const [item] = (await member({ method: "GET", url: `/mcp/servers/uptime?ids=${a}` })).json().items;
        expect(item).toMatchObject({ checks24h: 4, uptime24h: 3 / 4 });
        expect(item.latency24h.slice(20)).toEqual([null, 25, 51, null]);
      } finally {
        clock.advance(-3_600_000);
      }
    });

    it("refuses ids that are not UUIDs, none at all, or more than a page with a 400 problem", async () => {
      for (const ids of [
        "not-a-uuid",
        "",
        Array.from({ length: FLEET_BATCH_MAX + 1 }, () => randomUUID()).join(","),
      ]) {
        const res = await member({ method: "GET", url: `/mcp/servers/uptime?ids=${ids}` });
        expect(res.statusCode, ids.slice(0, 20)).toBe(400);
        expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      }
      expect((await member({ method: "GET", url: "/mcp/servers/uptime" })).statusCode).toBe(400);
    });
  });

  describe("GET /mcp/servers/:id/health/series", () => {
    it("buckets the last hour by minute from the raw checks, counting a failed check as unhealthy with no latency", async () => {
      const res = await series(a, "1h");
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        range: "1h",
        stepSeconds: 60,
        from: "2031-04-10T11:30:00.000Z",
        to: NOW,
        buckets: [
          bucket("2031-04-10T12:10:00.000Z", { checks: 1, unhealthy: 1 }),
          bucket("2031-04-10T12:20:00.000Z", {
            checks: 2,
            healthy: 1,
            degraded: 1,
            avgLatencyMs: 51,
            maxLatencyMs: 71,
          }),
        ],
      });
    });

    it("buckets the last day by 10 minutes, and does so when no range is given", async () => {
      const res = await series(a);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        range: "24h",
        stepSeconds: 600,
        from: "2031-04-09T12:30:00.000Z",
        to: NOW,
      });
      expect(res.json().buckets).toEqual([
        bucket("2031-04-09T12:50:00.000Z", { checks: 1, healthy: 1, avgLatencyMs: 50, maxLatencyMs: 50 }),
        bucket("2031-04-09T13:10:00.000Z", { checks: 1, healthy: 1, avgLatencyMs: 40, maxLatencyMs: 40 }),
        bucket("2031-04-09T13:20:00.000Z", { checks: 1, degraded: 1, avgLatencyMs: 60, maxLatencyMs: 60 }),
        bucket("2031-04-10T11:10:00.000Z", {
          checks: 1,
          authRequired: 1,
          avgLatencyMs: 25,
          maxLatencyMs: 25,
        }),
        bucket("2031-04-10T12:10:00.000Z", { checks: 1, unhealthy: 1 }),
        bucket("2031-04-10T12:20:00.000Z", {
          checks: 2,
          healthy: 1,
          degraded: 1,
          avgLatencyMs: 51,
          maxLatencyMs: 71,
        }),
      ]);
    });

    it("buckets the last week by hour from the rollup, the first bucket being the hour that holds `from`", async () => {
      const res = await series(a, "7d");
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        range: "7d",
        stepSeconds: 3600,
        from: "2031-04-03T12:30:00.000Z",
        to: NOW,
      });
      expect(res.json().buckets).toEqual([
        bucket("2031-04-03T12:00:00.000Z", { checks: 1, healthy: 1, avgLatencyMs: 10, maxLatencyMs: 10 }),
        bucket("2031-04-05T10:00:00.000Z", {
          checks: 2,
          healthy: 1,
          unhealthy: 1,
          avgLatencyMs: 100,
          maxLatencyMs: 100,
        }),
        bucket("2031-04-09T12:00:00.000Z", { checks: 1, healthy: 1, avgLatencyMs: 50, maxLatencyMs: 50 }),
        bucket("2031-04-09T13:00:00.000Z", {
          checks: 2,
          healthy: 1,
          degraded: 1,
          avgLatencyMs: 50,
          maxLatencyMs: 60,
        }),
        bucket("2031-04-10T11:00:00.000Z", {
          checks: 1,
          authRequired: 1,
          avgLatencyMs: 25,
          maxLatencyMs: 25,
        }),
        bucket("2031-04-10T12:00:00.000Z", {
          checks: 3,
          healthy: 1,
          degraded: 1,
          unhealthy: 1,
          avgLatencyMs: 51,
          maxLatencyMs: 71,
        }),
      ]);
    });

    it("gives a server never checked an empty series", async () => {
      const res = await series(b, "7d");
      expect(res.statusCode).toBe(200);
      expect(res.json().buckets).toEqual([]);
    });

    it("answers 404 for another organization's server and 400 for an unknown range, as problems", async () => {
      const notOurs = await series(foreign, "24h");
      expect(notOurs.statusCode).toBe(404);
      expect(notOurs.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(notOurs.body).not.toContain("bucket");
      const bad = await series(a, "30d");
      expect(bad.statusCode).toBe(400);
      expect(bad.headers["content-type"]).toMatch(/^application\/problem\+json/);
    });
  });
});
