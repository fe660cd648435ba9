import type { FastifyBaseLogger } from "fastify";
import type { Db } from "../db/client";
import type { Clock } from "../lib/clock";
import { forEachPooled } from "../lib/pool";
import type { SecretBox } from "../lib/secrets";
import type { EventBus } from "../modules/events/bus";
import type { Prober } from "../modules/health/probe";
import { claimDueServers } from "../modules/health/repo";
import { probeTarget, purgeHealthHistory, recordCheck } from "../modules/health/service";

export interface SchedulerOptions {
  db: Db;
  clock: Clock;
  probe: Prober;
  secrets: SecretBox;
  events: EventBus;
  log: FastifyBaseLogger;
  /** Probes running at once. */
  concurrency: number;
  /** Servers claimed per round. */
  batchSize: number;
  /** How long a claim holds before another scheduler may take the server (covers a crash mid-probe). */
  leaseMs: number;
  /** Pause between rounds when nothing was due. */
  idleMs: number;
  healthRetentionDays: number;
  random?: () => number;
}

/**
 * The health scheduler: claims due servers, probes them in a bounded pool, records the results.
 * Several schedulers (one per instance) share the work through the claim's row locks.
 */
export function createScheduler(opts: SchedulerOptions) {
  const log = opts.log.child({ component: "scheduler" });

  /** One round: claims what is due now, probes it, records it. Returns how many were probed. */
  async function runOnce(): Promise<number> {
    const now = opts.clock.now();
    const due = await claimDueServers(opts.db, now, opts.batchSize, new Date(now.getTime() + opts.leaseMs));
    await forEachPooled(due, opts.concurrency, async (server) => {
      try {
        const result = await opts.probe(probeTarget(server, opts.secrets));
        await recordCheck(opts, server, result);
      } catch (err) {
        // The lease runs out and another round retries it.
        log.error({ err, serverId: server.id }, "could not check server");
      }
    });
    return due.length;
  }

  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let lastPurge = 0;

  async function run() {
    while (running) {
      let probed = 0;
      try {
        probed = await runOnce();
        if (Date.now() - lastPurge > 3_600_000) {
          lastPurge = Date.now();
          const purged = await purgeHealthHistory({ ...opts, retentionDays: opts.healthRetentionDays });
          if (purged) log.info({ purged }, "health history purged");
        }
      } catch (err) {
        log.error({ err }, "scheduler round failed");
      }
      if (running && probed < opts.batchSize) {
        await new Promise<void>((done) => {
          wake = done;
          setTimeout(done, opts.idleMs).unref();
        });
      }
    }
  }

  return {
    runOnce,
    start() {
      if (running) return;
      running = true;
      loop = run();
      log.info({ concurrency: opts.concurrency }, "health scheduler started");
    },
    /** Stops after the round in progress. */
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
