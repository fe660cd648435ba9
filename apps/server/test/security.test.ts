import { createServer, type Server, Socket } from "node:net";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { queryRows } from "../src/db/client";
import { type RunningMcpServer, startMcpServer } from "../src/demo/mcp-servers";
import { as, createTenant, createTestApp, ORIGIN, secondInstance, type TestApp } from "./app";

/** The shipped defaults, which the shared test app raises so that suites can sign many users up. */
const DEFAULT_LIMITS = {
  RATE_LIMIT_AUTH_PER_IP: "30",
  RATE_LIMIT_AUTH_PER_EMAIL: "10",
  RATE_LIMIT_MEMBER: "100",
  RATE_LIMIT_ADMIN: "1000",
  RATE_LIMIT_API_KEY: "100",
};

describe("rate limits by role", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite", { env: { ...DEFAULT_LIMITS, RATE_LIMIT_AUTH_PER_IP: "1000" } });
  });
  afterAll(() => t.close());

  it("gives a member 100 requests a minute, then a 429 with Retry-After, while an admin continues", async () => {
    const tenant = await createTenant(t.app);
    const member = as(t.app, tenant.member);
    for (let i = 1; i <= 100; i++) {
      const res = await member({ method: "GET", url: "/mcp/servers" });
      expect(res.statusCode).toBe(200);
      if (i === 1) {
        expect(res.headers["ratelimit-limit"]).toBe("100");
        expect(res.headers["ratelimit-remaining"]).toBe("99");
        expect(Number(res.headers["ratelimit-reset"])).toBeGreaterThan(0);
      }
    }
    const limited = await member({ method: "GET", url: "/mcp/servers" });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["content-type"]).toMatch(/problem\+json/);
    expect(limited.json()).toMatchObject({
      code: "RATE_LIMITED",
      detail: expect.stringMatching(/100 requests a minute/),
    });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.headers["ratelimit-remaining"]).toBe("0");

    const admin = await as(t.app, tenant.admin)({ method: "GET", url: "/mcp/servers" });
    expect(admin.statusCode).toBe(200);
    expect(admin.headers["ratelimit-limit"]).toBe("1000");
  });

  it("limits each API key on its own", async () => {
    const local = await createTestApp("pglite", { env: { RATE_LIMIT_API_KEY: "5" } });
    try {
      const admin = as(local.app, (await createTenant(local.app)).admin);
      const server = (
        await admin({
          method: "POST",
          url: "/mcp/servers",
          payload: { name: "k", url: "http://127.0.0.1:9/mcp" },
        })
      ).json();
      const keys = [];
      for (const name of ["a", "b"]) {
        keys.push(
          (await admin({ method: "POST", url: `/mcp/servers/${server.id}/keys`, payload: { name } })).json()
            .key,
        );
      }
      const whoami = (key: string) =>
        local.app.inject({ method: "GET", url: "/mcp/whoami", headers: { authorization: `Bearer ${key}` } });
      for (let i = 0; i < 5; i++) expect((await whoami(keys[0])).statusCode).toBe(200);
      expect((await whoami(keys[0])).statusCode).toBe(429);
      expect((await whoami(keys[1])).statusCode).toBe(200);
    } finally {
      await local.close();
    }
  });
});

describe("sign-in and sign-up limits", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite", { env: DEFAULT_LIMITS });
  });
  afterAll(() => t.close());

  const signIn = (email: string, ip: string) =>
    t.app.inject({
      method: "POST",
      url: "/api/auth/sign-in/email",
      headers: ORIGIN,
      remoteAddress: ip,
      payload: { email, password: "wrong-password-1" },
    });

  it("stops password guessing against one email after 10 tries a minute, from any address", async () => {
    for (let i = 0; i < 10; i++)
      expect((await signIn("victim@example.com", `10.9.0.${i + 1}`)).statusCode).toBe(401);
    const res = await signIn("victim@example.com", "10.9.1.1");
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({ code: "RATE_LIMITED" });
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    expect((await signIn("someone-else@example.com", "10.9.1.2")).statusCode).toBe(401);
  });

  it("stops one address after 30 attempts a minute, whatever the emails", async () => {
    for (let i = 0; i < 30; i++)
      expect((await signIn(`guess-${i}@example.com`, "10.8.0.1")).statusCode).toBe(401);
    expect((await signIn("guess-31@example.com", "10.8.0.1")).statusCode).toBe(429);
    expect((await signIn("guess-31@example.com", "10.8.0.2")).statusCode).toBe(401);
  });
});

