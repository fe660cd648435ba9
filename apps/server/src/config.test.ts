import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config";

const tmp = () => mkdtempSync(join(tmpdir(), "switchboard-config-"));

describe("loadConfig", () => {
  it("serves on port 3000 with embedded PGlite under ./data when nothing is set", () => {
    const dir = tmp();
    const config = loadConfig({ DATA_DIR: dir });
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.baseUrl).toBe("http://localhost:3000");
    expect(config.session.ttlSeconds).toBe(3600);
    expect(config.audit.retentionDays).toBe(2555);
    expect(config.secureCookies).toBe(false);
    expect(loadConfig({}).dataDir).toBe(join(process.cwd(), "data"));
  });

  it("keeps PostgreSQL's connections idle for 5 minutes in a pool of 20 unless told otherwise", () => {
    const dir = tmp();
    expect(loadConfig({ DATA_DIR: dir }).databasePool).toEqual({ size: 20, idleSeconds: 300 });
    const tuned = loadConfig({ DATA_DIR: dir, DATABASE_POOL_SIZE: "8", DATABASE_POOL_IDLE_SECONDS: "0" });
    expect(tuned.databasePool).toEqual({ size: 8, idleSeconds: 0 });
    for (const bad of [{ DATABASE_POOL_SIZE: "0" }, { DATABASE_POOL_IDLE_SECONDS: "-1" }])
      expect(() => loadConfig({ DATA_DIR: dir, ...bad })).toThrow(/DATABASE_POOL_/);
  });

  it("generates AUTH_SECRET once, keeps it under DATA_DIR with mode 0600, and reuses it", () => {
    const dir = tmp();
    const first = loadConfig({ DATA_DIR: dir }).authSecret;
    expect(first.length).toBeGreaterThanOrEqual(40);
    expect(loadConfig({ DATA_DIR: dir }).authSecret).toBe(first);
    expect(readFileSync(join(dir, "auth-secret"), "utf8").trim()).toBe(first);
    expect(statSync(join(dir, "auth-secret")).mode & 0o777).toBe(0o600);
  });

  it("refuses more than one web worker without PostgreSQL and Redis, naming WEB_CONCURRENCY", () => {
    expect(loadConfig({ DATA_DIR: tmp() }).webConcurrency).toBe(1);
    for (const env of [{}, { DATABASE_URL: "postgres://db/x" }, { REDIS_URL: "redis://cache" }])
      expect(() => loadConfig({ DATA_DIR: tmp(), WEB_CONCURRENCY: "2", ...env })).toThrow(
        /WEB_CONCURRENCY: /,
      );
    const both = { DATABASE_URL: "postgres://db/x", REDIS_URL: "redis://cache" };
    expect(loadConfig({ DATA_DIR: tmp(), WEB_CONCURRENCY: "2", ...both }).webConcurrency).toBe(2);
  });

  it("prefers AUTH_SECRET from the environment", () => {
    const secret = "s".repeat(40);
    expect(loadConfig({ DATA_DIR: tmp(), AUTH_SECRET: secret }).authSecret).toBe(secret);
  });

  it("reads every documented variable", () => {
    const config = loadConfig({
      DATA_DIR: tmp(),
      PORT: "8080",
      BASE_URL: "https://switchboard.example.com/",
      DATABASE_URL: "postgres://u@127.0.0.1:5432/db",
      REDIS_URL: "redis://127.0.0.1:6379",
      CORS_ORIGINS: "https://a.example.com, https://b.example.com",
      AUDIT_RETENTION_DAYS: "30",
    });
    expect(config.port).toBe(8080);
    expect(config.baseUrl).toBe("https://switchboard.example.com");
    expect(config.databaseUrl).toBe("postgres://u@127.0.0.1:5432/db");
    expect(config.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(config.corsOrigins).toEqual(["https://a.example.com", "https://b.example.com"]);
    expect(config.audit.retentionDays).toBe(30);
    expect(config.secureCookies).toBe(true);
  });

  it.each([
    ["PORT", "eighty"],
    ["PORT", "70000"],
    ["DATABASE_URL", "mysql://127.0.0.1/db"],
    ["REDIS_URL", "http://127.0.0.1:6379"],
    ["BASE_URL", "not a url"],
    ["CORS_ORIGINS", "ftp://x.example.com"],
    ["AUTH_SECRET", "short"],
    ["LOG_LEVEL", "loud"],
    ["AUDIT_RETENTION_DAYS", "0"],
  ])("refuses %s=%s with a message naming the variable", (name, value) => {
    const attempt = () => loadConfig({ DATA_DIR: tmp(), [name]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(new RegExp(`\\b${name}\\b`));
  });
});
