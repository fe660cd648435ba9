import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../apps/server/src/config";
import { type Database, type Db, queryRows } from "../../apps/server/src/db/client";
import { createRuntime, type Runtime } from "../../apps/server/src/runtime";
import { createScheduler } from "../../apps/server/src/worker/scheduler";
import { startCpuMeter } from "./cpu";
import { type BenchDbKind, openBenchDatabase } from "./database";

/**
 * The health scheduler under test, in a process of its own, so that its peak memory is its own and
 * not what earlier benchmarks left in the runner's heap. It owns the sweep's database (an embedded
 * PGlite lives in this process, as it does in Switchboard's). Over IPC: `setup` registers the
 * fleet's servers, each `sweep` checks all of them once and answers a SweepRun, `stop` exits.
 */
export type SweeperCommand =
  | { type: "setup"; kind: BenchDbKind; urls: string[] }
  | { type: "sweep"; hanging: number }
  | { type: "stop" };

export interface SweepRun {
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
  databaseCpuMs: number | null;
}

/**
 * Switchboard's defaults, with a data directory of the benchmark's own for generated secrets, the
 * loopback fleet allowed, and warnings only in the log.
 */
const shippedConfig = () =>
  loadConfig({
    NODE_ENV: "production",
    DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-sweep-")),
    AUTH_SECRET: "x".repeat(40),
    ALLOW_PRIVATE_TARGETS: "true",
    LOG_LEVEL: "warn",
  });

/** Registers one server per URL in a tenant of its own. */
async function register(db: Db, urls: string[]): Promise<void> {
  await db.execute(
    sql`INSERT INTO organization (id, name, slug, created_at) VALUES ('sweep', 'Sweep', 'sweep', now())`,
  );
  await db.execute(sql`
    INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url)
    SELECT 'sweep', 'fleet-' || (n - 1), 'Fleet ' || (n - 1), 'streamable-http', u
    FROM unnest(${sql.raw(`ARRAY[${urls.map((u) => `'${u}'`).join(",")}]::text[]`)}) WITH ORDINALITY AS t(u, n)`);
}

/** Marks every server due and never checked, as they were when registered. */
async function makeAllDue(db: Db): Promise<void> {
  await db.execute(sql`
    UPDATE mcp_servers
    SET next_check_at = now() - interval '1 second', last_checked_at = NULL, status = 'unknown'`);
}

/** Starts a scheduler as Switchboard ships it and waits until it has checked every server once. */
async function sweepOnce(kind: BenchDbKind, runtime: Runtime, hanging: number): Promise<SweepRun> {
  const { db, config } = runtime;
  await makeAllDue(db);
  const [total] = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM mcp_servers`);
  const count = total?.n ?? 0;
  // Unpaced: the sweep measures how fast a whole fleet can be checked, not the catch-up pace.
  const scheduler = createScheduler({
    ...runtime,
    ...config.scheduler,
    maxRate: 100_000,
    probe: runtime.scheduledProbe,
    leaseMs: config.probe.timeoutMs * 3,
  });

  let peakRss = 0;
  let peakHeap = 0;
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 50);
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
    databaseCpuMs: spent.postgresMs === null ? null : spent.postgresMs / count,
  };
}

let database: Database | null = null;
let runtime: Runtime | null = null;
let kind: BenchDbKind = "pglite";

async function handle(command: SweeperCommand): Promise<unknown> {
  if (command.type === "setup") {
    kind = command.kind;
    database = await openBenchDatabase(kind, "sweep");
    await register(database.db, command.urls);
    runtime = await createRuntime(shippedConfig(), { database });
    return { ready: true };
  }
  if (!database || !runtime) throw new Error("the sweeper was not set up");
  if (command.type === "sweep") return { run: await sweepOnce(kind, runtime, command.hanging) };
  await runtime.close();
  await database.close();
  database = null;
  runtime = null;
  return { stopped: true };
}

process.on("message", (command: SweeperCommand) => {
  handle(command).then(
    (answer) => process.send?.(answer, () => command.type === "stop" && process.exit(0)),
    (err: Error) => process.send?.({ error: err.message }, () => process.exit(1)),
  );
});
