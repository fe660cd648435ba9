import { Worker } from "node:worker_threads";
import type { Config } from "../config";
import type { EventBus, InternalEvent } from "../lib/bus";
import type { Logger } from "../lib/log";
import type { Metrics } from "../lib/metrics";

/** What the scheduler's thread is built with: plain data, since a thread shares no objects. */
export interface SchedulerThreadData {
  config: Config;
  databaseUrl: string;
}

/** The scheduler's pool, as the API's metrics report it. */
export type PoolStats = { max: number; size: number; idle: number; waiting: number };

/** What the thread tells the process: all that the scheduler would have done on this event loop. */
export type SchedulerThreadMessage =
  | { type: "event"; event: InternalEvent }
  | { type: "probe"; status: string; reason: string | null; seconds: number }
  | { type: "inFlight"; delta: 1 | -1 }
  | { type: "log"; line: string }
  | { type: "pool"; stats: PoolStats }
  | { type: "stopped" };

/** What the process tells the thread. */
export type SchedulerThreadCommand = { type: "stop" };

/** How long a stop waits for the checks in flight to be recorded before the thread is ended. */
const STOP_WAIT_MS = 12_000;
/** Pause before a thread that died is started again. */
const RESTART_MS = 1_000;

// `import.meta` is read whole, not as `import.meta.url`: scripts/build.mjs rewrites the latter to
// each module's source location, and the thread's entry must be found beside the running bundle.
const meta = import.meta;
const fromSource = meta.url.endsWith(".ts");
const ENTRY = new URL(fromSource ? "./scheduler-worker.dev.mjs" : "./scheduler-worker.js", meta.url);

export interface SchedulerThreadDeps {
  config: Config;
  databaseUrl: string;
  bus: EventBus;
  metrics: Metrics;
  log: Logger;
  /** Where the thread's log lines go: the process's own log destination. */
  logDestination: { write(line: string): void };
  /** The thread's module: the scheduler's own unless a test brings one. */
  entry?: URL;
}

export interface SchedulerThread {
  start(): void;
  /** Stops claiming, and waits for the thread to record its checks in flight and close its pool. */
  stop(): Promise<void>;
  /** Whether the thread runs, and the events it has sent: what a test or an operator can check. */
  stats(): { running: boolean; events: number };
  /** The thread's pool, as it last reported it (null before it has). */
  poolStats(): PoolStats | null;
}

/**
 * The health scheduler in a worker thread of its own, on PostgreSQL: claims, probes and records
 * run there with a pool of their own (SCHEDULER_POOL_SIZE), so that the event loop serving the API
 * and the gateway spends nothing on checks. What the scheduler would have done on this loop comes
 * back as messages: its events are published on this process's bus (dashboards, other instances),
 * its probes counted in this process's metrics, its log lines written where this process's go.
 * Should the thread die, its claimed checks are taken again once their leases run out, and a new
 * thread starts a second later.
 */
export function createSchedulerThread(deps: SchedulerThreadDeps): SchedulerThread {
  const log = deps.log.child({ component: "scheduler" });
  let worker: Worker | null = null;
  let running = false;
  let events = 0;
  let pool: PoolStats | null = null;
  let stopped: (() => void) | null = null;

  const spawn = () => {
    const data: SchedulerThreadData = { config: deps.config, databaseUrl: deps.databaseUrl };
    const w = new Worker(deps.entry ?? ENTRY, { workerData: data, name: "switchboard-scheduler" });
    // Probes this thread said it began and has not said it ended: a thread that dies leaves none.
    let inFlight = 0;
    w.on("message", (message: SchedulerThreadMessage) => {
      switch (message.type) {
        case "event":
          events++;
          deps.bus
            .publish(message.event)
            .catch((err: unknown) => log.warn({ err }, "could not publish a check's event"));
          return;
        case "probe":
          return deps.metrics.probe(message.status, message.reason, message.seconds);
        case "inFlight":
          inFlight += message.delta;
          return deps.metrics.probesInFlight(message.delta);
        case "log":
          return deps.logDestination.write(message.line);
        case "pool":
          pool = message.stats;
          return;
        case "stopped":
          return stopped?.();
      }
    });
    w.on("error", (err) => log.error({ err }, "the scheduler's thread failed"));
    w.on("exit", (code) => {
      for (; inFlight > 0; inFlight--) deps.metrics.probesInFlight(-1);
      if (worker !== w) return;
      worker = null;
      pool = null;
      stopped?.();
      if (!running) return;
      log.error({ code }, "the scheduler's thread exited; a new one starts in a second");
      setTimeout(() => {
        if (running && !worker) worker = spawn();
      }, RESTART_MS).unref();
    });
    return w;
  };

  return {
    start() {
      if (running) return;
      running = true;
      worker ??= spawn();
      log.info("health scheduler started in a thread of its own");
    },
    async stop() {
      running = false;
      const w = worker;
      if (!w) return;
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
        setTimeout(resolve, STOP_WAIT_MS).unref();
      });
      w.postMessage({ type: "stop" } satisfies SchedulerThreadCommand);
      await done;
      stopped = null;
      worker = null;
      pool = null;
      await w.terminate();
    },
    stats: () => ({ running: worker !== null, events }),
    poolStats: () => pool,
  };
}
