import { buildApp } from "./app";
import type { Config } from "./config";
import { migrate } from "./db/migrate";
import { createJobs } from "./jobs";
import { type Metrics, type MetricsServer, serveMetrics } from "./lib/metrics";
import { createRuntime, type Runtime, type RuntimeOverrides } from "./runtime";

/**
 * Runs Switchboard: migrate, serve, run the jobs. Resolves to a `stop` that stops the jobs, stops
 * accepting connections, lets in-flight requests finish, then closes every effect. A cluster's
 * worker neither migrates, serves metrics, runs the jobs nor says where to open the dashboard: its
 * primary does.
 */
export async function startServer(
  config: Config,
  overrides: RuntimeOverrides = {},
  { migrate: migrating = true, serveMetrics: serving = true, jobs: running = true, announce = true } = {},
) {
  const runtime = await createRuntime(config, overrides);
  const app = await buildApp(runtime);
  let metricsServer: MetricsServer | null = null;
  try {
    const applied = migrating ? await migrate(runtime.db) : [];
    if (applied.length) runtime.log.info({ applied }, "database migrated");
    await app.listen({ host: config.host, port: config.port });
    metricsServer = serving ? await startMetrics(runtime) : null;
  } catch (err) {
    await app.close();
    await runtime.close();
    throw err;
  }
  runtime.log.info({ database: runtime.database.kind, url: config.baseUrl }, "Switchboard is up");
  if (announce) announceUrl(runtime);
  const jobs = running ? createJobs(runtime, { scheduler: config.scheduler.enabled }) : null;
  jobs?.start();

  return {
    app,
    runtime,
    metricsUrl: metricsServer?.url ?? null,
    async stop() {
      await jobs?.stop();
      await app.close();
      await metricsServer?.close();
      await runtime.close();
      runtime.log.info("shutdown complete");
    },
  };
}

/**
 * The line a person who ran `npm start` looks for: where to open the dashboard. BASE_URL is the
 * one address sign-in trusts for sure (unset, it is localhost, whose loopback names work too).
 */
export function announceUrl(runtime: Runtime) {
  const url = runtime.config.baseUrl;
  runtime.log.info({ url }, `Switchboard is running: open ${url}`);
}

/**
 * Serves /metrics on METRICS_HOST:METRICS_PORT, unless METRICS_PORT=0 turned metrics off: the
 * runtime's own, or what `source` scrapes (a cluster's primary merges its workers' in).
 */
export async function startMetrics(
  runtime: Runtime,
  source: Pick<Metrics, "scrape"> = runtime.metrics,
): Promise<MetricsServer | null> {
  const { metrics: settings } = runtime.config;
  if (!settings.enabled || !runtime.metrics.enabled) return null;
  try {
    const server = await serveMetrics(source, {
      host: settings.host,
      port: settings.port,
      log: runtime.log,
    });
    runtime.log.info({ url: server.url }, "metrics served");
    return server;
  } catch (err) {
    throw new Error(
      `Could not serve metrics on ${settings.host}:${settings.port} (METRICS_HOST, METRICS_PORT; 0 turns them off): ${(err as Error).message}`,
    );
  }
}
