import cluster, { type Worker } from "node:cluster";
import type { Config } from "./config";
import { migrate } from "./db/migrate";
import { createJobs } from "./jobs";
import type { Logger } from "./lib/log";
import { type Metrics, mergeSeries, type Series } from "./lib/metrics";
import { createRuntime } from "./runtime";
import { announceUrl, startMetrics, startServer } from "./server";

/** A worker that dies this soon after it started is not restarted: it would only die again. */
const CRASH_LOOP_MS = 5_000;
/** How long a scrape waits for a worker's series; one that is late is left out of that scrape. */
const WORKER_SERIES_MS = 3_000;

type SeriesRequest = { type: "switchboard:series"; id: number };
type SeriesAnswer = { type: "switchboard:series"; id: number; series: Series };
let requests = 0;

/** Asks one worker for its series over IPC; null when it does not answer in time. */
function seriesOf(worker: Worker): Promise<Series | null> {
  const id = ++requests;
  return new Promise((resolve) => {
    const done = (series: Series | null) => {
      clearTimeout(timer);
      worker.off("message", answer);
      resolve(series);
    };
    const answer = (m: SeriesAnswer) => {
      if (m?.type === "switchboard:series" && m.id === id) done(m.series);
    };
    const timer = setTimeout(() => done(null), WORKER_SERIES_MS);
    worker.on("message", answer);
    worker.send({ type: "switchboard:series", id } satisfies SeriesRequest, (err) => err && done(null));
  });
}

/** The primary's scrape: its own series (the scheduler's among them) merged with every worker's. */
function clusterScrape(own: Metrics, workers: () => Worker[], log: Logger): Pick<Metrics, "scrape"> {
  return {
    async scrape() {
      const live = workers().filter((w) => w.isConnected());
      const parts = await Promise.all([own.series(), ...live.map(seriesOf)]);
      const missing = parts.filter((p) => p === null).length;
      if (missing) log.warn({ missing }, "metrics: some API workers did not send their series in time");
      return mergeSeries(parts.filter((p): p is Series => p !== null));
    },
  };
}

/**
 * `start` with WEB_CONCURRENCY > 1: this process migrates the database, forks that many API worker
 * processes (they share the port through node:cluster and run no jobs), runs the jobs itself —
 * the scheduler once per instance, not once per worker — serves /metrics for all of them, and
 * restarts a worker that dies. Stopping stops the jobs, then asks each worker to finish its
 * requests and exit.
 */
export async function startCluster(config: Config) {
  const runtime = await createRuntime(config);
  const applied = await migrate(runtime.db);
  if (applied.length) runtime.log.info({ applied }, "database migrated");

  let stopping = false;
  const started = new Map<Worker, number>();
  const fork = () => started.set(cluster.fork(), Date.now());
  cluster.on("exit", (worker, code, signal) => {
    const since = started.get(worker) ?? 0;
    started.delete(worker);
    if (stopping) return;
    const quick = Date.now() - since < CRASH_LOOP_MS;
    runtime.log.error({ pid: worker.process.pid, code, signal, restarting: !quick }, "API worker exited");
    if (!quick) fork();
  });
  for (let i = 0; i < config.webConcurrency; i++) fork();

  const jobs = createJobs(runtime, { scheduler: config.scheduler.enabled });
  jobs.start();
  const metricsServer = await startMetrics(
    runtime,
    clusterScrape(runtime.metrics, () => [...started.keys()], runtime.log),
  );
  runtime.log.info({ workers: config.webConcurrency, url: config.baseUrl }, "Switchboard is up");
  announceUrl(runtime);

  return {
    runtime,
    async stop() {
      stopping = true;
      await jobs.stop();
      const workers = [...started.keys()];
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((done) => {
              w.once("exit", () => done());
              // A Ctrl-C reaches the workers too: one may have finished already.
              if (w.isDead()) done();
              else w.process.kill("SIGTERM");
            }),
        ),
      );
      await metricsServer?.close();
      await runtime.close();
      runtime.log.info("shutdown complete");
    },
  };
}

/**
 * An API worker of a cluster: serves HTTP only; the primary migrated, runs the jobs and serves
 * /metrics, asking each worker for its series.
 */
export async function startClusterWorker(config: Config) {
  const server = await startServer(
    config,
    {},
    // The primary runs the jobs and serves /metrics for all, and says where to open the dashboard, once.
    { migrate: false, serveMetrics: false, jobs: false, announce: false },
  );
  process.on("message", (m: SeriesRequest) => {
    if (m?.type !== "switchboard:series") return;
    server.runtime.metrics.series().then(
      (series) => process.send?.({ type: "switchboard:series", id: m.id, series } satisfies SeriesAnswer),
      (err: unknown) => server.runtime.log.warn({ err }, "metrics: could not read this worker's series"),
    );
  });
  return server;
}

export const isClusterWorker = () => cluster.isWorker;
