import { fork } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import pino from "pino";
import { loadConfig } from "../apps/server/src/config";
import { queryRows } from "../apps/server/src/db/client";
import { systemClock } from "../apps/server/src/lib/clock";
import { createSecretBox } from "../apps/server/src/lib/secrets";
import { createMemoryBus } from "../apps/server/src/modules/events/bus";
import { createProber } from "../apps/server/src/modules/health/probe";
import { createScheduler } from "../apps/server/src/worker/scheduler";
import { startCpuMeter } from "./lib/cpu";
import { type BenchDbKind, openBenchDatabase } from "./lib/database";
import { round } from "./lib/stats";

const FLEET = fileURLToPath(new URL("./lib/mcp-fleet.ts", import.meta.url));

export interface SweepRow {
  servers: number;
  hanging: number;
  wallSeconds: number;
  /** When every server that answers had been checked; the rest of the wall time waits out the hanging ones. */
  answeredSeconds: number;
  probesPerSecond: number;
  peakRssMb: number;
  peakHeapMb: number;
  healthy: number;
  unhealthy: number;
  /** CPU ms per probe: the scheduler's process (with PGlite when embedded), the fleet's, PostgreSQL's. */
  schedulerCpuMs: number;
  fleetCpuMs: number;
  databaseCpuMs: number | null;
}

/** Starts `count` MCP servers in a child process; resolves with their URLs and a way to stop them. */
function startFleet(count: number, hangEvery: number) {
  const child = fork(FLEET, { execArgv: ["--import", "tsx"] });
  const urls = new Promise<string[]>((resolve, reject) => {
    child.once("message", (m: { urls: string[] }) => resolve(m.urls));
    child.once("exit", (code) => reject(new Error(`MCP fleet exited with ${code}`)));
  });
  child.send({ count, hangEvery });
  return {
    urls,
    cpuMs: () =>
      new Promise<number>((resolve) => {
        child.once("message", (m: { cpuMs: number }) => resolve(m.cpuMs));
        child.send("cpu");
      }),
    stop: () =>
      new Promise<void>((done) => {
        child.once("exit", () => done());
        child.send("stop");
      }),
  };
}

/**
 * One full health sweep of `count` real MCP servers, 5% of which hang until the probe timeout,
 * with the scheduler as Switchboard ships it (its default concurrency and timeout).
 */
export async function benchSweep(kind: BenchDbKind, count: number): Promise<SweepRow> {
  const config = loadConfig({
    NODE_ENV: "production",
    DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-sweep-")),
    AUTH_SECRET: "x".repeat(40),
  });
  const hangEvery = 20;
  const fleet = startFleet(count, hangEvery);
  const database = await openBenchDatabase(kind, "sweep");
  try {
    const urls = await fleet.urls;
    const db = database.db;
    await db.execute(
      sql`INSERT INTO organization (id, name, slug, created_at) VALUES ('sweep', 'Sweep', 'sweep', now())`,
    );
    await db.execute(sql`
      INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url, next_check_at)
      SELECT 'sweep', 'fleet-' || (n - 1), 'Fleet ' || (n - 1), 'streamable-http', u, now() - interval '1 second'
      FROM unnest(${sql.raw(`ARRAY[${urls.map((u) => `'${u}'`).join(",")}]::text[]`)}) WITH ORDINALITY AS t(u, n)`);

    const scheduler = createScheduler({
      db,
      clock: systemClock,
      probe: createProber({ ...config.probe, allowPrivate: true }),
      secrets: createSecretBox(config.secretsKey),
      events: createMemoryBus(),
      log: pino({ level: "warn" }),
      ...config.scheduler,
      leaseMs: config.probe.timeoutMs * 3,
    });

    let peakRss = 0;
    let peakHeap = 0;
    const sample = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 50);
    const fleetCpu0 = await fleet.cpuMs();
    const meter = startCpuMeter({ postgres: kind === "postgres" });
    const t0 = performance.now();
    scheduler.start();
    const hanging = Math.floor(count / hangEvery);
    let answered = 0;
    let done = 0;
    while (done < count) {
      await new Promise((r) => setTimeout(r, 100));
      const [row] = await queryRows<{ n: number }>(
        db,
        sql`SELECT count(*)::int AS n FROM mcp_servers WHERE last_checked_at IS NOT NULL`,
      );
      done = row?.n ?? 0;
      if (!answered && done >= count - hanging) answered = (performance.now() - t0) / 1000;
      if (performance.now() - t0 > 120_000) throw new Error(`sweep stalled at ${done} of ${count}`);
    }
    const wall = (performance.now() - t0) / 1000;
    const spent = meter();
    const fleetCpu = (await fleet.cpuMs()) - fleetCpu0;
    clearInterval(sample);
    await scheduler.stop();
    const counts = await queryRows<{ status: string; n: number }>(
      db,
      sql`SELECT status, count(*)::int AS n FROM mcp_servers GROUP BY status`,
    );
    const of = (s: string) => counts.find((c) => c.status === s)?.n ?? 0;
    const row: SweepRow = {
      servers: count,
      hanging,
      wallSeconds: round(wall, 2),
      answeredSeconds: round(answered, 2),
      probesPerSecond: round(count / wall, 1),
      peakRssMb: round(peakRss / 2 ** 20, 1),
      peakHeapMb: round(peakHeap / 2 ** 20, 1),
      healthy: of("healthy") + of("degraded"),
      unhealthy: of("unhealthy"),
      schedulerCpuMs: round(spent.selfMs / count, 3),
      fleetCpuMs: round(fleetCpu / count, 3),
      databaseCpuMs: spent.postgresMs === null ? null : round(spent.postgresMs / count, 3),
    };
    console.error(
      `  sweep ${kind}: ${count} servers in ${row.wallSeconds} s (answering ones in ${row.answeredSeconds} s)`,
    );
    return row;
  } finally {
    await database.close();
    await fleet.stop();
  }
}
