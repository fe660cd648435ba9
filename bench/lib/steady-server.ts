import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { Database } from "../../apps/server/src/db/client";
import { queryRows } from "../../apps/server/src/db/client";
import { createJobs } from "../../apps/server/src/jobs";
import { startServer } from "../../apps/server/src/server";
import { benchConfig, freePort, headersFor, seedTenant } from "./app";
import { ownCpuMs, pidsCpuMs } from "./cpu";
import { type BenchDbKind, benchDatabaseUrl, openBenchDatabase } from "./database";
import { startSteadyTrace } from "./steady-trace";

const WORKER = fileURLToPath(new URL("./steady-worker.ts", import.meta.url));

/**
 * Switchboard for the steady-state benchmark, in a process of its own as `npm start` runs it
 * (startServer: the API, the retention jobs, and, once sent `scheduler`, the health scheduler built
 * by the same createJobs: in its thread on PostgreSQL, its probes in theirs on PGlite), so that its
 * CPU time (its threads' included) is its own and an embedded PGlite lives in it. It starts with the scheduler off. Over IPC: `setup` registers `servers` servers whose URLs take the fleet's in
 * turn, each checked every `intervalSeconds`, with `history` old health rows each, and answers the
 * API's URL, the sessions' headers and the servers' ids; `cpu` answers this process's CPU time so
 * far (its API workers' included); `overdue` makes every server's check overdue by an interval;
 * `scheduler` starts the scheduler (`on`) or stops it once its checks in flight are recorded (with
 * `skipMissed`, a start first moves each check that came due while it was off to the same point
 * of its next interval, as if it had run all along: the steady state goes on at once, with no
 * catch-up);
 * `workers` starts `count` API worker processes on PostgreSQL, as `start` does with
 * WEB_CONCURRENCY (this process stays the primary that runs the scheduler), and answers their
 * shared URL, or with 0 stops them and answers this process's; `checks` answers the time of every health check recorded in
 * [fromMs, toMs); `checked` how many servers have been checked since `sinceMs`; `stop` exits.
 */
export type SteadyServerCommand =
  | {
      type: "setup";
      kind: BenchDbKind;
      servers: number;
      urls: string[];
      intervalSeconds: number;
      admins: number;
      history: number;
    }
  | { type: "cpu" }
  | { type: "overdue" }
  | { type: "scheduler"; on: boolean; skipMissed?: boolean }
  | { type: "workers"; count: number }
  | { type: "checks"; fromMs: number; toMs: number }
  | { type: "checked"; sinceMs: number }
  | { type: "stop" };

export interface SteadySetup {
  url: string;
  /** Headers of the tenant's admins (session cookie and Origin), and of its owner. */
  sessions: Record<string, string>[];
  owner: Record<string, string>;
  ids: string[];
}

let database: Database | null = null;
let server: Awaited<ReturnType<typeof startServer>> | null = null;
let stopScheduler: (() => Promise<void>) | null = null;
let tenantId = "";
const workers: Worker[] = [];

/** API workers on the benchmark's PostgreSQL database, sharing one port; resolves with its URL. */
async function startWorkers(count: number): Promise<{ url: string }> {
  const port = await freePort();
  const env = {
    DATABASE_URL: benchDatabaseUrl("steady"),
    PORT: String(port),
    WEB_CONCURRENCY: String(count),
  };
  cluster.setupPrimary({ exec: WORKER, execArgv: ["--import", "tsx"], silent: true });
  await Promise.all(
    Array.from({ length: count }, () => {
      const worker = cluster.fork({ BENCH_WORKER_ENV: JSON.stringify(env) });
      // Their log lines, drained (a full pipe would stall them).
      worker.process.stdout?.resume();
      worker.process.stderr?.resume();
      workers.push(worker);
      return new Promise<void>((resolve, reject) => {
        worker.once("listening", () => resolve());
        worker.once("exit", (code) => reject(new Error(`an API worker exited with ${code}`)));
      });
    }),
  );
  return { url: `http://127.0.0.1:${port}` };
}

