import { appendFileSync, readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { type Database, poolStatsOf, queryRows } from "../../apps/server/src/db/client";

/** The machine's CPU time so far, idle and in all (the first line of /proc/stat, in ticks). */
function machineTicks(): { idle: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  return { idle: (ticks[3] ?? 0) + (ticks[4] ?? 0), total: ticks.reduce((a, b) => a + b, 0) };
}

/**
 * BENCH_TRACE=<file>: what the steady-state Switchboard went through, a line a second: the
 * machine's busy share (%), the most requests that waited for one of the pool's connections, the
 * event loop's longest delay (ms), the process's CPU in that second (ms, its threads included),
 * the health checks done in the second before (by their time: a check is recorded a moment after
 * it is done), and on PostgreSQL the tables (auto)vacuumed or analyzed and the checkpoints ended
 * since the last line. To lay beside the load generator's slow answers (`<file>.slow`, see open-loop.ts), so that a slow
 * second can be told apart: a busy machine, a stalled event loop, or a pool with none to lend.
 */
export function startSteadyTrace(file: string, database: Database): () => void {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const pool = poolStatsOf(database);
  let waiting = 0;
  const sampler = setInterval(() => {
    waiting = Math.max(waiting, pool?.().waiting ?? 0);
  }, 10);
  let cpu = process.cpuUsage();
  let ticks = machineTicks();
  let maintained = new Map<string, number>();
  /** What PostgreSQL's own maintenance did since the last call: it competes for the same cores. */
  const maintenance = async (): Promise<string> => {
    if (database.kind !== "postgres") return "";
    const rows = await queryRows<{ name: string; n: number }>(
      database.db,
      sql`SELECT relname AS name,
                 (vacuum_count + autovacuum_count + analyze_count + autoanalyze_count)::int AS n
          FROM pg_stat_user_tables
          UNION ALL SELECT 'checkpoint', (checkpoints_timed + checkpoints_req)::int FROM pg_stat_bgwriter`,
    );
    const now = new Map(rows.map((r) => [r.name, r.n]));
    const moved = rows.filter((r) => maintained.size > 0 && r.n > (maintained.get(r.name) ?? 0));
    maintained = now;
    return moved.length ? ` maintained ${moved.map((r) => r.name).join(",")}` : "";
  };
  let lineAt = Date.now();
  /** Checks recorded as done in the second before this line (by their checked_at). */
  const checks = async (to: number): Promise<string> => {
    const [row] = await queryRows<{ n: number }>(
      database.db,
      sql`SELECT count(*)::int AS n FROM mcp_server_health
          WHERE checked_at >= to_timestamp(${lineAt / 1000}) AND checked_at < to_timestamp(${to / 1000})`,
    );
    lineAt = to;
    return ` checks ${row?.n ?? 0}`;
  };
  const writer = setInterval(async () => {
    const at = Date.now();
    const now = machineTicks();
    const busy = 1 - (now.idle - ticks.idle) / Math.max(1, now.total - ticks.total);
    const spent = process.cpuUsage(cpu);
    const line =
      `${Date.now()} busy ${Math.round(busy * 100)} waiting ${waiting} delay ${Math.round(delay.max / 1e6)} ` +
      `cpu ${Math.round((spent.user + spent.system) / 1000)}`;
    ticks = now;
    cpu = process.cpuUsage();
    waiting = 0;
    delay.reset();
    const counted = await checks(at - 1000).catch(() => " checks ?");
    appendFileSync(file, `${line}${counted}${await maintenance().catch(() => " maintained ?")}\n`);
  }, 1000);
  sampler.unref();
  writer.unref();
  return () => {
    clearInterval(sampler);
    clearInterval(writer);
    delay.disable();
  };
}
