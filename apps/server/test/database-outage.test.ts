import { mkdtempSync } from "node:fs";
import { createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app";
import { loadConfig } from "../src/config";
import { type Database, openDatabase } from "../src/db/client";
import { isDatabaseUnavailable } from "../src/db/errors";
import { createRuntime } from "../src/runtime";
import { as, BASE_URL, createTenant, createTestApp, type TestApp } from "./app";
import { openTestDatabase } from "./db";

/** A port on 127.0.0.1 that nothing listens on. */
const unusedPort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

const failureOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
};

describe("isDatabaseUnavailable", () => {
  it("recognises a refused PostgreSQL connection, through Drizzle too", async () => {
    const port = await unusedPort();
    const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/none` });
    pool.on("error", () => {});
    expect(isDatabaseUnavailable(await failureOf(pool.query("SELECT 1")))).toBe(true);
    const database = await openDatabase({
      kind: "postgres",
      url: `postgres://postgres@127.0.0.1:${port}/none`,
    });
    expect(isDatabaseUnavailable(await failureOf(database.db.execute("SELECT 1")))).toBe(true);
    await Promise.all([pool.end(), database.close()]);
  });

  it("recognises a closed PGlite, through Drizzle too", async () => {
    const database = await openTestDatabase("pglite");
    await database.close();
    expect(isDatabaseUnavailable(await failureOf(database.db.execute("SELECT 1")))).toBe(true);
  });

  it.each([
    [
      "an administrator's shutdown",
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
    ],
    ["a connection failure (08006)", Object.assign(new Error("connection failure"), { code: "08006" })],
    [
      "a server that is starting",
      Object.assign(new Error("the database system is starting up"), { code: "57P03" }),
    ],
    ["a terminated connection", new Error("Connection terminated unexpectedly")],
    [
      "a reset wrapped in a cause",
      new Error("Failed query: select 1", {
        cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      }),
    ],
  ])("recognises %s", (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ["a unique violation", Object.assign(new Error("duplicate key"), { code: "23505" })],
    ["a syntax error", Object.assign(new Error("syntax error at or near"), { code: "42601" })],
    ["a bug", new TypeError("cannot read properties of undefined")],
  ])("leaves %s alone", (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});

describe("while the embedded database is gone", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite");
  });
  afterAll(() => t.close());

  it("answers 503 problem+json with Retry-After, whether the session was cached or not", async () => {
    const tenant = await createTenant(t.app);
    // The admin's session is now cached (SESSION_CACHE_SECONDS), the member's is looked up again.
    expect((await as(t.app, tenant.admin)({ method: "GET", url: "/mcp/servers" })).statusCode).toBe(200);
    await t.database.close();
    for (const user of [tenant.admin, tenant.member]) {
      const res = await as(t.app, user)({ method: "GET", url: "/mcp/servers" });
      expect(res.statusCode).toBe(503);
      expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
      expect(res.headers["retry-after"]).toBe("5");
      expect(res.json()).toMatchObject({ code: "UNAVAILABLE", status: 503 });
    }
    // Better-Auth's own routes say so too, and no session token reaches the log on the way.
    const session = await t.app.inject({
      method: "GET",
      url: "/api/auth/get-session",
      headers: { cookie: tenant.member.cookie },
    });
    expect(session.statusCode).toBe(503);
    expect(session.headers["retry-after"]).toBe("5");
    const token = decodeURIComponent(/session_token=([^;]+)/.exec(tenant.member.cookie)?.[1] ?? "").split(
      ".",
    )[0];
    expect(token?.length).toBeGreaterThan(10);
    expect(JSON.stringify(t.logs)).not.toContain(token);
  });
});

