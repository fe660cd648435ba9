import type { FastifyBaseLogger } from "fastify";
import type { Db } from "../db/client";
import { createBatcher } from "../lib/batcher";
import type { Clock } from "../lib/clock";
import { forEachPooled } from "../lib/pool";
import type { SecretBox } from "../lib/secrets";
import type { EventBus } from "../modules/events/bus";
import type { Prober } from "../modules/health/probe";
import { claimDueServers } from "../modules/health/repo";
import { type FinishedCheck, probeTarget, purgeHealthHistory, recordChecks } from "../modules/health/service";
import type { ServerRow } from "../modules/servers/repo";

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
 * Checks written per statement at most (25 take ≈1.3 ms of PostgreSQL's time, 0.05 ms a check
 * where one statement a check took 0.2 ms), and how long a finished check waits for others.
 */
export const RECORD_BATCH = 25;
const RECORD_WAIT_MS = 50;

/**
 * The health scheduler: claims due servers, probes them in a bounded pool, records the results.
 * Several schedulers (one per instance) share the work through the claim's row locks.
 */
export function createScheduler(opts: SchedulerOptions) {
  const log = opts.log.child({ component: "scheduler" });
  // Checks that finish together are written together: one statement per batch, not per check.
  const recorder = createBatcher<FinishedCheck>({
    maxItems: RECORD_BATCH,
    maxWaitMs: RECORD_WAIT_MS,
    flush: async (checks) => {
      // Unrecorded checks' leases run out, and a later round probes those servers again.
      await recordChecks(opts, checks).catch((err: unknown) =>
        log.error({ err, checks: checks.length }, "could not record checks"),
      );
    },
  });

  async function check(server: ServerRow) {
    try {
      const result = await opts.probe(probeTarget(server, opts.secrets));
      await recorder.add({ server, result, checkedAt: opts.clock.now() });
    } catch (err) {
      log.error({ err, serverId: server.id }, "could not check server");
    }
  }

  const claim = (limit: number) => {
    const now = opts.clock.now();
    return claimDueServers(opts.db, now, limit, new Date(now.getTime() + opts.leaseMs));
  };

  /** One round: claims what is due now, probes it, records it. Returns how many were probed. */
  async function runOnce(): Promise<number> {
    const due = await claim(opts.batchSize);
    await forEachPooled(due, opts.concurrency, check);
    return due.length;
  }

  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let lastPurge = 0;

  /**
   * Keeps up to `concurrency` probes in flight, claiming more as slots free up, so that a few
   * servers hanging until the probe timeout hold only their own slots, never a whole batch.
   */
  async function run() {
    const inFlight = new Set<Promise<void>>();
    // Claims are one statement each: wait for a handful of free slots rather than claim one by one.
    const minClaim = Math.max(1, Math.min(opts.batchSize, Math.floor(opts.concurrency / 10)));
    while (running) {
      const free = opts.concurrency - inFlight.size;
      if (free < minClaim) {
        await Promise.race(inFlight);
        continue;
      }
      const limit = Math.min(opts.batchSize, free);
      let due: ServerRow[] = [];
      try {
        due = await claim(limit);
        if (Date.now() - lastPurge > 3_600_000) {
          lastPurge = Date.now();
          const purged = await purgeHealthHistory({ ...opts, retentionDays: opts.healthRetentionDays });
          if (purged) log.info({ purged }, "health history purged");
        }
      } catch (err) {
        log.error({ err }, "scheduler round failed");
      }
      for (const server of due) {
        const p: Promise<void> = check(server).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (running && due.length < limit) {
        // Nothing more is due: rest until the next one may be, or until a stop.
        await new Promise<void>((done) => {
          wake = done;
          setTimeout(done, opts.idleMs).unref();
        });
      }
    }
    await Promise.all(inFlight);
  }

  return {
    runOnce,
    start() {
      if (running) return;
      running = true;
      loop = run();
      log.info({ concurrency: opts.concurrency }, "health scheduler started");
    },
    /** Stops claiming, and waits for the probes in flight. */
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