/** Stops the API workers; answers this process's own URL, which served all along. */
async function stopWorkers(): Promise<{ url: string }> {
  await Promise.all(
    workers.splice(0).map((worker) => new Promise((exited) => worker.once("exit", exited).kill())),
  );
  if (!server) throw new Error("the steady-state Switchboard was not set up");
  const { port } = server.app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}` };
}

async function setup(command: Extract<SteadyServerCommand, { type: "setup" }>): Promise<SteadySetup> {
  database = await openBenchDatabase(command.kind, "steady");
  // SCHEDULER_MAX_RATE fixes the catch-up's pace, SCHEDULER_IDLE_MS the claims' step (to compare
  // them with the defaults).
  const tuned = Object.fromEntries(
    ["SCHEDULER_MAX_RATE", "SCHEDULER_IDLE_MS"].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
  );
  const config = await benchConfig({ SCHEDULER: "off", ...tuned });
  const started = await startServer(config, { database, logStream: { write: () => {} } }, { migrate: false });
  server = started;
  if (process.env.BENCH_TRACE) startSteadyTrace(process.env.BENCH_TRACE, database);
  const tenant = await seedTenant(started.app, command.admins);
  tenantId = tenant.orgId;
  const { db } = started.runtime;
  // Many registered servers share each of the fleet's URLs (a listening SDK server per registered
  // one would be 10,000 processes' worth of servers on this machine): each is still probed in
  // full (a session of its own, its tools listed), as a server of its own would be.
  const urls = `ARRAY[${command.urls.map((u) => `'${u.replaceAll("'", "''")}'`).join(",")}]::text[]`;
  await db.execute(sql`
    INSERT INTO mcp_servers (tenant_id, name, display_name, description, transport, url, tags,
                             check_interval_seconds, next_check_at, updated_at)
    SELECT ${tenantId}, 'steady-' || s, 'Server ' || s, 'Serves thing ' || s || ' for the team',
           'streamable-http', (${sql.raw(urls)})[(s - 1) % ${command.urls.length} + 1],
           ARRAY['tag-' || (s % 7), 'team-' || (s % 13)], ${command.intervalSeconds},
           now() + interval '1 day', now() - (s || ' seconds')::interval
    FROM generate_series(1, ${command.servers}) s`);
  // Old checks, so that a server's health history has rows with the scheduler off too.
  if (command.history > 0)
    await db.execute(sql`
      INSERT INTO mcp_server_health (server_id, tenant_id, checked_at, status, latency_ms)
      SELECT id, tenant_id, now() - (h || ' hours')::interval, 'healthy', 5 + h
      FROM mcp_servers, generate_series(1, ${command.history}) h
      WHERE tenant_id = ${tenantId}`);
  await db.execute(sql`ANALYZE mcp_servers, mcp_check_schedule, mcp_server_search, mcp_server_health`);
  const ids = await queryRows<{ id: string }>(
    db,
    sql`SELECT id FROM mcp_servers WHERE tenant_id = ${tenantId} ORDER BY id`,
  );
  const { port } = started.app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    sessions: tenant.admins.map(headersFor),
    owner: headersFor(tenant.owner),
    ids: ids.map((r) => r.id),
  };
}

async function handle(command: SteadyServerCommand): Promise<unknown> {
  if (command.type === "setup") return setup(command);
  if (!server || !database) throw new Error("the steady-state Switchboard was not set up");
  const { db } = server.runtime;
  switch (command.type) {
    case "cpu":
      return { cpuMs: ownCpuMs() + pidsCpuMs(workers.flatMap((w) => w.process.pid ?? [])) };
    case "workers":
      return command.count > 0 ? startWorkers(command.count) : stopWorkers();
    case "overdue": {
      const rows = await queryRows<{ n: number }>(
        db,
        sql`WITH u AS (
              UPDATE mcp_servers SET next_check_at = now() - make_interval(secs => check_interval_seconds)
              WHERE tenant_id = ${tenantId} RETURNING 1)
            SELECT count(*)::int AS n FROM u`,
      );
      return { overdue: rows[0]?.n ?? 0 };
    }
    case "scheduler": {
      if (!command.on) {
        // Stops claiming, and waits for the checks in flight to be recorded.
        await stopScheduler?.();
        stopScheduler = null;
        return { started: false };
      }
      if (command.skipMissed) {
        // Whole intervals keep each check at its phase; the rows written are vacuumed before the
        // run, as the steady state's own writes are by then.
        await db.execute(sql`
          UPDATE mcp_servers SET next_check_at = next_check_at + make_interval(secs =>
            check_interval_seconds * ceil(extract(epoch FROM now() - next_check_at) / check_interval_seconds))
          WHERE tenant_id = ${tenantId} AND next_check_at < now()`);
        await db.execute(sql`VACUUM ANALYZE mcp_servers, mcp_check_schedule`);
      }
      // The scheduler as `npm start` builds it (its other jobs already run since startServer).
      const { scheduler } = createJobs(server.runtime, { scheduler: true });
      if (!scheduler) throw new Error("no scheduler");
      scheduler.start();
      stopScheduler = () => scheduler.stop();
      return { started: true };
    }
    case "checks": {
      const rows = await queryRows<{ at: number }>(
        db,
        sql`SELECT (extract(epoch FROM checked_at) * 1000)::float8 AS at FROM mcp_server_health
            WHERE tenant_id = ${tenantId}
              AND checked_at >= to_timestamp(${command.fromMs / 1000})
              AND checked_at < to_timestamp(${command.toMs / 1000})`,
      );
      return { times: rows.map((r) => Number(r.at)) };
    }
    case "checked": {
      const rows = await queryRows<{ n: number }>(
        db,
        sql`SELECT count(*)::int AS n FROM mcp_servers
            WHERE tenant_id = ${tenantId} AND last_checked_at >= to_timestamp(${command.sinceMs / 1000})`,
      );
      return { checked: rows[0]?.n ?? 0 };
    }
    case "stop":
      for (const worker of workers) worker.kill();
      await stopScheduler?.();
      await server.stop();
      await database.close();
      return { stopped: true };
  }
}

process.on("message", (command: SteadyServerCommand) => {
  handle(command).then(
    (answer) =>
      process.send?.(answer, () => {
        if (command.type === "stop") process.exit(0);
      }),
    (err: Error) => process.send?.({ error: err.stack ?? err.message }),
  );
});
