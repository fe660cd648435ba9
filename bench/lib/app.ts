import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { type App, buildApp } from "../../apps/server/src/app";
import { type Config, loadConfig } from "../../apps/server/src/config";
import type { Database, Db } from "../../apps/server/src/db/client";
import type { MetricsServer } from "../../apps/server/src/lib/metrics";
import { createRuntime } from "../../apps/server/src/runtime";
import { startMetrics } from "../../apps/server/src/server";
import { addMember, BASE_URL, createOrg, ORIGIN, signUp, type TestUser } from "../../apps/server/test/users";

export interface BenchApp {
  app: App;
  url: string;
  /** Where Prometheus would scrape; null with METRICS_PORT=0. */
  metricsUrl: string | null;
  close(): Promise<void>;
}

/**
 * Switchboard's configuration in production, as the benchmarks run it: listening on 127.0.0.1, with
 * two differences: loopback MCP targets are allowed, and the per-role rate limits are raised so
 * that the load measures the API rather than the limiter (which still runs on every request).
 * Logs at info level; metrics on, on a free port of their own. `env` adds or overrides settings.
 */
export async function benchConfig(env: Record<string, string> = {}): Promise<Config> {
  return loadConfig({
    NODE_ENV: "production",
    BASE_URL,
    HOST: "127.0.0.1",
    PORT: "0",
    DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-bench-")),
    AUTH_SECRET: "bench-secret-bench-secret-bench-secret-0123",
    LOG_LEVEL: "info",
    ALLOW_PRIVATE_TARGETS: "true",
    SCHEDULER: "off",
    RATE_LIMIT_AUTH_PER_IP: "1000000",
    RATE_LIMIT_AUTH_PER_EMAIL: "1000000",
    RATE_LIMIT_ADMIN: "100000000",
    RATE_LIMIT_MEMBER: "100000000",
    RATE_LIMIT_API_KEY: "100000000",
    METRICS_PORT: String(await freePort()),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...env,
  });
}

/**
 * Switchboard as it runs in production, listening on 127.0.0.1, with two differences: loopback MCP
 * targets are allowed, and the per-role rate limits are raised so that the load measures the API
 * rather than the limiter (which still runs on every request). Logs are written at info level
 * into a sink that drops them, so their cost is counted too. Metrics are on, as by default, on a
 * free port of their own (METRICS_PORT=0 in `env` turns them off).
 */
export async function startBenchApp(database: Database, env: Record<string, string> = {}): Promise<BenchApp> {
  const config = await benchConfig(env);
  const runtime = await createRuntime(config, { database, logStream: { write: () => {} } });
  const app = await buildApp(runtime);
  await app.listen({ host: "127.0.0.1", port: Number(env.PORT ?? 0) });
  const metrics: MetricsServer | null = await startMetrics(runtime);
  const { port } = app.server.address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    metricsUrl: metrics?.url ?? null,
    close: async () => {
      await app.close();
      await metrics?.close();
      await runtime.close();
    },
  };
}

/** A port nothing listens on now (a benchmark may run two Switchboards at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.once("error", reject);
  });
}

export interface SeededTenant {
  orgId: string;
  owner: TestUser;
  admins: TestUser[];
}

/** One organization with an owner and `admins` more admins, each signed in with it active. */
export async function seedTenant(app: App, admins: number): Promise<SeededTenant> {
  const owner = await signUp(app);
  const orgId = await createOrg(app, owner);
  const list: TestUser[] = [];
  for (let i = 0; i < admins; i++) {
    const admin = await signUp(app);
    await addMember(app, owner, orgId, admin, "admin");
    list.push(admin);
  }
  return { orgId, owner, admins: list };
}

/** Inserts `count` servers into a tenant in one statement, with a spread of statuses, tags and transports. */
export async function seedServers(db: Db, tenantId: string, count: number, prefix = "server"): Promise<void> {
  await db.execute(sql`
    INSERT INTO mcp_servers (tenant_id, name, display_name, description, transport, url, tags, status,
                             last_checked_at, last_latency_ms, updated_at)
    SELECT ${tenantId}, ${prefix} || '-' || s, 'Server ' || s, 'Serves thing ' || s || ' for the team',
           CASE WHEN s % 3 = 0 THEN 'sse' ELSE 'streamable-http' END,
           'http://127.0.0.1:9/mcp', ARRAY['tag-' || (s % 7), 'team-' || (s % 13)],
           (ARRAY['unknown','healthy','degraded','unhealthy'])[s % 4 + 1],
           now() - (s || ' seconds')::interval, 5 + s % 200, now() - (s || ' seconds')::interval
    FROM generate_series(1, ${count}) s`);
  await db.execute(sql`ANALYZE mcp_servers, mcp_server_search`);
}

export const headersFor = (user: TestUser) => ({ ...ORIGIN, cookie: user.cookie });
