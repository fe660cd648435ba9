import type { Config } from "../config";
import { createBatcher } from "../lib/batcher";
import type { CoreDeps } from "../lib/context";
import type { Logger } from "../lib/log";
import { forEachPooled } from "../lib/pool";
import { repeat } from "../lib/repeat";
import type { SecretBox } from "../lib/secrets";
import { createTokenBucket } from "../lib/token-bucket";
import type { ProbeResult, Prober } from "../modules/health/probe";
import { type FinishedCheck, recordChecks } from "../modules/health/record";
import {
  type CheckedServer,
  claimDueServers,
  fleetCheckRate,
  vacuumCheckQueue,
} from "../modules/health/service";
import { upstreamTarget } from "../modules/upstream/target";

export interface SchedulerOptions extends CoreDeps {
  probe: Prober;
  secrets: SecretBox;
  log: Logger;
  /** Probes running at once. */
  concurrency: number;
  /** Servers claimed per round. */
  batchSize: number;
  /** How long a claim holds before another scheduler may take the server (covers a crash mid-probe). */
  leaseMs: number;
  /**
   * How often the scheduler claims while checks keep coming due; a claim takes at most what the
   * pace allows in that time. Short, so that the checks start in small claims spread over each
   * second: bursts of probes (and of the servers' answers) are what the API feels.
   */
  idleMs: number;
  /**
   * Probes started per second at most; null derives it from the fleet (a quarter above the rate
   * its intervals ask for, at least MIN_RATE), so that catching up drains at a bounded pace.
   */
  maxRate: number | null;
  /** Readies what the checks run on (the probe thread) before the first claim. */
  warmUp?: () => Promise<void>;
  random?: () => number;
}

/** How long a claim holds: three probe timeouts, so only a scheduler that died leaves its checks. */
export const leaseMsOf = (config: Pick<Config, "probe">) => config.probe.timeoutMs * 3;

/** The least a derived rate allows: a bulk registration into a small fleet still drains quickly. */
export const MIN_RATE = 20;
/**
 * A derived rate over the fleet's own: room for checks asked for at once (a server switched on or
 * edited) and for a second's peak, while a catch-up (every server overdue) costs the API's cores
 * only a quarter more than the steady state. Twice the fleet's rate starved the API on two cores.
 */
export const HEADROOM = 1.25;
/** How often a derived rate follows the fleet's size. */
const RATE_REFRESH_MS = 60_000;
/**
 * How often a scheduler vacuums the queue of due checks: a fleet of 10,000 checked every minute
 * leaves about 10,000 dead versions of its rows there in that time.
 */
export const QUEUE_VACUUM_INTERVAL_MS = 30_000;
/** Pause after a failed round (the database away): its error is logged once a second at most. */
const ERROR_REST_MS = 1_000;
/**
 * Pause once claims have found nothing due several times in a row: an idle fleet is not asked
 * twenty times a second, while a small one whose checks come every few claims keeps the short step.
 */
const QUIET_REST_MS = 250;
export const QUIET_AFTER = 5;

/**
 * Checks written per statement at most (25 take ≈1.3 ms of PostgreSQL's time, 0.05 ms a check
 * where one statement a check took 0.2 ms), and how long a finished check waits for others: long
 * enough that a large fleet's steady state writes full batches (10,000 servers a minute: one every
 * 150 ms, where 50 ms gave a statement of 8 every 50), since each statement costs the event loop
 * that serves the API a round trip; the dashboards hear of a check at most that much later.
 */
export const RECORD_BATCH = 25;
const RECORD_WAIT_MS = 200;

/**
 * When a check's answer came: now, less how long an answer from the probe thread waited for this
 * event loop. A busy loop takes the answers it had queued together; dated when taken, they would
 * read as a burst of checks (and their next slots would be counted from the wait).
 */
