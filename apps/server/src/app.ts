import websocket from "@fastify/websocket";
import Fastify, { LogController } from "fastify";
import { validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import { auditRoutes } from "./modules/audit/routes";
import { authRoutes } from "./modules/auth/routes";
import { eventRoutes } from "./modules/events/routes";
import { createGateway } from "./modules/gateway/proxy";
import { gatewayRoutes } from "./modules/gateway/routes";
import { healthRoutes } from "./modules/health/routes";
import { keyRoutes } from "./modules/keys/routes";
import { platformRoutes } from "./modules/platform/routes";
import { catalogRoutes } from "./modules/registry/catalog-routes";
import { registryRoutes } from "./modules/registry/routes";
import { serverRoutes } from "./modules/servers/routes";
import { usageRoutes } from "./modules/usage/routes";
import { authenticatePlugin } from "./plugins/authenticate";
import { correlationId, correlationPlugin } from "./plugins/correlation";
import { errorsPlugin, frameworkError } from "./plugins/errors";
import { openapiPlugin } from "./plugins/openapi";
import { createAuthLimiter, ipRateLimitPlugin, mcpRateLimitPlugin } from "./plugins/rate-limit";
import { securityPlugin } from "./plugins/security";
import { serializerCompiler } from "./plugins/serializer";
import { telemetryPlugin } from "./plugins/telemetry";
import { webPlugin } from "./plugins/web";
import type { Runtime } from "./runtime";

export const BODY_LIMIT = 1024 * 1024;
/**
 * The longest path segment routed (find-my-way's default is 100): the catalog's paths carry a
 * registry name (up to 200 characters) and a version (up to 255, each up to 3 bytes of UTF-8,
 * each byte 3 characters percent-encoded: 2,295).
 */
export const MAX_PARAM_LENGTH = 2_400;

/**
 * Builds the whole HTTP application on a runtime, without listening, so tests can `inject` into
 * it. The app owns nothing: closing it leaves the runtime's effects to `runtime.close()`.
 */
export async function buildApp(runtime: Runtime) {
  const { config, db, clock, bus } = runtime;
  const { http } = config;
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Paths refused before routing (bad percent-encoding, a segment too long) as problem+json too.
    frameworkErrors: frameworkError,
    // The client's address (request.ip: audit rows, rate limits) comes from X-Forwarded-For only
    // when TRUST_PROXY says which proxies set it.
    trustProxy: config.trustProxy,
    // A request must arrive whole in time, so that slow or endless bodies hold nothing for long.
    // Node's requestTimeout bounds receiving the request only: long answers (the gateway's
    // streams, the events socket) are not cut by it.
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    connectionTimeout: http.connectionTimeoutMs,
    http: {
      headersTimeout: http.headersTimeoutMs,
      // How often Node looks for requests past their time (30 s by default, longer than the limits).
      connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(http.headersTimeoutMs / 4))),
    },
    // Served while stopping, with `Connection: close` (below): Fastify's own 503 is not problem+json.
    return503OnClosing: false,
    genReqId: correlationId,
    logController: new LogController({ requestIdLogLabel: "correlationId" }),
    loggerInstance: runtime.log,
  }).withTypeProvider<ZodTypeProvider>();
  // A graceful stop waits for the requests in flight, then for their connections to close. Each
  // answer given while stopping says `Connection: close`, or its keep-alive connection would hold
  // the stop open until the client left or the keep-alive timeout ran out (72 s by default, past
  // the 15 s a stop is given). Fastify says so itself for requests that arrive while it stops, and
  // these are served (the database closes after the server), not refused with its own 503 body.
  let stopping = false;
  app.addHook("preClose", async () => {
    stopping = true;
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (stopping) reply.header("connection", "close");
    done(null, payload);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON is the only body the API speaks; anything else is a 415.
  app.removeContentTypeParser(["text/plain"]);

  await app.register(telemetryPlugin, { metrics: runtime.metrics, tracing: runtime.tracing });
  await app.register(correlationPlugin);
  await app.register(errorsPlugin);
  await app.register(securityPlugin, {
    baseUrl: config.baseUrl,
    corsOrigins: config.trustedOrigins,
    gatewayCorsOrigins: config.gateway.corsOrigins,
  });
  await app.register(openapiPlugin);
  await app.register(authRoutes, {
    auth: runtime.auth,
    sessions: runtime.sessions,
    limiter: createAuthLimiter(runtime.authLimitStore, config.rateLimits, runtime.metrics),
    db,
    bus,
    baseUrl: config.baseUrl,
    trustedOrigins: config.trustedOrigins,
  });
  await app.register(authenticatePlugin, {
    resolveSession: runtime.resolveSession,
    verifyKey: runtime.keys.verify,
  });
  await app.register(platformRoutes, { db });
  await app.register(webPlugin, { dist: config.webDist });

  await app.register(gatewayRoutes, {
    maxBodyBytes: config.gateway.maxBodyBytes,
    handle: createGateway({
      resolver: runtime.gateway,
      secrets: runtime.secrets,
      dispatcher: runtime.gatewayDispatcher,
      limitStore: runtime.limitStore,
      bus,
      log: runtime.log.child({ component: "gateway" }),
      options: { ...config.gateway, ratePerMinute: config.rateLimits.gateway },
      metrics: runtime.metrics,
      tracing: runtime.tracing,
      usage: runtime.usage,
    }),
  });

  await app.register(async (catalog) => {
    await catalog.register(ipRateLimitPlugin, {
      max: config.rateLimits.catalogPerIp,
      prefix: "catalog-ip",
      store: runtime.limitStore,
    });
    await catalog.register(catalogRoutes, {
      db,
      baseUrl: config.baseUrl,
      resolveSession: runtime.resolveSession,
      verifyKey: runtime.keys.verify,
    });
  });

  const core = { db, clock, bus };
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(
    async (mcp) => {
      mcp.addHook("onRequest", app.authenticate);
      await mcp.register(mcpRateLimitPlugin, {
        limits: config.rateLimits,
        store: runtime.limitStore,
        metrics: runtime.metrics,
      });
      await mcp.register(serverRoutes, {
        ...core,
        secrets: runtime.secrets,
        guardTarget: runtime.guardTarget,
        serverTotals: runtime.serverTotals,
        serverSummaries: runtime.serverSummaries,
      });
      await mcp.register(registryRoutes, {
        ...core,
        secrets: runtime.secrets,
        guardTarget: runtime.guardTarget,
        serverTotals: runtime.serverTotals,
        serverSummaries: runtime.serverSummaries,
        dispatcher: runtime.dispatcher,
        registryFetch: config.registryImport,
        baseUrl: config.baseUrl,
      });
      await mcp.register(keyRoutes, core);
      await mcp.register(healthRoutes, { ...core, probe: runtime.probe, secrets: runtime.secrets });
      await mcp.register(auditRoutes, core);
      await mcp.register(usageRoutes, core);
      await mcp.register(eventRoutes, {
        bus,
        resolveSession: runtime.resolveSession,
        heartbeatSeconds: config.eventsHeartbeatSeconds,
        maxSocketsPerUser: config.eventsMaxSocketsPerUser,
        metrics: runtime.metrics,
      });
    },
    { prefix: "/mcp" },
  );
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
