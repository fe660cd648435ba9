import type { SocketMessage } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { type RunningMcpServer, startMcpServer } from "../src/demo/mcp-servers";
import { as, createTenant, createTestApp, secondInstance, type Tenant, type TestApp } from "./app";

/** A WebSocket client that keeps every message it receives. */
async function connect(base: string, cookie?: string) {
  const messages: SocketMessage[] = [];
  const ws = new WebSocket(`${base.replace("http", "ws")}/mcp/events`, { headers: cookie ? { cookie } : {} });
  ws.on("message", (data) => messages.push(JSON.parse(String(data))));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
  const waitFor = async (pred: (m: SocketMessage) => boolean, ms = 5000) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const found = messages.find(pred);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no matching message in ${JSON.stringify(messages)}`);
  };
  return { ws, messages, waitFor };
}

async function listen(t: Pick<TestApp, "app">) {
  await t.app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = t.app.server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

describe("live events over /mcp/events", () => {
  let t: TestApp;
  let base: string;
  let a: Tenant;
  let b: Tenant;
  let mcp: RunningMcpServer;

  beforeAll(async () => {
    t = await createTestApp("pglite", { env: { EVENTS_HEARTBEAT_SECONDS: "1", PROBE_TIMEOUT_MS: "2000" } });
    base = await listen(t);
    a = await createTenant(t.app);
    b = await createTenant(t.app);
    mcp = await startMcpServer({ name: "live" });
  });
  afterAll(async () => {
    await mcp.close().catch(() => {});
    await t.close();
  });

  it("refuses a socket without a session", async () => {
    await expect(connect(base)).rejects.toThrow("HTTP 401");
  });

  it("forwards only its organization's public events, and only the fields the contract names", async () => {
    const client = await connect(base, a.member.cookie);
    try {
      await client.waitFor((m) => m.type === "hello");
      const serverId = "00000000-0000-4000-8000-0000000000e1";
      // Internal events, and another organization's public ones, never reach this socket.
      await t.runtime.bus.publish({ type: "api_key.revoked", tenantId: a.orgId, keyId: serverId });
      await t.runtime.bus.publish({ type: "tenant.deleted", tenantId: a.orgId });
      await t.runtime.bus.publish({
        type: "public",
        tenantId: b.orgId,
        event: { type: "server.deleted", serverId: "00000000-0000-4000-8000-0000000000b0" },
      });
      const leaky = { type: "server.deleted", serverId, internalNote: "not for browsers" };
      await t.runtime.bus.publish({ type: "public", tenantId: a.orgId, event: leaky as never });
      const got = await client.waitFor((m) => m.type === "server.deleted");
      expect(got).toEqual({ type: "server.deleted", serverId });
      await new Promise((r) => setTimeout(r, 100));
      expect(client.messages.map((m) => m.type).filter((type) => type !== "heartbeat")).toEqual([
        "hello",
        "server.deleted",
      ]);
    } finally {
      client.ws.close();
    }
  });

  it("greets, sends heartbeats, and streams the tenant's server and health events", async () => {
    const clientA = await connect(base, a.member.cookie);
    const clientB = await connect(base, b.owner.cookie);
    try {
      expect(await clientA.waitFor((m) => m.type === "hello")).toEqual({
        type: "hello",
        tenantId: a.orgId,
        heartbeatSeconds: 1,
      });
      await clientA.waitFor((m) => m.type === "heartbeat", 3000);

      const admin = as(t.app, a.admin);
      const id = (
        await admin({ method: "POST", url: "/mcp/servers", payload: { name: "live", url: mcp.url } })
      ).json().id;
      const created = await clientA.waitFor((m) => m.type === "server.created");
      expect(created).toMatchObject({
        type: "server.created",
        server: { id, name: "live", status: "unknown" },
      });

      await admin({ method: "POST", url: `/mcp/servers/${id}/check` });
      expect(
        await clientA.waitFor((m) => m.type === "health.changed" && m.status === "healthy"),
      ).toMatchObject({
        serverId: id,
        previousStatus: "unknown",
        latencyMs: expect.any(Number),
      });

      await mcp.close();
      await admin({ method: "POST", url: `/mcp/servers/${id}/check` });
      expect(
        await clientA.waitFor((m) => m.type === "health.changed" && m.status === "unhealthy"),
      ).toMatchObject({
        serverId: id,
        previousStatus: "healthy",
        error: "connection_refused",
      });

      await admin({ method: "PATCH", url: `/mcp/servers/${id}`, payload: { description: "changed" } });
      await clientA.waitFor((m) => m.type === "server.updated" && m.server.description === "changed");
      await admin({ method: "DELETE", url: `/mcp/servers/${id}` });
      expect(await clientA.waitFor((m) => m.type === "server.deleted")).toEqual({
        type: "server.deleted",
        serverId: id,
      });

      // Tenant B heard none of it.
      expect(clientB.messages.filter((m) => m.type !== "hello" && m.type !== "heartbeat")).toEqual([]);
    } finally {
      clientA.ws.close();
      clientB.ws.close();
    }
  });
  it("closes a socket at its next heartbeat once its user leaves the organization or signs out", async () => {
    const tenant = await createTenant(t.app);
    const closed = (ws: WebSocket) =>
      new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
      );
    const member = await connect(base, tenant.member.cookie);
    const admin = await connect(base, tenant.admin.cookie);
    const owner = await connect(base, tenant.owner.cookie);
    try {
      await member.waitFor((m) => m.type === "hello");
      const memberClosed = closed(member.ws);
      const removed = await as(
        t.app,
        tenant.owner,
      )({
        method: "POST",
        url: "/api/auth/organization/remove-member",
        payload: { memberIdOrEmail: tenant.member.email, organizationId: tenant.orgId },
      });
      expect(removed.statusCode).toBe(200);
      const gone = await memberClosed;
      expect(gone.code).toBe(4403);
      expect(gone.reason).toMatch(/organization/);

      const adminClosed = closed(admin.ws);
      const out = await as(t.app, tenant.admin)({ method: "POST", url: "/api/auth/sign-out" });
      expect(out.statusCode).toBe(200);
      expect(await adminClosed).toEqual({ code: 4401, reason: "Sign in first: this route needs a session" });

      // Whoever keeps their session and membership keeps their socket, heartbeat after heartbeat.
      await expect
        .poll(() => owner.messages.filter((m) => m.type === "heartbeat").length, { timeout: 5_000 })
        .toBeGreaterThan(2);
      expect(owner.ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      for (const c of [member, admin, owner]) c.ws.close();
    }
  });
});

describe.runIf(process.env.TEST_REDIS_URL)("live events across instances through Redis", () => {
  let one: TestApp;
  let two: Awaited<ReturnType<typeof secondInstance>>;
  beforeAll(async () => {
    const env = {
      REDIS_URL: process.env.TEST_REDIS_URL as string,
      REDIS_PREFIX: `${inject("runId")}:events-test:`,
    };
    one = await createTestApp("pglite", { env });
    // The second instance shares the first one's database, as instances behind one load balancer do.
    two = await secondInstance(one);
  });
  afterAll(async () => {
    await two.close();
    await one.close();
  });

  it("delivers a change made on one instance to a socket on another", async () => {
    const base = await listen(two);
    const tenant = await createTenant(one.app);
    const client = await connect(base, tenant.member.cookie);
    try {
      await client.waitFor((m) => m.type === "hello");
      const res = await as(
        one.app,
        tenant.admin,
      )({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "elsewhere", url: "http://127.0.0.1:9/mcp" },
      });
      expect(res.statusCode).toBe(201);
      const event = await client.waitFor((m) => m.type === "server.created");
      expect(event).toMatchObject({ server: { name: "elsewhere" } });
    } finally {
      client.ws.close();
    }
  });
});
