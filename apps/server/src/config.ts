import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
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

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  SECRETS_KEY: z
    .string()
    .refine((v) => decodeKey(v) !== null, "must be 32 bytes as 64 hex characters or base64")
    .optional(),
  CORS_ORIGINS: csv.default([]),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SESSION_TTL_SECONDS: z.coerce.number().int().min(60).default(3600),
  SESSION_REFRESH_SECONDS: z.coerce.number().int().min(0).default(60),
  SESSION_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  LIST_TOTALS_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
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
  SCHEDULER: z.enum(["on", "off"]).default("on"),
  SCHEDULER_CONCURRENCY: z.coerce.number().int().min(1).max(5000).default(500),
  SCHEDULER_BATCH: z.coerce.number().int().min(1).max(5000).default(200),
  SCHEDULER_IDLE_MS: z.coerce.number().int().min(10).default(1_000),
  HEALTH_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  EVENTS_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(3600).default(25),
  WEB_DIST: z.string().min(1).optional(),
  RATE_LIMIT_ADMIN: z.coerce.number().int().min(1).default(1000),
  RATE_LIMIT_MEMBER: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_API_KEY: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_AUTH_PER_IP: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_AUTH_PER_EMAIL: z.coerce.number().int().min(1).default(10),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  env: Env["NODE_ENV"];
  host: string;
  port: number;
  baseUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  authSecret: string;
  /** AES-256-GCM key for upstream header values at rest. */
  secretsKey: Buffer;
  corsOrigins: string[];
  logLevel: Env["LOG_LEVEL"];
  /** `cacheSeconds`: how long a resolved session may be reused before it is looked up again. */
  session: { ttlSeconds: number; refreshSeconds: number; cacheSeconds: number };
  audit: { retentionDays: number; purgeIntervalSeconds: number };
  secureCookies: boolean;
  redisPrefix: string;
  probe: { timeoutMs: number; degradedMs: number; maxBodyBytes: number; allowPrivate: boolean };
  scheduler: {
    enabled: boolean;
    concurrency: number;
    batchSize: number;
    idleMs: number;
    healthRetentionDays: number;
  };
  /** How long a server list's total may be reused while no change to the tenant's servers is heard. */
  listTotalsCacheSeconds: number;
  eventsHeartbeatSeconds: number;
  /** The dashboard's production build. */
  webDist: string;
  rateLimits: { admin: number; member: number; apiKey: number; authPerIp: number; authPerEmail: number };
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
  const dataDir = resolve(e.DATA_DIR);
  const baseUrl = (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, "");
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    baseUrl,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    redisUrl: e.REDIS_URL,
    authSecret: e.AUTH_SECRET ?? persistedSecret(dataDir, "auth-secret"),
    secretsKey: decodeKey(e.SECRETS_KEY ?? persistedSecret(dataDir, "secrets-key")) as Buffer,
    corsOrigins: e.CORS_ORIGINS,
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
    scheduler: {
      enabled: e.SCHEDULER === "on",
      concurrency: e.SCHEDULER_CONCURRENCY,
      batchSize: e.SCHEDULER_BATCH,
      idleMs: e.SCHEDULER_IDLE_MS,
      healthRetentionDays: e.HEALTH_RETENTION_DAYS,
    },
    listTotalsCacheSeconds: e.LIST_TOTALS_CACHE_SECONDS,
    eventsHeartbeatSeconds: e.EVENTS_HEARTBEAT_SECONDS,
    webDist: resolve(e.WEB_DIST ?? join(dirname(fileURLToPath(import.meta.url)), "../../web/dist")),
    rateLimits: {
      admin: e.RATE_LIMIT_ADMIN,
      member: e.RATE_LIMIT_MEMBER,
      apiKey: e.RATE_LIMIT_API_KEY,
      authPerIp: e.RATE_LIMIT_AUTH_PER_IP,
      authPerEmail: e.RATE_LIMIT_AUTH_PER_EMAIL,
    },
  };
}

/** Reads a secret from DATA_DIR/<name>, creating it (mode 0600) on first use. */
export function persistedSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
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
