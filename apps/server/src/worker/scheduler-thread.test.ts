import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { as, createTenant, createTestApp, type TestApp } from "../../test/app";
import { loadConfig } from "../config";
import { queryRows } from "../db/client";
import { type RunningMcpServer, startMcpServer } from "../demo/mcp-servers";
import { createJobs, type Jobs } from "../jobs";
import { createMemoryBus, type InternalEvent } from "../lib/bus";
import { createMetrics, type Metrics, noMetrics } from "../lib/metrics";
import { createSchedulerThread } from "./scheduler-thread";

/** The counter of finished probes by outcome, as this process's metrics expose it. */
async function probesCounted(metrics: Metrics, status: string) {
  const { body } = await metrics.scrape();
  const line = body
    .split("\n")
    .find((l) => l.startsWith("switchboard_probes_total{") && l.includes(`status="${status}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

// The thread holds a PostgreSQL pool of its own: there is none to share on PGlite. A thread started
// from TypeScript source compiles its modules first: seconds on a loaded machine.
describe.runIf(process.env.TEST_DATABASE_URL)(
  "the scheduler in a thread of its own",
  { timeout: 90_000 },
  () => {
    let t: TestApp;
    let mcp: RunningMcpServer;
    let metrics: Metrics;
    let jobs: Jobs | null = null;
    const events: InternalEvent[] = [];

    beforeAll(async () => {
      mcp = await startMcpServer({ name: "apart" });
      metrics = createMetrics({ orgLabel: false, toolsPerServer: 0, defaultMetrics: false });
      t = await createTestApp("postgres", { env: { SCHEDULER_THREAD: "on" }, metrics });
      t.runtime.bus.subscribe((event) => {
        events.push(event);
      });
    });
    afterEach(async () => {
      await jobs?.stop();
      jobs = null;
    });
    afterAll(async () => {
      await t.close();
      await mcp.close();
    });

    /** Registers a server on the fleet's MCP server, due at once rather than in its slot. */
    async function dueServer(admin: ReturnType<typeof as>, name: string) {
      const res = await admin({ method: "POST", url: "/mcp/servers", payload: { name, url: mcp.url } });
      expect(res.statusCode).toBe(201);
      const id = res.json().id as string;
      await t.database.db.execute(sql`UPDATE mcp_servers SET next_check_at = now() WHERE id = ${id}`);
      return id;
    }

    it("checks, records and tells the dashboards, while this event loop runs no probe", async () => {
      const thread = t.runtime.schedulerThread;
      expect(thread).not.toBeNull();
      const admin = as(t.app, (await createTenant(t.app)).admin);
      const id = await dueServer(admin, "threaded");
      const healthyBefore = await probesCounted(metrics, "healthy");

      jobs = createJobs(t.runtime, { scheduler: true });
      expect(jobs.scheduler).toBe(thread);
      jobs.start();
      await vi.waitFor(
        async () => {
          const server = (await admin({ method: "GET", url: `/mcp/servers/${id}` })).json();
          expect(server).toMatchObject({ status: "healthy", serverInfo: { name: "apart" } });
        },
        { timeout: 60_000, interval: 100 },
      );

      // The check's event came through this process's bus, as the dashboards and other instances hear it.
      await vi.waitFor(() =>
        expect(
          events.some(
            (e) => e.type === "public" && e.event.type === "health.changed" && e.event.serverId === id,
          ),
        ).toBe(true),
      );
      // Counted in this process's metrics, though it ran in the thread…
      await vi.waitFor(async () => expect(await probesCounted(metrics, "healthy")).toBe(healthyBefore + 1));
      // …where the probers of this event loop ran none, nor was the probe thread ever started.
      expect(t.runtime.probeThread?.stats() ?? { probes: 0, running: false }).toEqual({
        probes: 0,
        running: false,
      });
      // Its log lines go where this process's do (the test app's reader).
      expect(t.logs.some((l) => l.msg === "health scheduler started" && l.component === "scheduler")).toBe(
        true,
      );
      expect(thread?.stats().running).toBe(true);
      // The process's metrics read the thread's pool, as the thread tells it.
      expect(thread?.poolStats()?.max).toBe(t.config.scheduler.poolSize);
    });

    it("stops claiming once stopped, and claims again once started again", async () => {
      const admin = as(t.app, (await createTenant(t.app)).admin);
      jobs = createJobs(t.runtime, { scheduler: true });
      jobs.start();
      const first = await dueServer(admin, "stopped-after");
      await vi.waitFor(
        async () => {
          const [row] = await queryRows<{ n: number }>(
            t.database.db,
            sql`SELECT count(*)::int AS n FROM mcp_server_health WHERE server_id = ${first}`,
          );
          expect(row?.n).toBe(1);
        },
        { timeout: 60_000, interval: 100 },
      );
      await jobs.stop();
      jobs = null;
      expect(t.runtime.schedulerThread?.stats().running).toBe(false);
      expect(t.runtime.schedulerThread?.poolStats()).toBeNull();

      const later = await dueServer(admin, "never-checked");
      await new Promise((r) => setTimeout(r, 1_000));
      const [row] = await queryRows<{ last_checked_at: Date | null }>(
        t.database.db,
        sql`SELECT last_checked_at FROM mcp_servers WHERE id = ${later}`,
      );
      expect(row?.last_checked_at).toBeNull();

      // Started again, a new thread takes up what came due meanwhile.
      jobs = createJobs(t.runtime, { scheduler: true });
      jobs.start();
      await vi.waitFor(
        async () => {
          const [again] = await queryRows<{ status: string }>(
            t.database.db,
            sql`SELECT status FROM mcp_servers WHERE id = ${later}`,
          );
          expect(again?.status).toBe("healthy");
        },
        { timeout: 60_000, interval: 100 },
      );
      expect(t.runtime.schedulerThread?.stats().running).toBe(true);
    });
  },
);

describe("a scheduler thread that dies", { timeout: 30_000 }, () => {
  it("is started again a second later, and the probes it had begun are no longer counted in flight", async () => {
    const lines: string[] = [];
    let inFlight = 0;
    const logged: Record<string, unknown>[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const thread = createSchedulerThread({
      config: loadConfig({
        NODE_ENV: "test",
        AUTH_SECRET: "x".repeat(48),
        DATA_DIR: mkdtempSync(join(tmpdir(), "sb-")),
      }),
      databaseUrl: "postgres://127.0.0.1:9/unused",
      bus: createMemoryBus(),
      metrics: {
        ...noMetrics,
        probesInFlight: (delta) => {
          inFlight += delta;
        },
      },
      log,
      logDestination: { write: (line) => lines.push(line) },
      entry: new URL("../../test/fixtures/dying-scheduler-worker.mjs", import.meta.url),
    });
    thread.start();
    try {
      await vi.waitFor(() => expect(lines.length).toBeGreaterThanOrEqual(2), {
        timeout: 10_000,
        interval: 50,
      });
      expect(
        logged.some(
          (l) => l.msg === "the scheduler's thread exited; a new one starts in a second" && l.code === 3,
        ),
      ).toBe(true);
      await vi.waitFor(() => expect(inFlight).toBe(0));
    } finally {
      await thread.stop();
    }
    // Stopped, it is not started again.
    const seen = lines.length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(lines.length).toBe(seen);
    expect(thread.stats().running).toBe(false);
  });
});
