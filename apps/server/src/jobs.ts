import { repeat } from "./lib/repeat";
import { purgeExpiredAuditLogs } from "./modules/audit/service";
import { purgeHealthHistory } from "./modules/health/service";
import { purgeUsage } from "./modules/usage/service";
import type { Runtime } from "./runtime";
import { createScheduler, leaseMsOf, type Scheduler } from "./worker/scheduler";
import type { SchedulerThread } from "./worker/scheduler-thread";

/** How often health history and gateway usage past their retention are purged. */
const HEALTH_PURGE_INTERVAL_MS = 3_600_000;

export interface Jobs {
  /** The health scheduler, when this process runs it: on this event loop, or in its thread. */
  scheduler: Scheduler | SchedulerThread | null;
  start(): void;
  /** Stops claiming checks and waits for the probes and purges in flight. */
  stop(): Promise<void>;
}

/**
 * The background work of an instance, the same for `start` and `worker`: the health scheduler
 * (unless `scheduler` is false), and the health history, usage and audit retention purges.
 */
export function createJobs(runtime: Runtime, { scheduler: withScheduler }: { scheduler: boolean }): Jobs {
  const { config, log } = runtime;
  const scheduler = !withScheduler
    ? null
    : (runtime.schedulerThread ??
      createScheduler({
        ...runtime,
        ...config.scheduler,
        db: runtime.schedulerDb,
        probe: runtime.scheduledProbe,
        warmUp: async () => runtime.probeThread?.warm(),
        leaseMs: leaseMsOf(config),
      }));
  const stops: (() => Promise<void>)[] = [];
  return {
    scheduler,
    start() {
      scheduler?.start();
      log.info({ scheduler: scheduler !== null }, "background jobs started");
      stops.push(
        repeat({
          name: "health history purge",
          intervalMs: HEALTH_PURGE_INTERVAL_MS,
          log,
          task: async () => {
            const purged = await purgeHealthHistory({
              ...runtime,
              retentionDays: config.healthRetentionDays,
            });
            if (purged.checks + purged.hours > 0) log.info({ purged }, "health history purged");
          },
        }),
        repeat({
          name: "usage retention purge",
          intervalMs: HEALTH_PURGE_INTERVAL_MS,
          log,
          task: async () => {
            const purged = await purgeUsage({ ...runtime, retentionDays: config.usageRetentionDays });
            if (purged > 0) log.info({ purged, retentionDays: config.usageRetentionDays }, "usage purged");
          },
        }),
        repeat({
          name: "audit retention purge",
          intervalMs: config.audit.purgeIntervalSeconds * 1000,
          log,
          task: async () => {
            const purged = await purgeExpiredAuditLogs({
              ...runtime,
              retentionDays: config.audit.retentionDays,
            });
            if (purged > 0)
              log.info({ purged, retentionDays: config.audit.retentionDays }, "audit retention purge");
          },
        }),
      );
    },
    async stop() {
      await scheduler?.stop();
      await Promise.all(stops.splice(0).map((stop) => stop()));
    },
  };
}
