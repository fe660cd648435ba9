import { join } from "node:path";
import { Redis } from "ioredis";
import pino from "pino";
import type { Dispatcher } from "undici";
import type { Config } from "./config";
import { type Database, type Db, openDatabase, poolStatsOf } from "./db/client";
import { traceDatabase } from "./db/tracing";
import { createMemoryBus, createRedisBus, type EventBus } from "./lib/bus";
import { type Clock, systemClock } from "./lib/clock";
import { PRIVATE_UMASK, secureDataDir } from "./lib/data-dir";
import { createLogger, type Logger } from "./lib/log";
import { createMailer, type Mailer } from "./lib/mailer";
import { createMetrics, MAX_DOWN_SERIES, type Metrics, noMetrics } from "./lib/metrics";
import type { ResolveSession } from "./lib/principal";
import { createSecretBox, type SecretBox } from "./lib/secrets";
import { noTracing, startTracing, type Tracing } from "./lib/tracing";
import { type Auth, createAuth } from "./modules/auth/better-auth";
import { createSessionCache, type SessionCache } from "./modules/auth/session-cache";
import { createSessionResolver } from "./modules/auth/sessions";
import { createGatewayResolver, type GatewayResolver } from "./modules/gateway/service";
import { instrumentProber } from "./modules/health/instrumented";
import { createProber, type Prober } from "./modules/health/probe";
import { createThreadProber, type ThreadProber } from "./modules/health/probe-thread";
import { readFleet } from "./modules/health/service";
import { createKeyVerifier, type KeyVerifier } from "./modules/keys/verify";
import { createServerSummaries, type ServerSummaries } from "./modules/servers/summaries";
import { createServerTotals, type ServerTotals } from "./modules/servers/totals";
import { createUpstreamDispatcher } from "./modules/upstream/dispatcher";
import { createTargetGuard, type GuardTarget } from "./modules/upstream/target";
import { createUsageRecorder, type UsageRecorder } from "./modules/usage/service";
import { createMemoryStore, createRedisStore, type RateLimitStore } from "./plugins/rate-limit-store";
import { createSchedulerThread, type SchedulerThread } from "./worker/scheduler-thread";

/** Every effect Switchboard runs with, built once from its configuration. */
export interface Runtime {
  config: Config;
  log: Logger;
  /** Where `log`'s lines go: the scheduler's thread sends its own lines here too. */
  logDestination: { write(line: string): void };
  clock: Clock;
  database: Database;
  db: Db;
  /**
   * The health scheduler's connections: on PostgreSQL a small pool of its own (SCHEDULER_POOL_SIZE,
   * opened only once the scheduler queries), so that a burst of claims and recorded checks never
   * leaves a request waiting for a connection; embedded PGlite has one connection, `db`.
   */
  schedulerDb: Db;
  /** Shared by the rate limiter when REDIS_URL is set (the bus keeps connections of its own). */
  redis: Redis | null;
  bus: EventBus;
  /** Counts of authenticated callers: users and keys on /mcp, keys on the gateway. */
  limitStore: RateLimitStore;
  /**
   * Counts of sign-in and sign-up attempts, by address and email, apart from `limitStore`: anyone
   * can make new keys here, and filling this store must not cost an authenticated caller a count.
   */
  authLimitStore: RateLimitStore;
  sessions: SessionCache;
  mailer: Mailer;
  auth: Auth;
  resolveSession: ResolveSession;
  keys: KeyVerifier;
  secrets: SecretBox;
  /** The SSRF-guarded way out to MCP servers, for probes. */
  dispatcher: Dispatcher;
  /** The same guard, with connections kept open longer, for the gateway's traffic. */
  gatewayDispatcher: Dispatcher;
  gateway: GatewayResolver;
  guardTarget: GuardTarget;
  /**
   * Probes someone asked for (a check now, a test of a connection), on this event loop; every probe
   * is counted in the metrics and, with tracing on, is a span.
   */
  probe: Prober;
  /** The scheduler's probes: in a worker thread of their own unless SCHEDULER_PROBE_THREAD=off. */
  scheduledProbe: Prober;
  /** That thread, when the scheduler's probes run in one. */
  probeThread: ThreadProber | null;
  /**
   * The whole health scheduler in a thread of its own, with its own pool (SCHEDULER_THREAD, on
   * PostgreSQL): null on PGlite (one connection, in this thread), with tracing on (its spans are
   * this process's), or where a test brings a probe, clock, secrets or dispatcher of its own.
   */
  schedulerThread: SchedulerThread | null;
  serverTotals: ServerTotals;
  serverSummaries: ServerSummaries;
  /** Prometheus metrics; `noMetrics` with METRICS_PORT=0. */
  metrics: Metrics;
  /** OpenTelemetry traces; `noTracing` unless an OTLP endpoint is set. */
  tracing: Tracing;
  /** Gateway calls counted per server, key and minute. */
  usage: UsageRecorder;
  /** Closes what this runtime built, in order; what was passed in is left open. */
  close(): Promise<void>;
}

