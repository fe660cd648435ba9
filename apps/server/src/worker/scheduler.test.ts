import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type TestApp, testClock } from "../../test/app";
import { testDatabaseKinds } from "../../test/db";
import { openDatabase, queryRows } from "../db/client";
import { type RunningMcpServer, startMcpServer } from "../demo/mcp-servers";
import { createMemoryBus } from "../modules/events/bus";
import { createProber, type Prober } from "../modules/health/probe";
import { createScheduler, type SchedulerOptions } from "./scheduler";

const log = pino({ level: "silent" });
const realProbe = createProber({
  timeoutMs: 2000,
  degradedMs: 1500,
  allowPrivate: true,
  maxBodyBytes: 1 << 20,
});

describe.each(testDatabaseKinds())("health scheduler on %s", (kind) => {
  let t: TestApp;
  let mcp: RunningMcpServer;
  let admin: ReturnType<typeof as>;
  const clock = testClock(new Date("2030-01-01T00:00:00Z"));
  const probed: string[] = [];
  const countingProbe: Prober = async (target) => {
    probed.push(target.url);
    return realProbe(target);
  };

  const scheduler = (overrides: Partial<SchedulerOptions> = {}) =>
    createScheduler({
      db: t.database.db,
      clock,
      probe: countingProbe,
      secrets: t.app.services.secrets,
      events: t.app.services.events,
      log,
      concurrency: 5,
      batchSize: 100,
      leaseMs: 30_000,
      idleMs: 50,
      healthRetentionDays: 30,
      random: () => 0.5,
      ...overrides,
    });
  const server = async (id: string) =>
    (
      await queryRows<Record<string, unknown>>(t.database.db, sql`SELECT * FROM mcp_servers WHERE id = ${id}`)
    )[0] ?? {};
  const register = async (name: string, url: string, extra: Record<string, unknown> = {}) =>
    (await admin({ method: "POST", url: "/mcp/servers", payload: { name, url, ...extra } })).json()
      .id as string;

  beforeAll(async () => {
    t = await createTestApp(kind, { clock });
    mcp = await startMcpServer({ name: "scheduled" });
    admin = as(t.app, (await createTenant(t.app)).admin);
  });
  afterAll(async () => {
    await mcp.close();
    await t.close();
  });

  it("probes enabled servers that are due, and only those", async () => {
    const due = await register("due", `${mcp.url}?due`);
    const disabled = await register("disabled", `${mcp.url}?disabled`, { enabled: false });
    const later = await register("later", `${mcp.url}?later`);
    await t.database.db.execute(
      sql`UPDATE mcp_servers SET next_check_at = ${new Date(clock.now().getTime() + 60_000)} WHERE id = ${later}`,
    );
    probed.length = 0;
    expect(await scheduler().runOnce()).toBe(1);
    expect(probed).toEqual([`${mcp.url}?due`]);
    const row = await server(due);
    expect(row.status).toBe("healthy");
    expect(new Date(row.next_check_at as string).getTime()).toBe(clock.now().getTime() + 60_000);
    expect((await server(disabled)).status).toBe("unknown");
    await t.database.db.execute(
      sql`UPDATE mcp_servers SET enabled = false WHERE tenant_id = ${row.tenant_id}`,
    );
  });

  it("backs off exponentially after failures and resets on the first success", async () => {
    const flaky = await startMcpServer({ behaviour: "http500" });
    try {
      const id = await register("backoff", flaky.url, { checkIntervalSeconds: 60 });
      const s = scheduler();
      const nextIn = async () =>
        new Date((await server(id)).next_check_at as string).getTime() - clock.now().getTime();

      await s.runOnce();
      expect((await server(id)).consecutive_failures).toBe(1);
      expect(await nextIn()).toBe(120_000);

      clock.advance(119_000);
      probed.length = 0;
      await s.runOnce();
      expect(probed).toEqual([]);

      clock.advance(1_000);
      await s.runOnce();
      expect((await server(id)).consecutive_failures).toBe(2);
      expect(await nextIn()).toBe(240_000);

      for (let i = 0; i < 5; i++) {
        clock.advance(await nextIn());
        await s.runOnce();
      }
      expect((await server(id)).consecutive_failures).toBe(7);
      expect(await nextIn()).toBe(30 * 60_000);

      flaky.setBehaviour("healthy");
      clock.advance(await nextIn());
      await s.runOnce();
      expect((await server(id)).consecutive_failures).toBe(0);
      expect((await server(id)).status).toBe("healthy");
      expect(await nextIn()).toBe(60_000);
    } finally {
      await flaky.close();
    }
  });

  it("records the checks that finish together in one statement, skipping a server deleted meanwhile", async () => {
    const ids = await Promise.all(["b1", "b2", "b3", "b4"].map((n) => register(n, `${mcp.url}?${n}`)));
    const [gone, ...kept] = ids as [string, ...string[]];
    const statements: string[] = [];
    const db = t.database.db;
    // Deleting one server once every probe has finished: its check then has nothing to record.
    let probes = 0;
    const deletingProbe: Prober = async (target) => {
      const result = await realProbe(target);
      if (++probes === ids.length) await admin({ method: "DELETE", url: `/mcp/servers/${gone}` });
      return result;
    };
    const spy = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === "execute")
          return (q: Parameters<typeof db.execute>[0]) => {
            statements.push(JSON.stringify(q));
            return target.execute(q);
          };
        return Reflect.get(target, prop, receiver);
      },
    });
    expect(await scheduler({ db: spy, probe: deletingProbe }).runOnce()).toBe(ids.length);
    expect(statements.filter((s) => s.includes("mcp_server_health"))).toHaveLength(1);
    for (const id of kept) expect((await server(id)).status).toBe("healthy");
    const history = await queryRows<{ server_id: string }>(
      db,
      sql`SELECT server_id FROM mcp_server_health WHERE server_id IN (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    );
    expect(history.map((h) => h.server_id).sort()).toEqual([...kept].sort());
  });

  it("purges health history older than the retention period", async () => {
    const rows = await queryRows<{ n: number }>(
      t.database.db,
      sql`SELECT count(*)::int AS n FROM mcp_server_health`,
    );
    expect(rows[0]?.n).toBeGreaterThan(0);
    clock.advance(31 * 86_400_000);
    const s = scheduler({ idleMs: 20 });
    s.start();
    await new Promise((r) => setTimeout(r, 300));
    await s.stop();
    const left = await queryRows<{ n: number }>(
      t.database.db,
      sql`SELECT count(*)::int AS n FROM mcp_server_health WHERE checked_at < ${new Date(clock.now().getTime() - 30 * 86_400_000)}`,
    );
    expect(left[0]?.n).toBe(0);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)("two schedulers on one PostgreSQL", () => {
  let t: TestApp;
  let mcp: RunningMcpServer;
  beforeAll(async () => {
    t = await createTestApp("postgres");
    mcp = await startMcpServer();
  });
  afterAll(async () => {
    await mcp.close();
    await t.close();
  });

  it("never probe one server twice in one round", async () => {
    const admin = as(t.app, (await createTenant(t.app)).admin);
    for (let i = 0; i < 30; i++) {
      const res = await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: `s${i}`, url: `${mcp.url}?s=${i}` },
      });
      expect(res.statusCode).toBe(201);
    }
    const calls: string[] = [];
    const probe: Prober = async (target) => {
      calls.push(target.url);
      return realProbe(target);
    };
    // A second instance: its own connection pool to the same database.
    const second = await openDatabase({ kind: "postgres", url: t.database.url as string, poolSize: 5 });
    try {
      const make = (db: typeof t.database.db) =>
        createScheduler({
          db,
          clock: { now: () => new Date() },
          probe,
          secrets: t.app.services.secrets,
          events: createMemoryBus(),
          log,
          concurrency: 10,
          batchSize: 20,
          leaseMs: 60_000,
          idleMs: 50,
          healthRetentionDays: 30,
        });
      const [a, b] = await Promise.all([make(t.database.db).runOnce(), make(second.db).runOnce()]);
      expect(a + b).toBe(30);
      expect(a).toBeGreaterThan(0);
      expect(b).toBeGreaterThan(0);
      expect(calls).toHaveLength(30);
      expect(new Set(calls).size).toBe(30);
    } finally {
      await second.close();
    }
  });
});