function answeredAt(result: ProbeResult, now: Date): Date {
  if (result.answeredAt === undefined) return now;
  const waited = Math.max(0, Date.now() - result.answeredAt);
  return new Date(now.getTime() - waited);
}

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
      try {
        const { publish } = await recordChecks(opts, checks);
        await publish();
      } catch (err) {
        log.error({ err, checks: checks.length }, "could not record checks");
      }
    },
  });

  async function check(server: CheckedServer) {
    try {
      const result = await opts.probe(upstreamTarget(server, opts.secrets));
      const checkedAt = answeredAt(result, opts.clock.now());
      // Which instance checked what: with several schedulers on one database, each check is one's.
      log.debug(
        { serverId: server.id, status: result.status, latencyMs: result.latencyMs },
        "server checked",
      );
      await recorder.add({ server, result, checkedAt });
    } catch (err) {
      log.error({ err, serverId: server.id }, "could not check server");
    }
  }

  const now = () => opts.clock.now().getTime();
  const pace = createTokenBucket(opts.maxRate ?? MIN_RATE, now);
  let paceCheckedAt = Number.NEGATIVE_INFINITY;

  /** Follows the fleet's size with a derived rate, once a minute. */
  async function refreshPace() {
    if (opts.maxRate !== null || now() - paceCheckedAt < RATE_REFRESH_MS) return;
    paceCheckedAt = now();
    try {
      pace.setRate(Math.max(MIN_RATE, HEADROOM * (await fleetCheckRate(opts.db))));
    } catch (err) {
      log.warn({ err }, "could not read the fleet's check rate; keeping the last one");
    }
  }

  /** Claims up to `limit` due servers, as many as the pace allows now (`allowed`). */
  const claim = async (limit: number): Promise<{ due: CheckedServer[]; allowed: number }> => {
    await refreshPace();
    const allowed = Math.min(limit, pace.available());
    if (allowed <= 0) return { due: [], allowed };
    const at = opts.clock.now();
    const due = await claimDueServers(opts.db, at, allowed, new Date(at.getTime() + opts.leaseMs));
    pace.spend(due.length);
    return { due, allowed };
  };

  /** One round: claims what is due now (within the pace), probes it, records it. Returns how many. */
  async function runOnce(): Promise<number> {
    const { due } = await claim(opts.batchSize);
    await forEachPooled(due, opts.concurrency, check);
    return due.length;
  }

  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let stopVacuum: (() => Promise<void>) | null = null;

  /**
   * Keeps up to `concurrency` probes in flight, claiming more as slots free up, so that a few
   * servers hanging until the probe timeout hold only their own slots, never a whole batch.
   */
  async function run() {
    const inFlight = new Set<Promise<void>>();
    // Claims are one statement each: wait for a handful of free slots rather than claim one by one.
    const minClaim = Math.max(1, Math.min(opts.batchSize, Math.floor(opts.concurrency / 10)));
    const rest = (ms: number) =>
      new Promise<void>((done) => {
        wake = done;
        setTimeout(done, ms).unref();
      });
    let empty = 0;
    // A catch-up's first probes would otherwise wait for the probe code to load, and then start
    // together with the loading's CPU: the worst second the API had in a catch-up.
    await opts.warmUp?.().catch((err) => log.warn({ err }, "could not warm up the probes"));
    while (running) {
      const free = opts.concurrency - inFlight.size;
      if (free < minClaim) {
        await Promise.race(inFlight);
        continue;
      }
      // A claim takes what the pace allows in one step (a handful at most, and never more than the
      // bucket holds), and waits for that much: a catch-up's probes start a step at a time.
      const step = Math.max(
        1,
        Math.min(minClaim, Math.floor(pace.rate), Math.floor((pace.rate * opts.idleMs) / 1000)),
      );
      if (pace.available() < step) {
        await rest(pace.waitMs(step));
        continue;
      }
      let round = { due: [] as CheckedServer[], allowed: 0 };
      try {
        round = await claim(Math.min(opts.batchSize, free, step));
      } catch (err) {
        log.error({ err }, "scheduler round failed");
        await rest(Math.max(opts.idleMs, ERROR_REST_MS));
        continue;
      }
      for (const server of round.due) {
        const p: Promise<void> = check(server).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      empty = round.due.length > 0 ? 0 : empty + 1;
      // Fewer were due than allowed: nothing more is. Rest until the next may be, or a stop.
      if (running && round.due.length < round.allowed)
        await rest(empty >= QUIET_AFTER ? Math.max(opts.idleMs, QUIET_REST_MS) : opts.idleMs);
    }
    await Promise.all(inFlight);
  }

  return {
    runOnce,
    /** Probes a second this scheduler starts at most, as it stands now. */
    get rate() {
      return pace.rate;
    },
    start() {
      if (running) return;
      running = true;
      loop = run();
      stopVacuum = repeat({
        name: "check queue vacuum",
        intervalMs: QUEUE_VACUUM_INTERVAL_MS,
        log,
        task: () => vacuumCheckQueue(opts.db),
      });
      log.info(
        { concurrency: opts.concurrency, maxRate: opts.maxRate ?? "derived from the fleet" },
        "health scheduler started",
      );
    },
    /** Stops claiming, and waits for the probes in flight. */
    async stop() {
      running = false;
      wake?.();
      await Promise.all([loop, stopVacuum?.()]);
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
