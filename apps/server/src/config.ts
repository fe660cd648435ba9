import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { POOL_DEFAULTS } from "./db/client";
import { decodeKey } from "./lib/secrets";

const bool = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1")
  .optional();

const csv = z
  .string()
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.url({ protocol: /^https?$/ })));

// proxy-addr's names for address ranges, which TRUST_PROXY may use instead of CIDRs.
const PROXY_RANGE_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);
const isProxyAddress = (v: string) =>
  PROXY_RANGE_NAMES.has(v) ||
  ipaddr.IPv4.isValidFourPartDecimal(v) ||
  ipaddr.IPv4.isValidCIDRFourPartDecimal(v) ||
  ipaddr.IPv6.isValid(v) ||
  ipaddr.IPv6.isValidCIDR(v);

/**
 * TRUST_PROXY: `false`, `true`, or a comma list of the proxies' addresses and CIDRs. Not a hop
 * count: Fastify 5 ignores one, since it cannot tell a proxy from a client that adds hops itself.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): boolean | string[] => {
    if (v === "" || v === "false") return false;
    if (v === "true") return true;
    const list = v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = list.filter((a) => !isProxyAddress(a));
    if (bad.length)
      ctx.addIssue({
        code: "custom",
        message: `must be true, false, or a comma list of proxy addresses and CIDRs (not ${bad.join(", ")})`,
      });
    return list;
  });

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(POOL_DEFAULTS.size),
  DATABASE_POOL_IDLE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(POOL_DEFAULTS.idleSeconds),
  DATA_DIR: z.string().min(1).default("./data"),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  MAIL_FROM: z.string().min(3).max(200).default("Switchboard <switchboard@localhost>"),
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  SECRETS_KEY: z
    .string()
    .refine((v) => decodeKey(v) !== null, "must be 32 bytes as 64 hex characters or base64")
    .optional(),
  CORS_ORIGINS: csv.default([]),
  TRUST_PROXY: trustProxy.default(false),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SESSION_TTL_SECONDS: z.coerce.number().int().min(60).default(3600),
  SESSION_REFRESH_SECONDS: z.coerce.number().int().min(0).default(60),
  SESSION_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  LIST_TOTALS_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  AUDIT_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .default(7 * 365),
  AUDIT_PURGE_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24 * 3600),
  SECURE_COOKIES: bool,
  REDIS_PREFIX: z.string().min(1).max(100).default("switchboard:"),
  ALLOW_PRIVATE_TARGETS: bool,
  PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  PROBE_DEGRADED_MS: z.coerce.number().int().min(1).default(2_000),
  PROBE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  REGISTRY_IMPORT_MAX_PAGES: z.coerce.number().int().min(1).max(1000).default(20),
  REGISTRY_IMPORT_MAX_PAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  REGISTRY_IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024),
  REGISTRY_IMPORT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  SCHEDULER: z.enum(["on", "off"]).default("on"),
  SCHEDULER_CONCURRENCY: z.coerce.number().int().min(1).max(5000).default(500),
  SCHEDULER_BATCH: z.coerce.number().int().min(1).max(5000).default(200),
  SCHEDULER_IDLE_MS: z.coerce.number().int().min(10).default(50),
  SCHEDULER_MAX_RATE: z.coerce.number().min(1).max(100_000).optional(),
  SCHEDULER_PROBE_THREAD: z.enum(["on", "off"]).default("on"),
  SCHEDULER_THREAD: z.enum(["on", "off"]).default("on"),
  SCHEDULER_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  HEALTH_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  EVENTS_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(3600).default(25),
  EVENTS_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(20),
  WEB_DIST: z.string().min(1).optional(),
  RATE_LIMIT_ADMIN: z.coerce.number().int().min(1).default(1000),
  RATE_LIMIT_MEMBER: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_API_KEY: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_AUTH_PER_IP: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_AUTH_PER_EMAIL: z.coerce.number().int().min(1).default(10),
  RATE_LIMIT_GATEWAY: z.coerce.number().int().min(1).default(1200),
  RATE_LIMIT_CATALOG_PER_IP: z.coerce.number().int().min(1).default(300),
  GATEWAY_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  GATEWAY_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  GATEWAY_STREAM_IDLE_MS: z.coerce.number().int().min(1000).max(86_400_000).default(300_000),
  GATEWAY_MAX_STREAMS_PER_KEY: z.coerce.number().int().min(1).max(10_000).default(20),
  GATEWAY_CORS_ORIGINS: csv.default([]),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  HTTP_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(72_000),
  HTTP_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).default(600_000),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  METRICS_HOST: z.string().trim().min(1).default("127.0.0.1"),
  METRICS_ORG_LABEL: bool,
  METRICS_TOOLS_PER_SERVER: z.coerce.number().int().min(0).max(1000).default(50),
  USAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  // Read by the OpenTelemetry SDK itself; checked here so that a typo stops the process with a clear message.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SDK_DISABLED: bool,
  OTEL_TRACES_EXPORTER: z.string().optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  env: Env["NODE_ENV"];
  host: string;
  port: number;
  baseUrl: string;
  databaseUrl: string | undefined;
  /** PostgreSQL connections each process keeps at most, and how long one may sit idle (0: no limit). */
  databasePool: { size: number; idleSeconds: number };
  /** API worker processes `start` runs (PostgreSQL and Redis only); the jobs run once, beside them. */
  webConcurrency: number;
  dataDir: string;
  redisUrl: string | undefined;
  /** Where mail goes (smtp[s]://user:pass@host:port); unset, links are written to the log instead. */
  smtpUrl: string | undefined;
  mailFrom: string;
  authSecret: string;
  /** AES-256-GCM key for upstream header values at rest. */
  secretsKey: Buffer;
  corsOrigins: string[];
  /**
   * Origins whose browsers may sign in and write: BASE_URL's, CORS_ORIGINS, and (while BASE_URL is
   * unset) the loopback names of the default, so that http://127.0.0.1:3000 works as localhost does.
   */
  trustedOrigins: string[];
  /**
   * Which proxies' X-Forwarded-For (and -Proto, -Host) to believe, as Fastify's trustProxy takes
   * it: none (false, the default), any (true), or these addresses and ranges.
   */
  trustProxy: boolean | string[];
  logLevel: Env["LOG_LEVEL"];
  /** `cacheSeconds`: how long a resolved session may be reused before it is looked up again. */
  session: { ttlSeconds: number; refreshSeconds: number; cacheSeconds: number };
  audit: { retentionDays: number; purgeIntervalSeconds: number };
  secureCookies: boolean;
  redisPrefix: string;
  probe: { timeoutMs: number; degradedMs: number; maxBodyBytes: number; allowPrivate: boolean };
  /** How much of a remote registry one import reads at most (pages, bytes per page and in all, time). */
  registryImport: { maxPages: number; maxPageBytes: number; maxTotalBytes: number; timeoutMs: number };
  scheduler: {
    enabled: boolean;
    concurrency: number;
    batchSize: number;
    idleMs: number;
    /** Probes started per second at most per instance; null derives it from the fleet. */
    maxRate: number | null;
    /** Whether the scheduler's probes run in a worker thread, off the API's event loop. */
    probeThread: boolean;
    /** Whether, on PostgreSQL, the whole scheduler (claims, probes, records) runs in a thread of its own. */
    thread: boolean;
    /** PostgreSQL connections of the scheduler's own, apart from the API's pool. */
    poolSize: number;
  };
  healthRetentionDays: number;
  /** How long a server list's total may be reused while no change to the tenant's servers is heard. */
  listTotalsCacheSeconds: number;
  /** How long an instance reuses an API key's lookup while no revocation is heard. */
  apiKeyCacheSeconds: number;
  eventsHeartbeatSeconds: number;
  /** Event sockets one user may hold open at once, per instance. */
  eventsMaxSocketsPerUser: number;
  /** The dashboard's production build. */
  webDist: string;
  rateLimits: {
    admin: number;
    member: number;
    apiKey: number;
    authPerIp: number;
    authPerEmail: number;
    /** Gateway requests a minute per API key. */
    gateway: number;
    /** Registry catalog requests a minute from one IP address (a catalog may be public). */
    catalogPerIp: number;
  };
  gateway: {
    maxBodyBytes: number;
    /** How long the gateway waits for an upstream's response headers. */
    upstreamTimeoutMs: number;
    /** How long a stream may go without a byte before the gateway ends it. */
    streamIdleMs: number;
    maxStreamsPerKey: number;
    corsOrigins: string[];
  };
  /** How long a client may take over a request, and keep a connection idle (see README). */
  http: {
    /** The whole request, headers and body, must arrive within this (408 and closed otherwise). */
    requestTimeoutMs: number;
    /** The request's headers must arrive within this. */
    headersTimeoutMs: number;
    /** An idle kept-alive connection is closed after this. */
    keepAliveTimeoutMs: number;
    /** A connection on which nothing moves either way for this long is closed; 0 never. */
    connectionTimeoutMs: number;
  };
  /** Prometheus metrics, served at /metrics on a listener of their own (see README, Observability). */
  metrics: {
    /** False with METRICS_PORT=0: nothing is counted and nothing listens. */
    enabled: boolean;
    host: string;
    port: number;
    /** Whether series carry the organization's slug (METRICS_ORG_LABEL=false drops it). */
    orgLabel: boolean;
    /** Tools named per server in the tool-call counter; the rest are counted as `other`. */
    toolsPerServer: number;
  };
  /** OpenTelemetry traces, on when an OTLP endpoint is set; the SDK reads the OTEL_* variables itself. */
  tracing: { enabled: boolean };
  /** How long per-minute gateway usage is kept. */
  usageRetentionDays: number;
}

