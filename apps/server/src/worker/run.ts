import type { Config } from "../config";
import { migrate } from "../db/migrate";
import { createJobs } from "../jobs";
import { createRuntime } from "../runtime";
import { startMetrics } from "../server";

/**
 * `switchboard worker`: the health scheduler and the retention purges, without HTTP. Run several
 * beside API instances that set SCHEDULER=off; they share the work through the database.
 */
export async function startWorker(config: Config) {
  const runtime = await createRuntime(config);
  let metricsServer: Awaited<ReturnType<typeof startMetrics>> = null;
  try {
    await migrate(runtime.db);
    metricsServer = await startMetrics(runtime);
  } catch (err) {
    await runtime.close();
    throw err;
  }
  const jobs = createJobs(runtime, { scheduler: true });
  jobs.start();
  return {
    runtime,
    metricsUrl: metricsServer?.url ?? null,
    async stop() {
      await jobs.stop();
      await metricsServer?.close();
      await runtime.close();
      runtime.log.info("shutdown complete");
    },
  };
}
