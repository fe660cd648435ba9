import { appendFileSync, readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { type Database, poolStatsOf } from "../../apps/server/src/db/client";

/** The machine's CPU time so far, idle and in all (the first line of /proc/stat, in ticks). */
function machineTicks(): { idle: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  return { idle: (ticks[3] ?? 0) + (ticks[4] ?? 0), total: ticks.reduce((a, b) => a + b, 0) };
}

/**
 * BENCH_TRACE=<file>: what the steady-state Switchboard went through, a line a second: the
 * machine's busy share (%), the most requests that waited for one of the pool's connections, the
 * event loop's longest delay (ms), and the process's CPU in that second (ms, its threads
 * included). To lay beside the load generator's slow answers (`<file>.slow`, see open-loop.ts), so that a slow
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
  const writer = setInterval(() => {
    const now = machineTicks();
    const busy = 1 - (now.idle - ticks.idle) / Math.max(1, now.total - ticks.total);
    const spent = process.cpuUsage(cpu);
    appendFileSync(
      file,
      `${Date.now()} busy ${Math.round(busy * 100)} waiting ${waiting} delay ${Math.round(delay.max / 1e6)} ` +
        `cpu ${Math.round((spent.user + spent.system) / 1000)}\n`,
    );
    ticks = now;
    cpu = process.cpuUsage();
    waiting = 0;
    delay.reset();
  }, 1000);
  sampler.unref();
  writer.unref();
  return () => {
    clearInterval(sampler);
    clearInterval(writer);
    delay.disable();
  };
}