/**
 * Effects a test (or the benchmark) brings instead of the ones config would build. What is
 * passed in is used wherever config would have built its own, and left open by `close()`.
 */
export interface RuntimeOverrides {
  database?: Database;
  clock?: Clock;
  bus?: EventBus;
  probe?: Prober;
  /** The connection the rate-limit stores use, as if REDIS_URL were set (the bus has its own). */
  redis?: Redis;
  mailer?: Mailer;
  secrets?: SecretBox;
  /** The way out to MCP servers for probes (the prober config builds uses it). */
  dispatcher?: Dispatcher;
  /** The way out to MCP servers for the gateway's traffic. */
  gatewayDispatcher?: Dispatcher;
  /** Metrics a test reads back (or `noMetrics`), instead of what METRICS_PORT says. */
  metrics?: Metrics;
  /** Tracing a test records in memory, instead of what OTEL_* says. */
  tracing?: Tracing;
  /** Where log lines go instead of stdout (tests read them back). */
  logStream?: { write(line: string): void };
}

/**
 * Opens the configured database: PostgreSQL when DATABASE_URL is set, else PGlite under DATA_DIR.
 * DATA_DIR (the embedded database, generated secrets) is this user's alone: the umask is set so
 * that what the process creates is, and what is already there is made so, with a warning.
 */
export async function openConfiguredDatabase(config: Config, log?: Logger): Promise<Database> {
  process.umask(PRIVATE_UMASK);
  const loose = secureDataDir(config.dataDir);
  if (loose.directories || loose.files) {
    log?.warn(
      { dataDir: config.dataDir, directories: loose.directories, files: loose.files },
      "DATA_DIR was open to other users: its directories are now 0700 and its files 0600",
    );
  }
  if (loose.failed.length) {
    log?.warn(
      { dataDir: config.dataDir, paths: loose.failed.slice(0, 20) },
      "could not make these DATA_DIR entries private (not this user's?)",
    );
  }
  if (config.databaseUrl)
    return openDatabase({
      kind: "postgres",
      url: config.databaseUrl,
      poolSize: config.databasePool.size,
      poolIdleSeconds: config.databasePool.idleSeconds,
    });
  const database = await openDatabase({ kind: "pglite", dataDir: join(config.dataDir, "pglite") });
  // PGlite unpacks a new database's files 0666 whatever the umask (and writes a few 0644 at
  // every start): make them private now, and again once it has closed.
  secureDataDir(config.dataDir);
  return {
    ...database,
    close: async () => {
      await database.close();
      secureDataDir(config.dataDir);
    },
  };
}

/**
 * The one composition root: builds every effect Switchboard runs with, once. `buildApp` serves
 * HTTP with it and the jobs (scheduler, retention) run on it; `close` stops them in order.
 */
