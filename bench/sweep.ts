import { fork } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import pino from "pino";
import { type Config, loadConfig } from "../apps/server/src/config";
import { type Db, queryRows } from "../apps/server/src/db/client";
import { systemClock } from "../apps/server/src/lib/clock";
import { createSecretBox } from "../apps/server/src/lib/secrets";
import { createMemoryBus } from "../apps/server/src/modules/events/bus";
import { createProber } from "../apps/server/src/modules/health/probe";
import { createScheduler } from "../apps/server/src/worker/scheduler";
import { startCpuMeter } from "./lib/cpu";
import { type BenchDbKind, openBenchDatabase } from "./lib/database";
import { median, round } from "./lib/stats";

const FLEET = fileURLToPath(new URL("./lib/mcp-fleet.ts", import.meta.url));

export interface SweepRow {
  servers: number;
  hanging: number;
  runs: number;
  /** The median run's wall time, and the fastest and slowest runs'. */
  wallSeconds: number;
  wallRangeSeconds: string;
  /** When every server that answers had been checked; the rest of the wall time waits out the hanging ones. */
  answeredSeconds: number;
  probesPerSecond: number;
  peakRssMb: number;
  peakHeapMb: number;
  healthy: number;
  /** Answering servers the probe found slower than PROBE_DEGRADED_MS: the scheduler's own queueing shows here. */
  degraded: number;
  unhealthy: number;
  /** Latency the probes recorded for the servers that answered: median and p99, in ms. */
  latencyP50Ms: number;
  latencyP99Ms: number;
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

type Fleet = ReturnType<typeof startFleet>;

interface SweepRun {
  wall: number;
  answered: number;
  peakRss: number;
  peakHeap: number;
  healthy: number;
  degraded: number;
  unhealthy: number;
  latencyP50: number;
  latencyP99: number;
  schedulerCpuMs: number;
  fleetCpuMs: number;
  databaseCpuMs: number | null;
}

/** Switchboard's defaults, with a data directory of the benchmark's own for generated secrets. */
const shippedConfig = () =>
  loadConfig({
    NODE_ENV: "production",
    DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-sweep-")),
    AUTH_SECRET: "x".repeat(40),
  });

/** Marks every server due and never checked, as they were when registered. */
async function makeAllDue(db: Db): Promise<void> {
  await db.execute(sql`
    UPDATE mcp_servers
    SET next_check_at = now() - interval '1 second', last_checked_at = NULL, status = 'unknown'`);
}

/** Starts a scheduler as Switchboard ships it and waits until it has checked every server once. */
async function sweepOnce(
  kind: BenchDbKind,
  config: Config,
  db: Db,
  fleet: Fleet,
  count: number,
  hanging: number,
) {
  await makeAllDue(db);
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
  const [latency] = await queryRows<{ p50: number; p99: number }>(
    db,
    sql`SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY last_latency_ms) AS p50,
               percentile_disc(0.99) WITHIN GROUP (ORDER BY last_latency_ms) AS p99
        FROM mcp_servers WHERE status <> 'unhealthy'`,
  );
  return {
    wall,
    answered,
    peakRss,
    peakHeap,
    healthy: of("healthy"),
    degraded: of("degraded"),
    unhealthy: of("unhealthy"),
    latencyP50: latency?.p50 ?? 0,
    latencyP99: latency?.p99 ?? 0,
    schedulerCpuMs: spent.selfMs / count,
    fleetCpuMs: fleetCpu / count,
    databaseCpuMs: spent.postgresMs === null ? null : spent.postgresMs / count,
  } satisfies SweepRun;
}

/**
 * Full health sweeps of `count` real MCP servers, 5% of which hang until the probe timeout, with
 * the scheduler as Switchboard ships it (its default concurrency and timeout). The same fleet is
 * swept `runs` times by a new scheduler each time; times and CPU are the runs' medians.
 */
export async function benchSweep(kind: BenchDbKind, count: number, runs: number): Promise<SweepRow> {
  const hangEvery = 20;
  const hanging = Math.floor(count / hangEvery);
  const config = shippedConfig();
  const fleet = startFleet(count, hangEvery);
  const database = await openBenchDatabase(kind, "sweep");
  try {
    const urls = await fleet.urls;
    const db = database.db;
    await db.execute(
      sql`INSERT INTO organization (id, name, slug, created_at) VALUES ('sweep', 'Sweep', 'sweep', now())`,
    );
    await db.execute(sql`
      INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url)
      SELECT 'sweep', 'fleet-' || (n - 1), 'Fleet ' || (n - 1), 'streamable-http', u
      FROM unnest(${sql.raw(`ARRAY[${urls.map((u) => `'${u}'`).join(",")}]::text[]`)}) WITH ORDINALITY AS t(u, n)`);

    const done: SweepRun[] = [];
    for (let i = 0; i < runs; i++) {
      const run = await sweepOnce(kind, config, db, fleet, count, hanging);
      console.error(
        `  sweep ${kind}: ${count} servers in ${round(run.wall, 2)} s (answering ones in ${round(run.answered, 2)} s)`,
      );
      done.push(run);
    }
    const med = (pick: (r: SweepRun) => number) => median(done.map(pick));
    const last = done[done.length - 1];
    const wall = med((r) => r.wall);
    return {
      servers: count,
      hanging,
      runs,
      wallSeconds: round(wall, 2),
      wallRangeSeconds: `${round(Math.min(...done.map((r) => r.wall)), 2)}–${round(Math.max(...done.map((r) => r.wall)), 2)}`,
      answeredSeconds: round(
        med((r) => r.answered),
        2,
      ),
      probesPerSecond: round(count / wall, 1),
      peakRssMb: round(Math.max(...done.map((r) => r.peakRss)) / 2 ** 20, 1),
      peakHeapMb: round(Math.max(...done.map((r) => r.peakHeap)) / 2 ** 20, 1),
      healthy: last?.healthy ?? 0,
      degraded: last?.degraded ?? 0,
      unhealthy: last?.unhealthy ?? 0,
      latencyP50Ms: med((r) => r.latencyP50),
      latencyP99Ms: med((r) => r.latencyP99),
      schedulerCpuMs: round(
        med((r) => r.schedulerCpuMs),
        3,
      ),
      fleetCpuMs: round(
        med((r) => r.fleetCpuMs),
        3,
      ),
      databaseCpuMs:
        kind === "postgres"
          ? round(
              med((r) => r.databaseCpuMs ?? 0),
              3,
            )
          : null,
    };
  } finally {
    await database.close();
    await fleet.stop();
  }
}