const ProbeEnv = EnvSchema.pick({ PROBE_TIMEOUT_MS: true, PROBE_DEGRADED_MS: true, PROBE_MAX_BYTES: true });

/** Only the probe's settings, for `switchboard probe`, which needs no data directory or secrets. */
export function loadProbeConfig(env: NodeJS.ProcessEnv = process.env): Omit<Config["probe"], "allowPrivate"> {
  const parsed = ProbeEnv.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return { timeoutMs: e.PROBE_TIMEOUT_MS, degradedMs: e.PROBE_DEGRADED_MS, maxBodyBytes: e.PROBE_MAX_BYTES };
}

/** Thrown for a bad environment; its message names every offending variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses the environment once. Secrets that are absent are generated and kept under DATA_DIR,
 * so the embedded default survives restarts without any set-up.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const conflicts = [
    e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS &&
      "  HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS",
    e.HTTP_CONNECTION_TIMEOUT_MS > 0 &&
      e.HTTP_CONNECTION_TIMEOUT_MS <= e.GATEWAY_STREAM_IDLE_MS &&
      "  HTTP_CONNECTION_TIMEOUT_MS: must be 0 or more than GATEWAY_STREAM_IDLE_MS, or quiet gateway streams are cut",
    // Worker processes share no memory: only PostgreSQL and Redis hold what they must share.
    e.WEB_CONCURRENCY > 1 &&
      !(e.DATABASE_URL && e.REDIS_URL) &&
      "  WEB_CONCURRENCY: more than 1 needs DATABASE_URL and REDIS_URL (the embedded database and in-memory limits and events belong to one process)",
    e.METRICS_PORT !== 0 &&
      e.METRICS_PORT === e.PORT &&
      "  METRICS_PORT: must differ from PORT (metrics have a listener of their own), or be 0 to turn them off",
  ].filter((c): c is string => typeof c === "string");
  if (conflicts.length) throw new ConfigError(`Invalid configuration:\n${conflicts.join("\n")}`);
  const dataDir = resolve(e.DATA_DIR);
  const baseUrl = (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, "");
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    baseUrl,
    databaseUrl: e.DATABASE_URL,
    databasePool: { size: e.DATABASE_POOL_SIZE, idleSeconds: e.DATABASE_POOL_IDLE_SECONDS },
    webConcurrency: e.WEB_CONCURRENCY,
    dataDir,
    redisUrl: e.REDIS_URL,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    authSecret: e.AUTH_SECRET ?? persistedSecret(dataDir, "auth-secret"),
    secretsKey: decodeKey(e.SECRETS_KEY ?? persistedSecret(dataDir, "secrets-key")) as Buffer,
    corsOrigins: e.CORS_ORIGINS,
    trustedOrigins: [
      ...new Set([
        new URL(baseUrl).origin,
        ...e.CORS_ORIGINS.map((o) => new URL(o).origin),
        ...(e.BASE_URL ? [] : [`http://127.0.0.1:${e.PORT}`, `http://[::1]:${e.PORT}`]),
      ]),
    ],
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    session: {
      ttlSeconds: e.SESSION_TTL_SECONDS,
      refreshSeconds: e.SESSION_REFRESH_SECONDS,
      cacheSeconds: e.SESSION_CACHE_SECONDS,
    },
    audit: { retentionDays: e.AUDIT_RETENTION_DAYS, purgeIntervalSeconds: e.AUDIT_PURGE_INTERVAL_SECONDS },
    secureCookies: e.SECURE_COOKIES ?? baseUrl.startsWith("https://"),
    redisPrefix: e.REDIS_PREFIX,
    probe: {
      timeoutMs: e.PROBE_TIMEOUT_MS,
      degradedMs: e.PROBE_DEGRADED_MS,
      maxBodyBytes: e.PROBE_MAX_BYTES,
      allowPrivate: e.ALLOW_PRIVATE_TARGETS ?? false,
    },
    registryImport: {
      maxPages: e.REGISTRY_IMPORT_MAX_PAGES,
      maxPageBytes: e.REGISTRY_IMPORT_MAX_PAGE_BYTES,
      maxTotalBytes: e.REGISTRY_IMPORT_MAX_BYTES,
      timeoutMs: e.REGISTRY_IMPORT_TIMEOUT_MS,
    },
    scheduler: {
      enabled: e.SCHEDULER === "on",
      concurrency: e.SCHEDULER_CONCURRENCY,
      batchSize: e.SCHEDULER_BATCH,
      idleMs: e.SCHEDULER_IDLE_MS,
      maxRate: e.SCHEDULER_MAX_RATE ?? null,
      probeThread: e.SCHEDULER_PROBE_THREAD === "on",
      thread: e.SCHEDULER_THREAD === "on",
      poolSize: e.SCHEDULER_POOL_SIZE,
    },
    healthRetentionDays: e.HEALTH_RETENTION_DAYS,
    listTotalsCacheSeconds: e.LIST_TOTALS_CACHE_SECONDS,
    apiKeyCacheSeconds: e.API_KEY_CACHE_SECONDS,
    eventsHeartbeatSeconds: e.EVENTS_HEARTBEAT_SECONDS,
    eventsMaxSocketsPerUser: e.EVENTS_MAX_SOCKETS_PER_USER,
    webDist: resolve(e.WEB_DIST ?? join(dirname(fileURLToPath(import.meta.url)), "../../web/dist")),
    rateLimits: {
      admin: e.RATE_LIMIT_ADMIN,
      member: e.RATE_LIMIT_MEMBER,
      apiKey: e.RATE_LIMIT_API_KEY,
      authPerIp: e.RATE_LIMIT_AUTH_PER_IP,
      authPerEmail: e.RATE_LIMIT_AUTH_PER_EMAIL,
      gateway: e.RATE_LIMIT_GATEWAY,
      catalogPerIp: e.RATE_LIMIT_CATALOG_PER_IP,
    },
    gateway: {
      maxBodyBytes: e.GATEWAY_MAX_BODY_BYTES,
      upstreamTimeoutMs: e.GATEWAY_UPSTREAM_TIMEOUT_MS,
      streamIdleMs: e.GATEWAY_STREAM_IDLE_MS,
      maxStreamsPerKey: e.GATEWAY_MAX_STREAMS_PER_KEY,
      corsOrigins: e.GATEWAY_CORS_ORIGINS,
    },
    http: {
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEPALIVE_TIMEOUT_MS,
      connectionTimeoutMs: e.HTTP_CONNECTION_TIMEOUT_MS,
    },
    metrics: {
      enabled: e.METRICS_PORT !== 0,
      host: e.METRICS_HOST,
      port: e.METRICS_PORT,
      orgLabel: e.METRICS_ORG_LABEL ?? true,
      toolsPerServer: e.METRICS_TOOLS_PER_SERVER,
    },
    tracing: {
      enabled:
        Boolean(e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) &&
        !e.OTEL_SDK_DISABLED &&
        !(e.OTEL_TRACES_EXPORTER ?? "").split(",").some((x) => x.trim() === "none"),
    },
    usageRetentionDays: e.USAGE_RETENTION_DAYS,
  };
}

/** Reads a secret from DATA_DIR/<name>, creating it (mode 0600, DATA_DIR 0700) on first use. */
export function persistedSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("base64url");
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    // Another process created it first: use theirs, so both sign with the same secret.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return readFileSync(file, "utf8").trim();
    throw err;
  }
  return secret;
}