/** A TCP relay to PostgreSQL that can be cut (every connection dropped, new ones refused) and restored. */
async function relay(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const up = async () => {
    server = createServer((client) => {
      const upstream = netConnect(target.port, target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((done) => server?.listen(port, "127.0.0.1", done));
    port = (server.address() as { port: number }).port;
  };
  await up();
  return {
    port: () => port,
    cut: async () => {
      await new Promise<void>((done) => {
        server?.close(() => done());
        for (const s of sockets) s.destroy();
      });
    },
    restore: up,
  };
}

describe.runIf(process.env.TEST_DATABASE_URL)("while PostgreSQL is away", () => {
  let database: Database & { url?: string };
  let proxied: Database;
  let link: Awaited<ReturnType<typeof relay>>;
  let close: () => Promise<void>;
  let app: Awaited<ReturnType<typeof buildApp>>;
  /** Every log line the app wrote, as written (the tokens must not be in any of them). */
  const logLines: string[] = [];

  beforeAll(async () => {
    database = await openTestDatabase("postgres");
    const url = new URL(database.url as string);
    link = await relay({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${link.port()}`;
    proxied = await openDatabase({ kind: "postgres", url: url.toString(), poolSize: 5 });
    const config = loadConfig({
      NODE_ENV: "test",
      BASE_URL,
      DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-outage-")),
      AUTH_SECRET: "test-secret-test-secret-test-secret-0123456789",
      RATE_LIMIT_AUTH_PER_IP: "100000",
      RATE_LIMIT_AUTH_PER_EMAIL: "100000",
      SESSION_CACHE_SECONDS: "0",
      LOG_LEVEL: "debug",
    });
    const runtime = await createRuntime(config, {
      database: proxied,
      logStream: { write: (line: string) => logLines.push(line) },
    });
    app = await buildApp(runtime);
    await app.ready();
    close = async () => {
      await app.close();
      await runtime.close();
      await proxied.close();
      await database.close();
    };
  });
  afterAll(() => close());

  it("answers 503 with Retry-After during the outage and 200 again once it ends, without a restart", async () => {
    const tenant = await createTenant(app);
    const list = () => as(app, tenant.admin)({ method: "GET", url: "/mcp/servers" });
    expect((await list()).statusCode).toBe(200);

    await link.cut();
    for (let i = 0; i < 3; i++) {
      const res = await list();
      expect(res.statusCode).toBe(503);
      expect(res.headers["retry-after"]).toBe("5");
      expect(res.json()).toMatchObject({ code: "UNAVAILABLE" });
    }
    const write = await as(
      app,
      tenant.admin,
    )({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "during-outage", url: "http://127.0.0.1:9/mcp" },
    });
    expect(write.statusCode).toBe(503);

    await link.restore();
    expect((await list()).statusCode).toBe(200);
  });

  it("writes no session token to the log while queries with it fail", async () => {
    const tenant = await createTenant(app);
    const users = [tenant.owner, tenant.admin, tenant.member];
    const before = logLines.length;

    await link.cut();
    for (const user of users) {
      // Switchboard's own session lookup, Better-Auth's, and a write that looks the session up first.
      expect((await as(app, user)({ method: "GET", url: "/mcp/servers" })).statusCode).toBe(503);
      expect((await as(app, user)({ method: "GET", url: "/api/auth/get-session" })).statusCode).toBe(503);
      expect(
        (await as(app, user)({ method: "POST", url: "/api/auth/sign-out", payload: {} })).statusCode,
      ).toBe(503);
    }
    await link.restore();

    const during = logLines.slice(before).join("\n");
    // The failures were logged (so the log was read where the tokens would have been)…
    expect(during).toMatch(/"level":50/);
    // …and no token is in it: neither the signed cookie value nor the token as the database keeps it.
    for (const user of users) {
      const signed = decodeURIComponent(/session_token=([^;]+)/.exec(user.cookie)?.[1] ?? "");
      const stored = signed.split(".")[0] ?? "";
      expect(stored.length).toBeGreaterThan(10);
      expect(during).not.toContain(stored);
    }
  });
});
