import websocket from "@fastify/websocket";
import Fastify, { LogController } from "fastify";
import { validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { Redis } from "ioredis";
import { createAuth } from "./auth/auth";
import { createSessionCache } from "./auth/session-cache";
import type { Config } from "./config";
import type { Db } from "./db/client";
import { type Clock, systemClock } from "./lib/clock";
import type { ServiceDeps } from "./lib/context";
import { auditRoutes } from "./modules/audit/routes";
import type { EventBus } from "./modules/events/bus";
import { eventRoutes } from "./modules/events/routes";
import type { Prober } from "./modules/health/probe";
import { healthRoutes } from "./modules/health/routes";
import { keyRoutes } from "./modules/keys/routes";
import { platformRoutes } from "./modules/platform/routes";
import { serverRoutes } from "./modules/servers/routes";
import { authPlugin } from "./plugins/auth";
import { correlationId, correlationPlugin } from "./plugins/correlation";
import { errorsPlugin } from "./plugins/errors";
import { openapiPlugin } from "./plugins/openapi";
import { createAuthLimiter, mcpRateLimitPlugin } from "./plugins/rate-limit";
import { createMemoryStore, createRedisStore } from "./plugins/rate-limit-store";
import { securityPlugin } from "./plugins/security";
import { serializerCompiler } from "./plugins/serializer";
import { webPlugin } from "./plugins/web";
import { createServices } from "./services";

export const BODY_LIMIT = 1024 * 1024;

/** Paths whose values never reach a log line. */
export const LOG_REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  "headers",
  "*.headers[*].value",
  "key",
  "*.key",
  "token",
  "*.token",
  "password",
  "*.password",
];

export interface AppDeps {
  config: Config;
  db: Db;
  clock?: Clock;
  /** Where log lines go instead of stdout (tests read them back). */
  logStream?: { write(line: string): void };
  /** An event bus to share (tests, several apps in one process); else one from config, closed with the app. */
  events?: EventBus;
  /** A prober to use instead of the real one. */
  probe?: Prober;
}

/** Builds the whole HTTP application without listening, so tests can `inject` into it. */
export async function buildApp({ config, db, clock = systemClock, logStream, events, probe }: AppDeps) {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    genReqId: correlationId,
    logController: new LogController({ requestIdLogLabel: "correlationId" }),
    logger: {
      level: config.logLevel,
      redact: { paths: LOG_REDACT, censor: "[redacted]" },
      ...(logStream ? { stream: logStream } : {}),
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON is the only body the API speaks; anything else is a 415.
  app.removeContentTypeParser(["text/plain"]);

  const sessions = createSessionCache({
    ttlMs: config.session.cacheSeconds * 1000,
    now: () => clock.now().getTime(),
  });
  const auth = createAuth({ db, config, log: app.log, sessions });
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 500,
        lazyConnect: false,
      })
    : null;
  if (redis) {
    redis.on("error", () => {}); // the store logs what matters, once per outage
    app.addHook("onClose", async () => {
      redis.disconnect();
    });
  }
  const limitStore = redis
    ? createRedisStore({ redis, prefix: config.redisPrefix, log: app.log })
    : createMemoryStore();
  await app.register(correlationPlugin);
  await app.register(errorsPlugin);
  await app.register(securityPlugin, { baseUrl: config.baseUrl, corsOrigins: config.corsOrigins });
  await app.register(openapiPlugin);
  await app.register(authPlugin, {
    auth,
    db,
    clock,
    sessions,
    limiter: createAuthLimiter(limitStore, config.rateLimits),
  });
  await app.register(platformRoutes, { db });
  await app.register(webPlugin, { dist: config.webDist });

  const { services, close } = createServices({ config, db, clock, log: app.log, events, probe });
  app.addHook("onClose", close);

  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(
    async (mcp) => {
      mcp.addHook("onRequest", app.authenticate);
      await mcp.register(mcpRateLimitPlugin, { limits: config.rateLimits, store: limitStore });
      await mcp.register(serverRoutes, services);
      await mcp.register(keyRoutes, services);
      await mcp.register(healthRoutes, services);
      await mcp.register(auditRoutes, services);
      await mcp.register(eventRoutes, {
        events: services.events,
        heartbeatSeconds: config.eventsHeartbeatSeconds,
      });
    },
    { prefix: "/mcp" },
  );

  app.decorate("auth", auth);
  app.decorate("services", services);
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;

declare module "fastify" {
  interface FastifyInstance {
    auth: ReturnType<typeof createAuth>;
    /** The effects services run with, for the scheduler that shares them. */
    services: ServiceDeps;
  }
}
