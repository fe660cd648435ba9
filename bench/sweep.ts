import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchDbKind } from "./lib/database";
import { startFleet } from "./lib/fleet";
import { median, round } from "./lib/stats";
import type { SweeperCommand, SweepRun } from "./lib/sweeper";

const SWEEPER = fileURLToPath(new URL("./lib/sweeper.ts", import.meta.url));

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
  /** The scheduler's process (with PGlite when embedded): its peak while sweeping. */
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

/**
 * Forks the scheduler's own process (lib/sweeper.ts); `ask` sends it a command and awaits the
 * answer, or fails if the process exits first (a crash mid-sweep must not hang the benchmark).
 */
function startSweeper() {
  const child = fork(SWEEPER, { execArgv: ["--import", "tsx"] });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`the sweeper exited with ${code}`))),
  );
  exited.catch(() => {}); // read by each ask
  const ask = <T>(command: SweeperCommand) =>
    Promise.race([
      new Promise<T>((resolve, reject) => {
        child.once("message", (m: T & { error?: string }) =>
          m.error ? reject(new Error(m.error)) : resolve(m),
        );
        child.send(command);
      }),
      exited,
    ]);
  return { ask, kill: () => child.kill() };
}

/**
 * Full health sweeps of `count` real MCP servers, 5% of which hang until the probe timeout, with
 * the scheduler as Switchboard ships it (its default concurrency and timeout), each in a process
 * of its own. The same fleet is swept `runs` times by a new scheduler each time; times and CPU are
 * the runs' medians, memory the highest peak.
 */
export async function benchSweep(kind: BenchDbKind, count: number, runs: number): Promise<SweepRow> {
  const hangEvery = 20;
  const hanging = Math.floor(count / hangEvery);
  const fleet = startFleet(count, hangEvery);
  const sweeper = startSweeper();
  try {
    const urls = await fleet.urls;
    await sweeper.ask({ type: "setup", kind, urls });
    const done: (SweepRun & { fleetCpuMs: number })[] = [];
    for (let i = 0; i < runs; i++) {
      const fleetCpu0 = await fleet.cpuMs();
      const { run } = await sweeper.ask<{ run: SweepRun }>({ type: "sweep", hanging });
      const fleetCpuMs = ((await fleet.cpuMs()) - fleetCpu0) / count;
      console.error(
        `  sweep ${kind}: ${count} servers in ${round(run.wall, 2)} s (answering ones in ${round(run.answered, 2)} s)`,
      );
      done.push({ ...run, fleetCpuMs });
    }
    const med = (pick: (r: (typeof done)[number]) => number) => median(done.map(pick));
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
    await sweeper.ask({ type: "stop" }).catch(() => sweeper.kill());
    await fleet.stop();
  }
}
