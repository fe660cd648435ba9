import type { FastifyBaseLogger } from "fastify";
import type { Config } from "./config";
import type { Db } from "./db/client";
import type { Clock } from "./lib/clock";
import type { ServiceDeps } from "./lib/context";
import { createSecretBox } from "./lib/secrets";
import { createMemoryBus, createRedisBus, type EventBus } from "./modules/events/bus";
import { createProber, type Prober } from "./modules/health/probe";
import { assertAllowedTarget } from "./modules/health/ssrf";
import { createServerTotals } from "./modules/servers/totals";

/**
 * The effects every service verb and the scheduler run with, built from config. Whatever is
 * passed in is shared and left open; whatever is built here is closed by `close`.
 */
export function createServices(opts: {
  config: Config;
  db: Db;
  clock: Clock;
  log: FastifyBaseLogger;
  events?: EventBus | undefined;
  probe?: Prober | undefined;
}): { services: ServiceDeps; close: () => Promise<void> } {
  const { config } = opts;
  const events =
    opts.events ??
    (config.redisUrl
      ? createRedisBus({ url: config.redisUrl, prefix: config.redisPrefix, log: opts.log })
      : createMemoryBus());
  const serverTotals = createServerTotals({ events, ttlMs: config.listTotalsCacheSeconds * 1000 });
  return {
    services: {
      db: opts.db,
      clock: opts.clock,
      secrets: createSecretBox(config.secretsKey),
      events,
      probe: opts.probe ?? createProber(config.probe),
      guardTarget: (url) => assertAllowedTarget(url, { allowPrivate: config.probe.allowPrivate }),
      serverTotals,
    },
    close: async () => {
      serverTotals.close();
      if (!opts.events) await events.close();
    },
  };
}
