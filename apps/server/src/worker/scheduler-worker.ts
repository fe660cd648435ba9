import { parentPort, workerData } from "node:worker_threads";
import { openDatabase, poolStatsOf } from "../db/client";
import type { EventBus } from "../lib/bus";
import { systemClock } from "../lib/clock";
import { createLogger } from "../lib/log";
import { type Metrics, noMetrics } from "../lib/metrics";
import { createSecretBox } from "../lib/secrets";
import { lowerThreadPriority } from "../lib/thread-priority";
import { noTracing } from "../lib/tracing";
import { instrumentProber } from "../modules/health/instrumented";
import { createProber } from "../modules/health/probe";
import { PROBE_THREAD_NICE } from "../modules/health/probe-thread";
import { createUpstreamDispatcher } from "../modules/upstream/dispatcher";
import { createScheduler, leaseMsOf } from "./scheduler";
import type { SchedulerThreadCommand, SchedulerThreadData, SchedulerThreadMessage } from "./scheduler-thread";

/**
 * The scheduler's thread (see scheduler-thread.ts): the scheduler as `worker` runs it, on a pool,
 * a dispatcher and a secret box of its own, telling the process what it would have done there.
 */
const data = workerData as SchedulerThreadData;
// A Buffer crosses into a thread as a plain Uint8Array.
const config = { ...data.config, secretsKey: Buffer.from(data.config.secretsKey) };
const post = (message: SchedulerThreadMessage) => parentPort?.postMessage(message);

// Checks are background work: on a busy machine the threads serving requests go first.
lowerThreadPriority(PROBE_THREAD_NICE);

const log = createLogger(config, { write: (line) => post({ type: "log", line }) });
const database = await openDatabase({
  kind: "postgres",
  url: data.databaseUrl,
  poolSize: config.scheduler.poolSize,
  poolIdleSeconds: config.databasePool.idleSeconds,
});
const dispatcher = createUpstreamDispatcher({ allowPrivate: config.probe.allowPrivate });
const bus: EventBus = {
  publish: async (event) => post({ type: "event", event }),
  subscribe: () => () => {},
  close: async () => {},
};
const metrics: Metrics = {
  ...noMetrics,
  probe: (status, reason, seconds) => post({ type: "probe", status, reason, seconds }),
  probesInFlight: (delta) => post({ type: "inFlight", delta }),
};
const scheduler = createScheduler({
  ...config.scheduler,
  db: database.db,
  clock: systemClock,
  bus,
  log,
  secrets: createSecretBox(config.secretsKey),
  probe: instrumentProber(
    createProber({
      timeoutMs: config.probe.timeoutMs,
      degradedMs: config.probe.degradedMs,
      maxBodyBytes: config.probe.maxBodyBytes,
      dispatcher,
    }),
    { metrics, tracing: noTracing },
  ),
  leaseMs: leaseMsOf(config),
});

// The process's metrics read the pool as the thread last told it: once a second.
const poolStats = poolStatsOf(database);
const tellPool = () => poolStats && post({ type: "pool", stats: poolStats() });
tellPool();
const reportPool = setInterval(tellPool, 1_000);

parentPort?.on("message", async (command: SchedulerThreadCommand) => {
  if (command.type !== "stop") return;
  clearInterval(reportPool);
  await scheduler.stop();
  await Promise.allSettled([database.close(), dispatcher.close()]);
  post({ type: "stopped" });
});
scheduler.start();
