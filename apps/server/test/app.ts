import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, buildApp } from "../src/app";
import { type Config, loadConfig } from "../src/config";
import type { Database } from "../src/db/client";
import type { EventBus } from "../src/lib/bus";
import type { Clock } from "../src/lib/clock";
import type { Metrics } from "../src/lib/metrics";
import type { Tracing } from "../src/lib/tracing";
import type { Prober } from "../src/modules/health/probe";
import { createRuntime, type Runtime } from "../src/runtime";
import { type DbKind, openTestDatabase } from "./db";
import { BASE_URL } from "./users";

export * from "./users";

export interface TestApp {
  app: App;
  /** The effects the app runs with: the injected ones where the test passed its own. */
  runtime: Runtime;
  database: Database & { url?: string };
  config: Config;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * A real app on a fresh database of the given kind, logging into memory; `clock`, `probe`, `bus`,
 * `metrics` and `tracing` replace the real ones.
 */
export async function createTestApp(
  kind: DbKind,
  opts: {
    /** Overrides of the test environment; `undefined` leaves a variable unset (BASE_URL, say). */
    env?: Record<string, string | undefined>;
    clock?: Clock;
    routes?: (app: App) => void;
    events?: EventBus;
    probe?: Prober;
    /** A database of the test's own (of `kind`) instead of a fresh clone; closed with the app. */
    database?: Database & { url?: string };
    metrics?: Metrics;
    tracing?: Tracing;
  } = {},
): Promise<TestApp> {
  const database = opts.database ?? (await openTestDatabase(kind));
  const config = loadConfig({
    NODE_ENV: "test",
    BASE_URL,
    DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-app-")),
    AUTH_SECRET: "test-secret-test-secret-test-secret-0123456789",
    LOG_LEVEL: "info",
    // Tests probe MCP servers on 127.0.0.1; the guard itself is tested with private targets refused.
    ALLOW_PRIVATE_TARGETS: "true",
    // Suites sign many users up from 127.0.0.1; the limits themselves are tested with their defaults.
    RATE_LIMIT_AUTH_PER_IP: "100000",
    RATE_LIMIT_AUTH_PER_EMAIL: "100000",
    RATE_LIMIT_MEMBER: "100000",
    RATE_LIMIT_ADMIN: "100000",
    RATE_LIMIT_API_KEY: "100000",
    // Suites drive the scheduler on this event loop (runOnce, fakes); its thread is tested apart.
    SCHEDULER_THREAD: "off",
    ...opts.env,
  });
  const logs: Record<string, unknown>[] = [];
  const logStream = { write: (line: string) => logs.push(JSON.parse(line)) };
  const runtime = await createRuntime(config, {
    database,
    logStream,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.probe ? { probe: opts.probe } : {}),
    ...(opts.events ? { bus: opts.events } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.tracing ? { tracing: opts.tracing } : {}),
  });
  const app = await buildApp(runtime);
  opts.routes?.(app);
  await app.ready();
  return {
    app,
    runtime,
    database,
    config,
    logs,
    close: async () => {
      // A test's clients may leave connections that never sent a request: closing waits for none.
      app.server.closeAllConnections();
      await app.close();
      await runtime.close();
      await database.close();
    },
  };
}

/** A controllable clock for tests of schedules, expiry and rate of writes. */
export function testClock(start = new Date()) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/**
 * Another instance on the same database, with effects of its own (its bus, caches, Redis
 * connections), as instances behind one load balancer are.
 */
export async function secondInstance(t: TestApp, config: Config = t.config) {
  const logs: Record<string, unknown>[] = [];
  const logStream = { write: (line: string) => logs.push(JSON.parse(line)) };
  const runtime = await createRuntime(config, { database: t.database, logStream });
  const app = await buildApp(runtime);
  await app.ready();
  return {
    app,
    runtime,
    /** Every log line this instance wrote, parsed. */
    logs,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
      await runtime.close();
    },
  };
}
