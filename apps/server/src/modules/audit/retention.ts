import type { FastifyBaseLogger } from "fastify";
import type { Db } from "../../db/client";
import type { Clock } from "../../lib/clock";
import { purgeExpiredAuditLogs } from "./service";

/**
 * Runs the audit retention purge now and then every `intervalSeconds`. Returns a function that
 * stops the schedule and waits for a purge in progress.
 */
export function scheduleAuditRetention(opts: {
  db: Db;
  clock: Clock;
  log: FastifyBaseLogger;
  retentionDays: number;
  intervalSeconds: number;
}): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = purgeExpiredAuditLogs(opts).then(
      (n) => {
        if (n > 0) opts.log.info({ purged: n, retentionDays: opts.retentionDays }, "audit retention purge");
      },
      (err: unknown) => opts.log.error({ err }, "audit retention purge failed"),
    );
  };
  run();
  const timer = setInterval(run, opts.intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
