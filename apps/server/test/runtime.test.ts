import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../src/app";
import { queryRows } from "../src/db/client";
import { createJobs } from "../src/jobs";
import { createMemoryBus, type InternalEvent } from "../src/lib/bus";
import type { ServiceContext } from "../src/lib/context";
import type { Mail, Mailer } from "../src/lib/mailer";
import type { SecretBox } from "../src/lib/secrets";
import { withTransaction } from "../src/lib/transaction";
import type { Prober, ProbeTarget } from "../src/modules/health/probe";
import { createServer, type ServerDeps } from "../src/modules/servers/service";
import { createUpstreamDispatcher } from "../src/modules/upstream/dispatcher";
import { createRuntime } from "../src/runtime";
import {
  as,
  createTenant,
  createTestApp,
  ORIGIN,
  PASSWORD,
  type Tenant,
  type TestApp,
  testClock,
} from "./app";

const AT = new Date("2031-05-04T03:02:01.000Z");

describe("the composition root", () => {
  let t: TestApp;
  let tenant: Tenant;
  const clock = testClock(AT);
  const probed: ProbeTarget[] = [];
  const fakeProbe: Prober = async (target) => {
    probed.push(target);
    return {
      status: "degraded",
      latencyMs: 4321,
      error: "from-the-fake",
      serverInfo: {
        name: "fake",
        version: "9.9",
        protocolVersion: "2025-06-18",
        era: "legacy",
        capabilities: {},
      },
      tools: [],
      prompts: [],
      resources: [],
      authChallenge: null,
    };
  };
  const events: InternalEvent[] = [];
  const bus = createMemoryBus();
  bus.subscribe((e) => events.push(e));

  beforeAll(async () => {
    t = await createTestApp("pglite", { clock, probe: fakeProbe, events: bus });
    tenant = await createTenant(t.app);
  });
  afterAll(() => t.close());

  it("uses the prober, clock and bus a test injects, in requests and in the scheduler alike", async () => {
    const admin = as(t.app, tenant.admin);
    const server = (
      await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: {
          name: "faked",
          url: "http://127.0.0.1:9/mcp",
          headers: [{ name: "X-Token", value: "s3cret" }],
        },
      })
    ).json();
    expect(server.createdAt).toBe(AT.toISOString());
    expect(events.some((e) => e.type === "public" && e.event.type === "server.created")).toBe(true);

    const checked = (await admin({ method: "POST", url: `/mcp/servers/${server.id}/check` })).json();
    expect(checked.check).toMatchObject({
      status: "degraded",
      error: "from-the-fake",
      checkedAt: AT.toISOString(),
    });
    expect(probed.at(-1)).toEqual({
      url: "http://127.0.0.1:9/mcp",
      transport: "streamable-http",
      headers: { "X-Token": "s3cret" },
    });

    // The scheduler the jobs build runs on the same runtime: same fake, same clock.
    probed.length = 0;
    clock.advance(3_600_000);
    const jobs = createJobs(t.runtime, { scheduler: true });
    jobs.start();
    try {
      await vi.waitFor(() => expect(probed.length).toBeGreaterThan(0));
    } finally {
      await jobs.stop();
    }
    const [row] = await queryRows<{ last_checked_at: Date | string; last_error: string }>(
      t.database.db,
      sql`SELECT last_checked_at, last_error FROM mcp_servers WHERE id = ${server.id}`,
    );
    expect(new Date(row?.last_checked_at ?? 0).toISOString()).toBe(clock.now().toISOString());
    expect(row?.last_error).toBe("from-the-fake");
  });

  it("closes what it built and leaves open what it was given", async () => {
    const runtime = await createRuntime(t.config, { database: t.database, logStream: { write: () => {} } });
    await runtime.close();
    const [row] = await queryRows<{ one: number }>(t.database.db, sql`SELECT 1 AS one`);
    expect(row?.one).toBe(1);
  });

  it("sends mail through the mailer a test injects, seals headers with its secret box, and probes through its dispatcher", async () => {
    const mails: Mail[] = [];
    let mailerClosed = false;
    const mailer: Mailer = {
      delivers: true,
      send: async (mail) => {
        mails.push(mail);
      },
      close: () => {
        mailerClosed = true;
      },
    };
    const secrets: SecretBox = {
      seal: (plain) => `sealed-by-test:${Buffer.from(plain).toString("base64url")}`,
      open: (sealed) => Buffer.from(sealed.replace("sealed-by-test:", ""), "base64url").toString(),
    };
    // The configuration allows private targets; the injected dispatcher refuses them.
    const dispatcher = createUpstreamDispatcher({ allowPrivate: false });
    const lines: string[] = [];
    const runtime = await createRuntime(t.config, {
      database: t.database,
      mailer,
      secrets,
      dispatcher,
      logStream: { write: (line) => lines.push(line) },
    });
    const app = await buildApp(runtime);
    await app.ready();
    try {
      const email = `mailed-${Date.now()}@example.com`;
      const signUp = await app.inject({
        method: "POST",
        url: "/api/auth/sign-up/email",
        headers: ORIGIN,
        payload: { email, password: PASSWORD, name: "mailed" },
      });
      expect(signUp.statusCode).toBe(200);
      await vi.waitFor(() => expect(mails.map((m) => m.to)).toEqual([email]));
      expect(mails[0]?.link).toContain("/api/auth/verify-email?token=");
      // The mailer config would have built (no SMTP_URL: links go to the log) was never used.
      expect(lines.join("\n")).not.toContain("no SMTP_URL set");

      const tenant = await createTenant(app);
      const admin = as(app, tenant.admin);
      const created = await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: {
          name: "sealed",
          url: "http://127.0.0.1:9/mcp",
          headers: [{ name: "X-Token", value: "s3cret" }],
        },
      });
      expect(created.statusCode).toBe(201);
      const [row] = await queryRows<{ headers: { name: string; value: string }[] }>(
        t.database.db,
        sql`SELECT headers FROM mcp_servers WHERE id = ${created.json().id}`,
      );
      expect(row?.headers).toEqual([{ name: "X-Token", value: secrets.seal("s3cret") }]);

      const probed = await admin({
        method: "POST",
        url: "/mcp/probe",
        payload: { url: "http://127.0.0.1:9/mcp" },
      });
      expect(probed.json()).toMatchObject({ status: "unhealthy", error: "target_refused" });
    } finally {
      await app.close();
      await runtime.close();
    }
    expect(mailerClosed).toBe(false);
    await dispatcher.close();
  });

  describe("withTransaction", () => {
    const ctx = (): ServiceContext & ServerDeps => ({
      ...t.runtime,
      tenantId: tenant.orgId,
      actor: { type: "user", userId: tenant.admin.id },
      role: "admin",
      log: t.runtime.log,
      correlationId: null,
      ip: null,
      userAgent: null,
    });
    const named = async (...names: string[]) =>
      (
        await queryRows<{ n: number }>(
          t.database.db,
          sql`SELECT count(*)::int AS n FROM mcp_servers WHERE tenant_id = ${tenant.orgId} AND name IN ${names}`,
        )
      )[0]?.n;
    const audited = async (...names: string[]) =>
      (
        await queryRows<{ n: number }>(
          t.database.db,
          sql`SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = ${tenant.orgId}
              AND action = 'server.create' AND changes->>'name' IN ${names}`,
        )
      )[0]?.n;
    const created = (name: string) =>
      events.filter(
        (e) => e.type === "public" && e.event.type === "server.created" && e.event.server.name === name,
      );
    const url = "http://127.0.0.1:9/mcp";

    it("rolls two creates back together, with their audit rows, and publishes nothing", async () => {
      await expect(
        withTransaction(ctx(), async (tx) => {
          await createServer({ ctx: tx, input: { name: "tx-a", url } });
          await createServer({ ctx: tx, input: { name: "tx-b", url } });
          throw new Error("changed my mind");
        }),
      ).rejects.toThrow("changed my mind");
      expect(await named("tx-a", "tx-b")).toBe(0);
      expect(await audited("tx-a", "tx-b")).toBe(0);
      expect(created("tx-a")).toHaveLength(0);
    });

    it("rolls the first create back when the second fails on a duplicate name", async () => {
      await expect(
        withTransaction(ctx(), async (tx) => {
          await createServer({ ctx: tx, input: { name: "tx-c", url } });
          await createServer({ ctx: tx, input: { name: "tx-c", url } });
        }),
      ).rejects.toMatchObject({ code: "CONFLICT" });
      expect(await named("tx-c")).toBe(0);
      expect(created("tx-c")).toHaveLength(0);
    });

    it("commits two creates together and tells the dashboards only after the commit", async () => {
      let seenInside = -1;
      await withTransaction(ctx(), async (tx) => {
        await createServer({ ctx: tx, input: { name: "tx-d", url } });
        await createServer({ ctx: tx, input: { name: "tx-e", url } });
        seenInside = created("tx-d").length;
      });
      expect(seenInside).toBe(0);
      expect(await named("tx-d", "tx-e")).toBe(2);
      expect(await audited("tx-d", "tx-e")).toBe(2);
      expect(created("tx-d")).toHaveLength(1);
      expect(created("tx-e")).toHaveLength(1);
    });
  });
});
