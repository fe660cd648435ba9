import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { as, createTenant, createTestApp, type TestApp, testClock } from "../../test/app";
import { testDatabaseKinds } from "../../test/db";
import { openDatabase, queryRows } from "../db/client";
import { type RunningMcpServer, startMcpServer } from "../demo/mcp-servers";
import { createJobs } from "../jobs";
import { createMemoryBus } from "../lib/bus";
import { systemClock } from "../lib/clock";
import { createProber, type Prober } from "../modules/health/probe";
import { slotAtOrAfter } from "../modules/health/schedule";
import { vacuumCheckQueue } from "../modules/health/service";
import { createUpstreamDispatcher } from "../modules/upstream/dispatcher";
import { createScheduler, MIN_RATE, QUIET_AFTER, type Scheduler, type SchedulerOptions } from "./scheduler";

const log = pino({ level: "silent" });
// Generous: a loaded CI machine must not turn a healthy local server slow, or a slow one dead.
const realProbe = createProber({
  timeoutMs: 10_000,
  degradedMs: 8_000,
  maxBodyBytes: 1 << 20,
  dispatcher: createUpstreamDispatcher({ allowPrivate: true }),
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
      secrets: t.runtime.secrets,
      bus: t.runtime.bus,
      log,
      concurrency: 5,
      batchSize: 100,
      leaseMs: 30_000,
      idleMs: 50,
      maxRate: 1000,
      random: () => 0.5,
      ...overrides,
    });
  const server = async (id: string) =>
    (
      await queryRows<Record<string, unknown>>(t.database.db, sql`SELECT * FROM mcp_servers WHERE id = ${id}`)
    )[0] ?? {};
  /** Registers a server and makes it due now (its first slot may be up to an interval away). */
  const register = async (name: string, url: string, extra: Record<string, unknown> = {}) => {
    const id = (await admin({ method: "POST", url: "/mcp/servers", payload: { name, url, ...extra } })).json()
      .id as string;
    if (extra.enabled !== false)
      await t.database.db.execute(
        sql`UPDATE mcp_servers SET next_check_at = ${clock.now()} WHERE id = ${id}`,
      );
    return id;
  };
  /** Where a healthy server's next check goes: its slot at least half an interval on. */
  const nextSlot = (id: string, intervalSeconds = 60) =>
    slotAtOrAfter(
      new Date(clock.now().getTime() + (intervalSeconds * 1000) / 2),
      intervalSeconds,
      id,
    ).getTime();

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
    expect(new Date(row.next_check_at as string).getTime()).toBe(nextSlot(due));
    expect((await server(disabled)).status).toBe("unknown");
    await t.database.db.execute(
      sql`UPDATE mcp_servers SET enabled = false WHERE tenant_id = ${row.tenant_id}`,
    );
  });

  it("dates a check by when its answer came in the probe thread, not by when this event loop took it", async () => {
    const id = await register("queued-answer", `${mcp.url}?queued`);
    // The probe thread answered 7 s before the answer was taken (a busy event loop).
    const queuedProbe: Prober = async (target) => ({
      ...(await realProbe(target)),
      answeredAt: Date.now() - 7_000,
    });
    const taken = clock.now().getTime();
    expect(await scheduler({ probe: queuedProbe }).runOnce()).toBe(1);
    const row = await server(id);
    const recorded = new Date(row.last_checked_at as string).getTime();
    // 7 s earlier, less the moment between the answer and its record.
    expect(recorded).toBeLessThanOrEqual(taken - 7_000);
    expect(recorded).toBeGreaterThan(taken - 7_000 - 2_000);
    const [check] = await queryRows<{ checked_at: Date | string }>(
      t.database.db,
      sql`SELECT checked_at FROM mcp_server_health WHERE server_id = ${id}`,
    );
    expect(new Date(check?.checked_at ?? 0).getTime()).toBe(recorded);
    // Its next slot is counted from that time too.
    const at = clock.now();
    clock.advance(recorded - at.getTime());
    expect(new Date(row.next_check_at as string).getTime()).toBe(nextSlot(id));
    clock.advance(at.getTime() - recorded);
    await t.database.db.execute(sql`UPDATE mcp_servers SET enabled = false WHERE id = ${id}`);
  });

  it("dates a drift by the check that saw it, not by when its batch was written", async () => {
    const drifting = await startMcpServer({
      name: "drifting",
      tools: [{ name: "lookup", description: "Finds" }],
    });
    let id = "";
    try {
      id = await register("drifting", drifting.url);
      expect(await scheduler().runOnce()).toBe(1);
      drifting.setTools([{ name: "lookup", description: "Finds, and sends it elsewhere" }]);
      await t.database.db.execute(
        sql`UPDATE mcp_servers SET next_check_at = ${clock.now()} WHERE id = ${id}`,
      );
      // Its answer waited 7 s for the event loop that records it.
      const queuedProbe: Prober = async (target) => ({
        ...(await realProbe(target)),
        answeredAt: Date.now() - 7_000,
      });
      expect(await scheduler({ probe: queuedProbe }).runOnce()).toBe(1);
      const row = await server(id);
      const drift = await queryRows<{ detected_at: Date | string }>(
        t.database.db,
        sql`SELECT detected_at FROM mcp_tool_drift WHERE server_id = ${id}`,
      );
      expect(drift).toHaveLength(1);
      expect(new Date(drift[0]?.detected_at ?? 0).getTime()).toBe(
        new Date(row.last_checked_at as string).getTime(),
      );
      expect(new Date(drift[0]?.detected_at ?? 0).getTime()).toBeLessThanOrEqual(
        clock.now().getTime() - 7_000,
      );
    } finally {
      if (id) await t.database.db.execute(sql`UPDATE mcp_servers SET enabled = false WHERE id = ${id}`);
      await drifting.close();
    }
  });

  it("records a scheduled check that a check by hand overtook as history only: the newer state stands", async () => {
    const changing = await startMcpServer({
      name: "changing",
      tools: [{ name: "lookup", description: "Finds" }],
    });
    const start = clock.now().getTime();
    const heard: string[] = [];
    const unsubscribe = t.runtime.bus.subscribe((e) => {
      if (e.type === "public" && e.event.type === "health.changed") heard.push(e.event.checkedAt);
    });
    let id = "";
    try {
      id = await register("overlapped", changing.url);
      const byHand = () => admin({ method: "POST", url: `/mcp/servers/${id}/check` });
      expect((await byHand()).statusCode).toBe(200);
      const first = await server(id);
      await t.database.db.execute(
        sql`UPDATE mcp_servers SET next_check_at = ${clock.now()} WHERE id = ${id}`,
      );
      // The scheduled probe lists the first tools; before it is recorded, they change, and a check
      // by hand, half a minute later, records the new ones and the server's next slot.
      let byHandStatus = 0;
      const overtaken: Prober = async (target) => {
        const seen = await realProbe(target);
        const answeredAt = Date.now();
        changing.setTools([{ name: "lookup", description: "Finds, and sends it elsewhere" }]);
        clock.advance(30_000);
        byHandStatus = (await byHand()).statusCode;
        return { ...seen, answeredAt };
      };
      heard.length = 0;
      expect(await scheduler({ probe: overtaken }).runOnce()).toBe(1);
      expect(byHandStatus).toBe(200);
      const after = await server(id);
      expect(after.tools_hash).not.toBe(first.tools_hash);
      expect(after.tools).toEqual([
        expect.objectContaining({ description: "Finds, and sends it elsewhere" }),
      ]);
      expect(new Date(after.last_checked_at as string).getTime()).toBe(start + 30_000);
      expect(new Date(after.next_check_at as string).getTime()).toBe(nextSlot(id));
      // One change recorded, the one that happened; none back to the older tools.
      const drift = await queryRows<{ from_hash: string; to_hash: string }>(
        t.database.db,
        sql`SELECT from_hash, to_hash FROM mcp_tool_drift WHERE server_id = ${id}`,
      );
      expect(drift).toEqual([{ from_hash: first.tools_hash, to_hash: after.tools_hash }]);
      // The scheduled check is in the history all the same, dated when it answered, and the
      // dashboards heard only of the check by hand.
      const checks = await queryRows<{ checked_at: Date | string }>(
        t.database.db,
        sql`SELECT checked_at FROM mcp_server_health WHERE server_id = ${id} ORDER BY checked_at`,
      );
      const times = checks.map((c) => new Date(c.checked_at).getTime());
      expect(times).toHaveLength(3);
      expect(times[0]).toBe(start);
      expect(times[1]).toBeGreaterThan(start);
      expect(times[1]).toBeLessThan(start + 30_000);
      expect(times[2]).toBe(start + 30_000);
      expect(heard).toEqual([new Date(start + 30_000).toISOString()]);
    } finally {
      unsubscribe();
      if (id) await t.database.db.execute(sql`UPDATE mcp_servers SET enabled = false WHERE id = ${id}`);
      clock.advance(start - clock.now().getTime());
      await changing.close();
    }
  });

  it("audits a check by hand that a scheduled check overtook as superseded: the newer state stands", async () => {
    const slow = await startMcpServer({ name: "slow", behaviour: "slow", delayMs: 500 });
    const start = clock.now().getTime();
    let id = "";
    try {
      id = await register("superseded", slow.url);
      const byHand = admin({ method: "POST", url: `/mcp/servers/${id}/check` });
      // Once the probe by hand has reached the server (it read the server first), a scheduled
      // check finds it down half a minute later by the clock, and is recorded first.
      await vi.waitFor(() => expect(slow.requests.POST ?? 0).toBeGreaterThan(0), { timeout: 10_000 });
      clock.advance(30_000);
      const down: Prober = async () => ({
        status: "unhealthy",
        latencyMs: 3,
        error: "connection_refused",
        serverInfo: null,
        tools: [],
        prompts: [],
        resources: [],
        authChallenge: null,
      });
      expect(await scheduler({ probe: down }).runOnce()).toBe(1);
      clock.advance(-30_000);
      const res = await byHand;
      expect(res.statusCode).toBe(200);
      expect(res.json().server).toMatchObject({ status: "unhealthy", lastError: "connection_refused" });
      const [audit] = await queryRows<{ changes: Record<string, unknown> }>(
        t.database.db,
        sql`SELECT changes FROM audit_logs WHERE target_id = ${id} AND action = 'server.check'`,
      );
      expect(audit?.changes).toMatchObject({ superseded: true, status: { from: "unknown" } });
      const { to } = (audit?.changes.status ?? {}) as { to?: string };
      expect(to).toBeDefined();
      expect(to).not.toBe("unhealthy");
      // Both checks are in the history.
      const history = await queryRows<{ status: string }>(
        t.database.db,
        sql`SELECT status FROM mcp_server_health WHERE server_id = ${id} ORDER BY checked_at`,
      );
      expect(history).toHaveLength(2);
      expect(history[1]?.status).toBe("unhealthy");
    } finally {
      if (id) await t.database.db.execute(sql`UPDATE mcp_servers SET enabled = false WHERE id = ${id}`);
      clock.advance(start - clock.now().getTime());
      await slow.close();
    }
  });

  it("dates a status from the earliest check that found it, when an older one is recorded last", async () => {
    const going = await startMcpServer({ name: "going" });
    const start = clock.now().getTime();
    let id = "";
    try {
      id = await register("going", going.url);
      expect((await admin({ method: "POST", url: `/mcp/servers/${id}/check` })).statusCode).toBe(200);
      await going.close();
      await t.database.db.execute(
        sql`UPDATE mcp_servers SET next_check_at = ${clock.now()} WHERE id = ${id}`,
      );
      // The scheduled check finds the server down at start + 10 s; before it is recorded, a check
      // by hand finds it down too, at start + 30 s, and is recorded first.
      let byHandStatus = 0;
      const late: Prober = async (target) => {
        const seen = await realProbe(target);
        clock.advance(30_000);
        byHandStatus = (await admin({ method: "POST", url: `/mcp/servers/${id}/check` })).statusCode;
        return { ...seen, answeredAt: Date.now() - 20_000 };
      };
      expect(await scheduler({ probe: late }).runOnce()).toBe(1);
      expect(byHandStatus).toBe(200);
      const row = await server(id);
      expect(row.status).toBe("unhealthy");
      expect(new Date(row.last_checked_at as string).getTime()).toBe(start + 30_000);
      const [scheduled] = await queryRows<{ checked_at: Date | string }>(
        t.database.db,
        sql`SELECT checked_at FROM mcp_server_health WHERE server_id = ${id} ORDER BY checked_at LIMIT 1 OFFSET 1`,
      );
      const foundDown = new Date(scheduled?.checked_at ?? 0).getTime();
      expect(foundDown).toBeLessThan(start + 11_000);
      expect(new Date(row.status_since as string).getTime()).toBe(foundDown);
    } finally {
      if (id) await t.database.db.execute(sql`UPDATE mcp_servers SET enabled = false WHERE id = ${id}`);
      clock.advance(start - clock.now().getTime());
    }
  });

  it("lets a check set its server's state when none was recorded since it began, whatever the clocks say", async () => {
    const id = await register("skewed", `${mcp.url}?skewed`);
    try {
      expect((await admin({ method: "POST", url: `/mcp/servers/${id}/check` })).statusCode).toBe(200);
      const byHand = new Date((await server(id)).last_checked_at as string).getTime();
      // A scheduler on another host whose clock runs ten seconds behind this one's.
      const behind = { now: () => new Date(clock.now().getTime() - 10_000) };
      await t.database.db.execute(
        sql`UPDATE mcp_servers SET next_check_at = ${behind.now()} WHERE id = ${id}`,
      );
      expect(await scheduler({ clock: behind }).runOnce()).toBe(1);
      const row = await server(id);
      expect(new Date(row.last_checked_at as string).getTime()).toBe(byHand - 10_000);
      // Its next slot is counted from when it answered, by its own clock: half an interval on.
      const halfOn = new Date(byHand - 10_000 + 30_000);
      expect(new Date(row.next_check_at as string).getTime()).toBe(slotAtOrAfter(halfOn, 60, id).getTime());
    } finally {
      await t.database.db.execute(sql`UPDATE mcp_servers SET enabled = false WHERE id = ${id}`);
    }
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
      expect(await nextIn()).toBe(nextSlot(id) - clock.now().getTime());
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
    // Every probe waits for the last, so that all four reach the recorder within its batch window.
    let probes = 0;
    let allDone = () => {};
    const together = new Promise<void>((done) => {
      allDone = done;
    });
    const deletingProbe: Prober = async (target) => {
      const result = await realProbe(target);
      if (++probes === ids.length) {
        await admin({ method: "DELETE", url: `/mcp/servers/${gone}` });
        allDone();
      }
      await together;
      return result;
    };
    // Every statement run, in a transaction or not.
    const spying = <T extends Pick<typeof db, "execute">>(q: T): T =>
      new Proxy(q, {
        get(target, prop, receiver) {
          if (prop === "execute")
            return (query: Parameters<typeof db.execute>[0]) => {
              statements.push(JSON.stringify(query));
              return target.execute(query);
            };
          if (prop === "transaction")
            return (fn: (tx: unknown) => Promise<unknown>) =>
              db.transaction((tx) => fn(spying(tx)) as Promise<never>);
          return Reflect.get(target, prop, receiver);
        },
      });
    const spy = spying(db);
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

  it("places the first checks of a fleet registered at once evenly over its interval", async () => {
    const due: number[] = [];
    for (let i = 0; i < 120; i += 20) {
      const created = await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          admin({
            method: "POST",
            url: "/mcp/servers",
            payload: { name: `spread-${i + j}`, url: `${mcp.url}?spread=${i + j}` },
          }),
        ),
      );
      for (const res of created)
        due.push(new Date((await server(res.json().id)).next_check_at as string).getTime());
    }
    const offsets = due.map((at) => at - clock.now().getTime());
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThan(60_000);
    // Six 10-second bins of 20 on average; all at once would put 120 in the first.
    const bins = [0, 0, 0, 0, 0, 0];
    for (const o of offsets) bins[Math.floor(o / 10_000)] = (bins[Math.floor(o / 10_000)] ?? 0) + 1;
    expect(Math.max(...bins)).toBeLessThanOrEqual(40);
    await t.database.db.execute(sql`UPDATE mcp_servers SET enabled = false WHERE name LIKE 'spread-%'`);
  });

  describe("pace", () => {
    /** Answers at once without a connection: these tests count probes, not what they find. */
    const instant: Prober = async (target) => {
      probed.push(target.url);
      return {
        status: "healthy",
        latencyMs: 1,
        error: null,
        serverInfo: null,
        tools: [],
        prompts: [],
        resources: [],
        authChallenge: null,
      };
    };
    /** Registers `n` servers at once and makes them all due now, as after an outage or a restart. */
    const fleet = async (prefix: string, n: number, extra: Record<string, unknown> = {}) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i += 20)
        ids.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(20, n - i) }, (_, j) =>
              register(`${prefix}-${i + j}`, `${mcp.url}?${prefix}=${i + j}`, extra),
            ),
          )),
        );
      return ids;
    };
    const disable = (ids: string[]) =>
      t.database.db.execute(
        sql`UPDATE mcp_servers SET enabled = false WHERE id IN (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})`,
      );

    // What earlier tests left enabled would count toward the fleet and be claimed here.
    beforeAll(() => t.database.db.execute(sql`UPDATE mcp_servers SET enabled = false`));

    it("starts at most SCHEDULER_MAX_RATE probes a second; the rest wait for the clock", async () => {
      const ids = await fleet("paced", 40);
      const s = scheduler({ probe: instant, maxRate: 10 });
      probed.length = 0;
      expect(await s.runOnce()).toBe(10); // a second's worth saved up
      expect(await s.runOnce()).toBe(0);
      clock.advance(500);
      expect(await s.runOnce()).toBe(5);
      clock.advance(10_000); // never more than a second's worth, however long it waited
      expect(await s.runOnce()).toBe(10);
      expect(new Set(probed).size).toBe(25);
      await disable(ids);
    });

    /**
     * The database through a second handle that counts the scheduler's claims (its only statements
     * that update the queue): a prepared claim is built once, and only its executions tell.
     */
    const opened: (() => Promise<void>)[] = [];
    afterAll(async () => {
      await Promise.all(opened.map((close) => close()));
    });
    const countingClaims = async () => {
      const counted = { claims: 0 };
      const onQuery = (query: string) => {
        if (/^update "mcp_check_schedule"/i.test(query)) counted.claims++;
      };
      if (t.database.kind === "pglite") {
        const { $client: client } = t.database.db as unknown as { $client: PGlite };
        // The same embedded database; closing this handle would close it for every test.
        return { db: (await openDatabase({ kind: "pglite", client, onQuery })).db, counted };
      }
      const counting = await openDatabase({
        kind: "postgres",
        url: t.database.url as string,
        poolSize: 4,
        onQuery,
      });
      opened.push(counting.close);
      return { db: counting.db, counted };
    };

    it("claims a catch-up in steps of what the pace allows in SCHEDULER_IDLE_MS, not in bursts", async () => {
      const ids = await fleet("stepped", 60);
      try {
        await t.database.db.execute(
          sql`UPDATE mcp_servers SET next_check_at = now() - interval '1 minute' WHERE name LIKE 'stepped-%'`,
        );
        const { db, counted } = await countingClaims();
        probed.length = 0;
        // 40 a second, claimed every 50 ms: two at a time.
        const s = scheduler({
          db,
          clock: systemClock,
          probe: instant,
          maxRate: 40,
          idleMs: 50,
          concurrency: 500,
        });
        s.start();
        try {
          await vi.waitFor(() => expect(new Set(probed).size).toBe(60), { timeout: 10_000, interval: 50 });
        } finally {
          await s.stop();
        }
        // A claim of a second's worth, as before, would have taken the 60 in two or three.
        expect(counted.claims).toBeGreaterThanOrEqual(30);
        expect(probed).toHaveLength(60);
      } finally {
        await disable(ids);
      }
    });

    it("makes its first claim once its probes are warm, and never if stopped before", async () => {
      const { db, counted } = await countingClaims();
      let warmed = () => {};
      const warmUp = () =>
        new Promise<void>((done) => {
          warmed = done;
        });
      const s = scheduler({ db, clock: systemClock, probe: instant, idleMs: 20, warmUp });
      s.start();
      await new Promise((done) => setTimeout(done, 200));
      expect(counted.claims).toBe(0);
      warmed();
      await vi.waitFor(() => expect(counted.claims).toBeGreaterThan(0));
      await s.stop();

      // Stopped while warming up: it ends without a claim.
      const cold = await countingClaims();
      const stopped = scheduler({ db: cold.db, clock: systemClock, probe: instant, idleMs: 20, warmUp });
      stopped.start();
      const stopping = stopped.stop();
      warmed();
      await stopping;
      expect(cold.counted.claims).toBe(0);
    });

    it("looks for due checks a few times a second while none are due", async () => {
      const errors: string[] = [];
      const logged = pino({ level: "error" }, { write: (line: string) => errors.push(line) });
      const { db, counted } = await countingClaims();
      const s = scheduler({ db, log: logged, clock: systemClock, probe: instant, idleMs: 20 });
      s.start();
      await new Promise((done) => setTimeout(done, 1_000));
      await s.stop();
      // Every 20 ms would be fifty; five in a row that find nothing, then every 250 ms.
      expect(counted.claims).toBeGreaterThanOrEqual(QUIET_AFTER);
      expect(counted.claims).toBeLessThanOrEqual(QUIET_AFTER + 5);
      expect(errors).toEqual([]);
    });

    it("tells the organization how far its checks run behind while the scheduler catches up", async () => {
      const other = as(t.app, (await createTenant(t.app)).admin);
      const overview = async (who = admin) => {
        const res = await who({ method: "GET", url: "/mcp/servers/overview" });
        expect(res.statusCode).toBe(200);
        return res.json();
      };
      const before = await overview();
      const ids = await fleet("late", 30);
      clock.advance(60_000); // an outage: every one of them a minute overdue
      expect((await overview()).checks).toEqual({ overdue: 30, lagSeconds: 60 });
      expect((await overview(other)).checks).toEqual({ overdue: 0, lagSeconds: 0 });

      const s = scheduler({ probe: instant, maxRate: 10 });
      await s.runOnce();
      const during = await overview();
      expect(during.checks).toEqual({ overdue: 20, lagSeconds: 60 });
      expect(during.counts.healthy - before.counts.healthy).toBe(10);
      expect(during.counts.unknown - before.counts.unknown).toBe(20);
      clock.advance(1_000);
      await s.runOnce();
      clock.advance(1_000);
      await s.runOnce();
      expect((await overview()).checks).toEqual({ overdue: 0, lagSeconds: 0 });
      await disable(ids);
      const after = await overview();
      expect(after.counts.disabled - before.counts.disabled).toBe(30);
      expect(after.total - before.total).toBe(30);
    });

    it("derives its pace from the fleet's intervals when no rate is set: a quarter above what they ask", async () => {
      const s = () => scheduler({ probe: instant, maxRate: null });
      const small = await fleet("small", 5);
      const floor = s();
      await floor.runOnce();
      expect(floor.rate).toBe(MIN_RATE);
      // 400 servers checked every 10 s ask for 40 checks a second, so the pace is 50. (Written
      // straight to the table: the pace reads the fleet, however it was registered.)
      await disable(small);
      const [one] = await fleet("big", 1, { checkIntervalSeconds: 10 });
      await t.database.db.execute(sql`
        INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url, check_interval_seconds)
        SELECT tenant_id, name || '-' || n, display_name, transport, url, check_interval_seconds
        FROM mcp_servers, generate_series(1, 399) AS n WHERE id = ${one}`);
      const derived = s();
      await derived.runOnce();
      expect(derived.rate).toBe(50);
      await t.database.db.execute(sql`UPDATE mcp_servers SET enabled = false WHERE name LIKE 'big-%'`);
    });
  });

  it("vacuums the queue of due checks while it runs, which each check leaves two dead versions in", async () => {
    const vacuums = async () =>
      (
        await queryRows<{ n: number }>(
          t.database.db,
          sql`SELECT vacuum_count::int AS n FROM pg_stat_user_tables WHERE relname = 'mcp_check_schedule'`,
        )
      )[0]?.n ?? 0;
    const before = await vacuums();
    const s = scheduler();
    s.start();
    try {
      // At its start, and every QUEUE_VACUUM_INTERVAL_MS after.
      await vi.waitFor(async () => expect(await vacuums()).toBeGreaterThan(before));
    } finally {
      await s.stop();
    }
  });

  it("rests a second after a failed round, however short its idle pause: an outage is logged once a second", async () => {
    const gone = await openDatabase({ kind: "pglite" });
    await gone.close(); // every claim now fails
    const errors: string[] = [];
    const logged = pino({ level: "error" }, { write: (line: string) => errors.push(line) });
    const s = scheduler({ db: gone.db, log: logged, idleMs: 50 });
    s.start();
    await new Promise((r) => setTimeout(r, 1_500));
    await s.stop();
    const rounds = errors.filter((l) => l.includes("scheduler round failed")).length;
    // At 50 ms between rounds this would be about thirty.
    expect(rounds).toBeGreaterThanOrEqual(1);
    expect(rounds).toBeLessThanOrEqual(2);
  });

  it("is run with the health history purge, which removes checks older than the retention period", async () => {
    const rows = await queryRows<{ n: number }>(
      t.database.db,
      sql`SELECT count(*)::int AS n FROM mcp_server_health`,
    );
    expect(rows[0]?.n).toBeGreaterThan(0);
    clock.advance(31 * 86_400_000);
    const old = () =>
      queryRows<{ n: number }>(
        t.database.db,
        sql`SELECT count(*)::int AS n FROM mcp_server_health WHERE checked_at < ${new Date(clock.now().getTime() - 30 * 86_400_000)}`,
      );
    const jobs = createJobs({ ...t.runtime, clock, scheduledProbe: countingProbe }, { scheduler: true });
    expect(jobs.scheduler).not.toBeNull();
    jobs.start();
    try {
      await vi.waitFor(async () => expect((await old())[0]?.n).toBe(0));
    } finally {
      await jobs.stop();
    }
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

  it("skip their turn to vacuum the queue while another instance vacuums it, instead of waiting", async () => {
    const second = await openDatabase({ kind: "postgres", url: t.database.url as string, poolSize: 1 });
    try {
      await second.db.transaction(async (tx) => {
        // The lock a VACUUM of the queue holds while it runs.
        await tx.execute(sql`LOCK TABLE mcp_check_schedule IN SHARE UPDATE EXCLUSIVE MODE`);
        const turn = await Promise.race([
          vacuumCheckQueue(t.database.db).then(() => "skipped"),
          new Promise((r) => setTimeout(() => r("waited"), 5_000)),
        ]);
        expect(turn).toBe("skipped");
      });
    } finally {
      await second.close();
    }
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
    // All due now, as after an outage (each new server's first check is somewhere in its interval).
    await t.database.db.execute(sql`UPDATE mcp_servers SET next_check_at = now()`);
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
          secrets: t.runtime.secrets,
          bus: createMemoryBus(),
          log,
          concurrency: 10,
          batchSize: 20,
          leaseMs: 60_000,
          idleMs: 50,
          maxRate: 1000,
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

  it("checks servers while requests hold every connection of the API's pool: the scheduler has its own", async () => {
    const admin = as(t.app, (await createTenant(t.app)).admin);
    const res = await admin({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "apart", url: mcp.url },
    });
    expect(res.statusCode).toBe(201);
    const id = res.json().id as string;
    await t.database.db.execute(sql`UPDATE mcp_servers SET next_check_at = now() WHERE id = ${id}`);
    expect(t.runtime.schedulerDb).not.toBe(t.runtime.db);
    // Every connection the API may open, taken (as by a burst of slow requests).
    const pool = (t.runtime.db as unknown as { $client: pg.Pool }).$client;
    const held = await Promise.all(Array.from({ length: pool.options.max }, () => pool.connect()));
    try {
      const { scheduler } = createJobs(t.runtime, { scheduler: true });
      expect(await (scheduler as Scheduler).runOnce()).toBe(1);
    } finally {
      for (const client of held) client.release();
    }
    const [row] = await queryRows<{ status: string }>(
      t.database.db,
      sql`SELECT status FROM mcp_servers WHERE id = ${id}`,
    );
    expect(row?.status).toBe("healthy");
  });
});
