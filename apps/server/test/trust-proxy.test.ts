import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config";
import { queryRows } from "../src/db/client";
import { as, createTenant, createTestApp, ORIGIN, signUp, type TestApp } from "./app";

const FORWARDED = { "x-forwarded-for": "203.0.113.9" };
const ipRoute = (app: TestApp["app"]) => app.get("/test/ip", async (request) => ({ ip: request.ip }));

describe("TRUST_PROXY", () => {
  const base = { DATA_DIR: "/tmp/unused", AUTH_SECRET: "x".repeat(32), SECRETS_KEY: "a".repeat(64) };
  const parse = (TRUST_PROXY?: string) =>
    loadConfig({ ...base, ...(TRUST_PROXY === undefined ? {} : { TRUST_PROXY }) }).trustProxy;

  it("trusts no proxy unless told, and takes true or a list of addresses and CIDRs", () => {
    expect(parse()).toBe(false);
    expect(parse("false")).toBe(false);
    expect(parse("true")).toBe(true);
    expect(parse("10.0.0.1, 10.1.0.0/16,loopback, fd00::/8")).toEqual([
      "10.0.0.1",
      "10.1.0.0/16",
      "loopback",
      "fd00::/8",
    ]);
  });

  it.each(["2", "proxy.internal", "10.0.0.0/33", "10.0.0.1,nope"])("refuses %s, naming the variable", (v) => {
    expect(() => parse(v)).toThrow(ConfigError);
    expect(() => parse(v)).toThrow(/TRUST_PROXY: must be true, false, or a comma list/);
  });

  describe("the client address", () => {
    const apps: TestApp[] = [];
    const start = async (env: Record<string, string> = {}) => {
      const t = await createTestApp("pglite", { env, routes: ipRoute });
      apps.push(t);
      return t;
    };
    afterAll(async () => {
      await Promise.all(apps.map((t) => t.close()));
    });
    const ipOf = async (t: TestApp, headers: Record<string, string> = FORWARDED) =>
      (await t.app.inject({ method: "GET", url: "/test/ip", headers })).json().ip;

    it("is the peer's by default, whatever X-Forwarded-For says, in requests and audit rows alike", async () => {
      const t = await start();
      expect(await ipOf(t)).toBe("127.0.0.1");
      const tenant = await createTenant(t.app);
      const created = await as(
        t.app,
        tenant.admin,
      )({
        method: "POST",
        url: "/mcp/servers",
        headers: FORWARDED,
        payload: { name: "behind-nothing", url: "http://127.0.0.1:9/mcp" },
      });
      expect(created.statusCode).toBe(201);
      const [row] = await queryRows<{ ip: string | null }>(
        t.database.db,
        sql`SELECT ip FROM audit_logs WHERE target_id = ${created.json().id}`,
      );
      expect(row?.ip).toBe("127.0.0.1");
    });

    it("is X-Forwarded-For's when the peer is a trusted proxy, and the peer's when it is not", async () => {
      expect(await ipOf(await start({ TRUST_PROXY: "true" }))).toBe("203.0.113.9");
      expect(await ipOf(await start({ TRUST_PROXY: "127.0.0.1/8" }))).toBe("203.0.113.9");
      // The peer (127.0.0.1) is not the proxy named: its header is the client's own word.
      expect(await ipOf(await start({ TRUST_PROXY: "10.0.0.1" }))).toBe("127.0.0.1");
    });
  });

  describe("sessions", () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp("pglite");
    });
    afterAll(() => t.close());

    // Better-Auth records the X-Forwarded-For it is handed: modules/auth/routes.ts hands it the
    // address Fastify judged by TRUST_PROXY (request.ip), never the client's own header.
    it("records the peer's address for a session when no proxy is trusted", async () => {
      const user = await signUp(t.app);
      const res = await t.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        headers: { ...ORIGIN, ...FORWARDED },
        payload: { email: user.email, password: "correct-horse-battery" },
      });
      expect(res.statusCode).toBe(200);
      const rows = await queryRows<{ ip: string | null }>(
        t.database.db,
        sql`SELECT s.ip_address AS ip FROM session s JOIN "user" u ON u.id = s.user_id WHERE u.email = ${user.email}`,
      );
      expect(rows.map((r) => r.ip)).not.toContain("203.0.113.9");
    });
  });
});
