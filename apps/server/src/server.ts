import { join } from "node:path";
import { buildApp } from "./app";
import type { Config } from "./config";
import { type Database, openDatabase } from "./db/client";
import { migrate } from "./db/migrate";
import { systemClock } from "./lib/clock";
import { scheduleAuditRetention } from "./modules/audit/retention";
import { createScheduler } from "./worker/scheduler";

/** Opens the configured database: PostgreSQL when DATABASE_URL is set, else PGlite under DATA_DIR. */
export function openConfiguredDatabase(config: Config): Promise<Database> {
  return config.databaseUrl
    ? openDatabase({ kind: "postgres", url: config.databaseUrl })
    : openDatabase({ kind: "pglite", dataDir: join(config.dataDir, "pglite") });
}

/**
 * Runs Switchboard: migrate, serve, schedule background jobs. Resolves to a `stop` that stops
 * accepting connections, lets in-flight requests finish, then closes the database.
 */
export async function startServer(config: Config) {
  const database = await openConfiguredDatabase(config);
  const app = await buildApp({ config, db: database.db });
  try {
    const applied = await migrate(database.db);
    if (applied.length) app.log.info({ applied }, "database migrated");
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close();
    await database.close();
    throw err;
  }
  app.log.info({ database: database.kind, url: config.baseUrl }, "Switchboard is up");
  const scheduler = createScheduler({
    ...app.services,
    log: app.log,
    ...config.scheduler,
    leaseMs: config.probe.timeoutMs * 3,
  });
  if (config.scheduler.enabled) scheduler.start();
  const stopRetention = scheduleAuditRetention({
    db: database.db,
    clock: systemClock,
    log: app.log,
    retentionDays: config.audit.retentionDays,
    intervalSeconds: config.audit.purgeIntervalSeconds,
  });

  return {
    app,
    async stop() {
      await scheduler.stop();
      await app.close();
      await stopRetention();
      await database.close();
      app.log.info("shutdown complete");
    },
  };
}
