import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, buildApp } from "../src/app";
import { type Config, loadConfig } from "../src/config";
import type { Database } from "../src/db/client";
import type { Clock } from "../src/lib/clock";
import type { EventBus } from "../src/modules/events/bus";
import type { Prober } from "../src/modules/health/probe";
import { type DbKind, openTestDatabase } from "./db";
import { BASE_URL } from "./users";

export * from "./users";

export interface TestApp {
  app: App;
  database: Database & { url?: string };
  config: Config;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** A real app on a fresh database of the given kind, logging into memory. */
export async function createTestApp(
  kind: DbKind,
  opts: {
    env?: Record<string, string>;
    clock?: Clock;
    routes?: (app: App) => void;
    events?: EventBus;
    probe?: Prober;
  } = {},
): Promise<TestApp> {
  const database = await openTestDatabase(kind);
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
    ...opts.env,
  });
  const logs: Record<string, unknown>[] = [];
  const logStream = { write: (line: string) => logs.push(JSON.parse(line)) };
  const app = await buildApp({
    config,
    db: database.db,
    logStream,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  opts.routes?.(app);
  await app.ready();
  return {
    app,
    database,
    config,
    logs,
    close: async () => {
      await app.close();
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