/** A TCP relay to the machine's Redis that a test can cut and restore, to play an outage. */
async function redisRelay(target = new URL(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379")) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const open = () =>
    new Promise<void>((done) => {
      const relay = createServer((client) => {
        const upstream = new Socket();
        upstream.connect(Number(target.port || 6379), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      server = relay;
      relay.listen(port, "127.0.0.1", () => {
        port = (relay.address() as { port: number }).port;
        done();
      });
    });
  await open();
  return {
    url: () => `redis://127.0.0.1:${port}`,
    cut: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    },
    restore: open,
  };
}

describe.runIf(process.env.TEST_REDIS_URL)("rate limits in Redis", () => {
  let t: TestApp;
  let relay: Awaited<ReturnType<typeof redisRelay>>;
  let second: Awaited<ReturnType<typeof secondInstance>>;
  const prefix = `${inject("runId")}:limits:`;

  beforeAll(async () => {
    relay = await redisRelay();
    t = await createTestApp("pglite", {
      env: { REDIS_URL: relay.url(), REDIS_PREFIX: prefix, RATE_LIMIT_MEMBER: "10" },
    });
    // A second instance on the same database and the same Redis.
    second = await secondInstance(t);
  });
  afterAll(async () => {
    await second.close();
    await t.close();
    await relay.cut();
    const redis = new Redis(process.env.TEST_REDIS_URL as string);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it("shares one member's limit between two instances", async () => {
    const tenant = await createTenant(t.app);
    const one = as(t.app, tenant.member);
    const two = as(second.app, tenant.member);
    for (let i = 0; i < 5; i++) {
      expect((await one({ method: "GET", url: "/mcp/servers" })).statusCode).toBe(200);
      expect((await two({ method: "GET", url: "/mcp/servers" })).statusCode).toBe(200);
    }
    expect((await one({ method: "GET", url: "/mcp/servers" })).statusCode).toBe(429);
    expect((await two({ method: "GET", url: "/mcp/servers" })).statusCode).toBe(429);
  });

  it("keeps serving, limited in memory, while Redis is away, and uses Redis again when it returns", async () => {
    const tenant = await createTenant(t.app);
    const admin = as(t.app, tenant.admin);
    expect((await admin({ method: "GET", url: "/mcp/servers" })).statusCode).toBe(200);

    await relay.cut();
    for (let i = 0; i < 5; i++) {
      const res = await admin({ method: "GET", url: "/mcp/servers" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["ratelimit-limit"]).toBeDefined();
    }
    expect(t.logs.some((l) => l.level === 40 && String(l.msg).includes("rate limiting in memory"))).toBe(
      true,
    );

    await relay.restore();
    const back = Date.now() + 10_000;
    while (!t.logs.some((l) => String(l.msg).includes("redis is back")) && Date.now() < back) {
      await admin({ method: "GET", url: "/mcp/servers" });
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(t.logs.some((l) => String(l.msg).includes("redis is back"))).toBe(true);
    const redis = new Redis(process.env.TEST_REDIS_URL as string);
    try {
      expect(await redis.get(`${prefix}ratelimit:user:${tenant.admin.id}`)).not.toBeNull();
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});

describe("security headers, CORS and CSRF", () => {
  let t: TestApp;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  beforeAll(async () => {
    t = await createTestApp("pglite", { env: { CORS_ORIGINS: "http://localhost:5173" } });
    tenant = await createTenant(t.app);
  });
  afterAll(() => t.close());

  it("sends a strict CSP, nosniff, a referrer policy and no framing", async () => {
    const res = await t.app.inject({ method: "GET", url: "/healthz" });
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    expect(res.headers["strict-transport-security"]).toBeUndefined();
  });

  it("gives /docs a policy of its own that lets Swagger UI style itself", async () => {
    const res = await t.app.inject({ method: "GET", url: "/docs/" });
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it("sends HSTS and Secure cookies when served over HTTPS", async () => {
    const https = await createTestApp("pglite", { env: { BASE_URL: "https://switchboard.example.com" } });
    try {
      const res = await https.app.inject({ method: "GET", url: "/healthz" });
      expect(res.headers["strict-transport-security"]).toMatch(/max-age=31536000/);
      await https.app.inject({
        method: "POST",
        url: "/api/auth/sign-up/email",
        headers: { origin: "https://switchboard.example.com" },
        payload: { email: "tls@example.com", password: "correct-horse-battery", name: "T" },
      });
      const signUpRes = await https.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        headers: { origin: "https://switchboard.example.com" },
        payload: { email: "tls@example.com", password: "correct-horse-battery" },
      });
      const cookie = ([] as string[])
        .concat(signUpRes.headers["set-cookie"] ?? [])
        .find((c) => c.includes("session_token"));
      expect(cookie).toMatch(/; Secure/i);
      expect(cookie).toMatch(/HttpOnly/i);
    } finally {
      await https.close();
    }
  });

  it("allows CORS with credentials for configured origins only", async () => {
    const preflight = (origin: string) =>
      t.app.inject({
        method: "OPTIONS",
        url: "/mcp/servers",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
    const ok = await preflight("http://localhost:5173");
    expect(ok.headers["access-control-allow-origin"]).toBe("http://localhost:5173");
    expect(ok.headers["access-control-allow-credentials"]).toBe("true");
    const own = await t.app.inject({
      method: "GET",
      url: "/healthz",
      headers: { origin: "http://localhost:3000" },
    });
    expect(own.headers["access-control-allow-origin"]).toBe("http://localhost:3000");
    const foreign = await preflight("https://evil.example.com");
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
    const get = await t.app.inject({
      method: "GET",
      url: "/mcp/servers",
      headers: { origin: "https://evil.example.com", cookie: tenant.admin.cookie },
    });
    expect(get.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("refuses an OPTIONS request that is no preflight as problem+json, from any origin", async () => {
    for (const origin of ["http://localhost:3000", "https://evil.example.com"]) {
      for (const url of ["/mcp/servers", "/api/auth/get-session", "/gateway/acme/weather/mcp"]) {
        const res = await t.app.inject({ method: "OPTIONS", url, headers: { origin } });
        expect(res.statusCode, `${origin} ${url}`).toBe(400);
        expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
        expect(res.json()).toMatchObject({
          code: "VALIDATION",
          detail: expect.stringMatching(/Access-Control-Request-Method/),
        });
        expect(res.headers["access-control-allow-methods"]).toBeUndefined();
      }
    }
  });

  it("refuses a cookie-authenticated write from a foreign or missing origin, and changes nothing", async () => {
    const post = (headers: Record<string, string>) =>
      t.app.inject({
        method: "POST",
        url: "/mcp/servers",
        headers: { cookie: tenant.admin.cookie, ...headers },
        payload: { name: `csrf-${Object.keys(headers).join("-") || "none"}`, url: "http://127.0.0.1:9/mcp" },
      });
    const evil = await post({ origin: "https://evil.example.com" });
    expect(evil.statusCode).toBe(403);
    expect(evil.json().detail).toMatch(/evil\.example\.com is not a trusted origin/);
    expect((await post({ referer: "https://evil.example.com/page" })).statusCode).toBe(403);
    expect((await post({})).statusCode).toBe(403);
    const names = (
      await queryRows<{ name: string }>(
        t.database.db,
        sql`SELECT name FROM mcp_servers WHERE tenant_id = ${tenant.orgId}`,
      )
    ).map((r) => r.name);
    expect(names).toEqual([]);
    expect((await post({ origin: "http://localhost:3000" })).statusCode).toBe(201);
    expect((await post({ referer: "http://localhost:5173/servers/new" })).statusCode).toBe(201);
  });
});

describe("secrets never leak", () => {
  let t: TestApp;
  let mcp: RunningMcpServer;
  beforeAll(async () => {
    t = await createTestApp("pglite", { env: { LOG_LEVEL: "trace" } });
    mcp = await startMcpServer({
      requireHeader: { name: "Authorization", value: "Bearer upstream-SECRET-7f3a9c" },
    });
  });
  afterAll(async () => {
    await mcp.close();
    await t.close();
  });

  it("keeps API keys, upstream header values and session tokens out of logs, audit rows, errors and lists", async () => {
    const upstream = "upstream-SECRET-7f3a9c";
    const tenant = await createTenant(t.app);
    const admin = as(t.app, tenant.admin);
    const bodies: string[] = [];
    const call = async (args: Parameters<typeof admin>[0]) => {
      const res = await admin(args);
      bodies.push(res.body);
      return res;
    };
    const server = (
      await call({
        method: "POST",
        url: "/mcp/servers",
        payload: {
          name: "secretive",
          url: mcp.url,
          headers: [{ name: "Authorization", value: `Bearer ${upstream}` }],
        },
      })
    ).json();
    const created = await admin({
      method: "POST",
      url: `/mcp/servers/${server.id}/keys`,
      payload: { name: "ci" },
    });
    const key = created.json().key as string;
    expect(key).toMatch(/^mcp_/);

    await call({ method: "GET", url: "/mcp/servers" });
    await call({ method: "GET", url: `/mcp/servers/${server.id}` });
    await call({
      method: "PATCH",
      url: `/mcp/servers/${server.id}`,
      payload: { headers: [{ name: "Authorization" }], tags: ["x"] },
    });
    await call({
      method: "PATCH",
      url: `/mcp/servers/${server.id}`,
      payload: { headers: [{ name: "Authorization", value: "" }] },
    });
    await call({ method: "POST", url: `/mcp/servers/${server.id}/check` });
    await call({ method: "GET", url: `/mcp/servers/${server.id}/health` });
    await call({
      method: "POST",
      url: "/mcp/probe",
      payload: { url: mcp.url, headers: [{ name: "Authorization", value: `Bearer ${upstream}` }] },
    });
    await call({ method: "GET", url: `/mcp/servers/${server.id}/keys` });
    await call({ method: "GET", url: "/mcp/audit-logs?pageSize=200" });
    await call({
      method: "POST",
      url: "/mcp/servers",
      payload: {
        name: "secretive",
        url: mcp.url,
        headers: [{ name: "Authorization", value: `Bearer ${upstream}` }],
      },
    });
    for (const auth of [`Bearer ${key}`, `Bearer ${key}x`]) {
      const res = await t.app.inject({ method: "GET", url: "/mcp/whoami", headers: { authorization: auth } });
      bodies.push(res.body);
    }
    await call({ method: "DELETE", url: `/mcp/servers/${server.id}/keys/${created.json().id}` });
    await call({ method: "DELETE", url: `/mcp/servers/${server.id}` });

    // The probe did use the stored header: the server answered the check.
    expect(bodies.some((b) => b.includes('"status":"healthy"'))).toBe(true);

    const sessionToken = tenant.admin.cookie.split("=")[1]?.split(".")[0] ?? "";
    expect(sessionToken.length).toBeGreaterThan(10);
    const audit = JSON.stringify(await queryRows(t.database.db, sql`SELECT * FROM audit_logs`));
    const logs = JSON.stringify(t.logs);
    for (const secret of [upstream, key, key.slice(12), sessionToken]) {
      expect(logs, "log lines").not.toContain(secret);
      expect(audit, "audit rows").not.toContain(secret);
      for (const body of bodies) expect(body, "response bodies").not.toContain(secret);
    }
    expect(t.logs.length).toBeGreaterThan(20);
  });
});
