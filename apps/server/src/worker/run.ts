import pino from "pino";
import { LOG_REDACT } from "../app";
import type { Config } from "../config";
import { migrate } from "../db/migrate";
import { systemClock } from "../lib/clock";
import { openConfiguredDatabase } from "../server";
import { createServices } from "../services";
import { createScheduler } from "./scheduler";

/**
 * `switchboard worker`: the health scheduler alone, without HTTP. Run several beside API
 * instances that set SCHEDULER=off; they share the work through the database.
 */
export async function startWorker(config: Config) {
  const log = pino({ level: config.logLevel, redact: { paths: LOG_REDACT, censor: "[redacted]" } });
  const database = await openConfiguredDatabase(config);
  await migrate(database.db);
  const { services, close } = createServices({ config, db: database.db, clock: systemClock, log });
  const scheduler = createScheduler({
    ...services,
    log,
    ...config.scheduler,
    leaseMs: config.probe.timeoutMs * 3,
  });
  scheduler.start();
  return {
    log,
    async stop() {
      await scheduler.stop();
      await close();
      await database.close();
      log.info("shutdown complete");
    },
  };
}