export async function createRuntime(config: Config, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const logDestination = overrides.logStream ?? pino.destination(1);
  const log = createLogger(config, logDestination);
  const clock = overrides.clock ?? systemClock;
  const closers: (() => Promise<void> | void)[] = [];

  // First built, last closed: spans of the shutdown itself are still sent.
  const tracing = overrides.tracing ?? (config.tracing.enabled ? await startTracing() : noTracing);
  if (!overrides.tracing) closers.push(() => tracing.shutdown());
  if (tracing.enabled && !overrides.tracing)
    log.info("tracing on: spans go to the OTLP endpoint OTEL_* names");

  const database = overrides.database ?? (await openConfiguredDatabase(config, log));
  if (!overrides.database) closers.push(() => database.close());
  if (tracing.enabled) traceDatabase(database, tracing.tracer);
  const { db } = database;
  const schedulerDatabase = database.url
    ? await openDatabase({
        kind: "postgres",
        url: database.url,
        poolSize: config.scheduler.poolSize,
        poolIdleSeconds: config.databasePool.idleSeconds,
      })
    : database;
  if (schedulerDatabase !== database) {
    closers.push(() => schedulerDatabase.close());
    if (tracing.enabled) traceDatabase(schedulerDatabase, tracing.tracer);
  }

  const redis =
    overrides.redis ??
    (config.redisUrl
      ? new Redis(config.redisUrl, {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          commandTimeout: 500,
          lazyConnect: false,
        })
      : null);
  if (redis && !overrides.redis) {
    redis.on("error", () => {}); // the store logs what matters, once per outage
    closers.push(() => redis.disconnect());
  }
  const limitStoreOf = (name: string) => {
    const memory = createMemoryStore({
      onFull: (maxKeys) =>
        log.warn(
          { store: name, maxKeys },
          "rate limit store is full: new keys are refused until windows end",
        ),
    });
    return redis ? createRedisStore({ redis, prefix: config.redisPrefix, log, fallback: memory }) : memory;
  };
  const limitStore = limitStoreOf("api");
  const authLimitStore = limitStoreOf("auth");

  const bus =
    overrides.bus ??
    (config.redisUrl
      ? createRedisBus({ url: config.redisUrl, prefix: config.redisPrefix, log })
      : createMemoryBus());
  if (!overrides.bus) closers.push(() => bus.close());

  const sessions = createSessionCache({
    ttlMs: config.session.cacheSeconds * 1000,
    now: () => clock.now().getTime(),
    bus,
  });
  const mailer = overrides.mailer ?? createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, log });
  if (!overrides.mailer) closers.push(() => mailer.close());
  const secrets = overrides.secrets ?? createSecretBox(config.secretsKey);
  const auth = createAuth({ db, config, log, bus, mailer });
  const keys = createKeyVerifier({ db, clock, bus, log, cacheMs: config.apiKeyCacheSeconds * 1000 });
  closers.push(() => keys.close());

  const dispatcher =
    overrides.dispatcher ?? createUpstreamDispatcher({ allowPrivate: config.probe.allowPrivate });
  if (!overrides.dispatcher) closers.push(() => dispatcher.close());
  const gatewayDispatcher =
    overrides.gatewayDispatcher ??
    createUpstreamDispatcher({ allowPrivate: config.probe.allowPrivate, keepAliveTimeoutMs: 30_000 });
  if (!overrides.gatewayDispatcher) closers.push(() => gatewayDispatcher.destroy());
  const gateway = createGatewayResolver({
    db,
    bus,
    verifyKey: keys.verify,
    cacheMs: config.apiKeyCacheSeconds * 1000,
  });
  closers.push(() => gateway.close());
  const apart =
    config.scheduler.thread &&
    !tracing.enabled &&
    !overrides.probe &&
    !overrides.clock &&
    !overrides.secrets &&
    !overrides.dispatcher;
  let schedulerThread: SchedulerThread | null = null;
  const apiPool = poolStatsOf(database);
  const schedulerPool =
    schedulerDatabase === database
      ? null
      : apart
        ? () =>
            schedulerThread?.poolStats() ?? { max: config.scheduler.poolSize, size: 0, idle: 0, waiting: 0 }
        : poolStatsOf(schedulerDatabase);
  const metrics =
    overrides.metrics ??
    (config.metrics.enabled
      ? createMetrics({
          orgLabel: config.metrics.orgLabel,
          toolsPerServer: config.metrics.toolsPerServer,
          log,
          sources: {
            fleet: () => readFleet({ db, clock, maxDown: MAX_DOWN_SERIES }),
            pools: {
              ...(apiPool ? { api: apiPool } : {}),
              ...(schedulerPool ? { scheduler: schedulerPool } : {}),
            },
            ...(redis ? { redisUp: () => redis.status === "ready" } : {}),
          },
        })
      : noMetrics);
  const probe = instrumentProber(
    overrides.probe ??
      createProber({
        timeoutMs: config.probe.timeoutMs,
        degradedMs: config.probe.degradedMs,
        maxBodyBytes: config.probe.maxBodyBytes,
        dispatcher,
      }),
    { metrics, tracing },
  );
  // Started by the scheduler (or its first probe): an API instance with SCHEDULER=off never starts it.
  const probeThread =
    !overrides.probe && config.scheduler.probeThread
      ? createThreadProber(
          {
            timeoutMs: config.probe.timeoutMs,
            degradedMs: config.probe.degradedMs,
            maxBodyBytes: config.probe.maxBodyBytes,
            allowPrivate: config.probe.allowPrivate,
          },
          log,
        )
      : null;
  if (probeThread) closers.push(() => probeThread.close());
  if (apart && database.url) {
    const thread = createSchedulerThread({
      config,
      databaseUrl: database.url,
      bus,
      metrics,
      log,
      logDestination,
    });
    schedulerThread = thread;
    closers.push(() => thread.stop());
  }
  const serverTotals = createServerTotals({ bus, ttlMs: config.listTotalsCacheSeconds * 1000 });
  closers.push(() => serverTotals.close());
  const serverSummaries = createServerSummaries();
  const usage = createUsageRecorder({ db, clock, log });
  // Before the database closes: what the gateway counted last is written.
  closers.push(() => usage.flush());

  return {
    config,
    log,
    logDestination,
    clock,
    database,
    db,
    schedulerDb: schedulerDatabase.db,
    redis,
    bus,
    limitStore,
    authLimitStore,
    sessions,
    mailer,
    auth,
    resolveSession: createSessionResolver({ auth, db, sessions }),
    keys,
    secrets,
    dispatcher,
    gatewayDispatcher,
    gateway,
    guardTarget: createTargetGuard(config.probe.allowPrivate),
    probe,
    scheduledProbe: probeThread ? instrumentProber(probeThread.probe, { metrics, tracing }) : probe,
    probeThread,
    schedulerThread,
    serverTotals,
    serverSummaries,
    metrics,
    tracing,
    usage,
    async close() {
      // Last built, first closed: caches and subscribers before the bus, the database last.
      for (const close of closers.splice(0).reverse()) {
        try {
          await close();
        } catch (err) {
          log.warn({ err }, "could not close an effect cleanly");
        }
      }
    },
  };
}
