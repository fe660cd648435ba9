import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp, testClock } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { queryRows } from "../../db/client";
import { type RunningMcpServer, startMcpServer } from "../../demo/mcp-servers";
import { createUsageRecorder, purgeUsage } from "./service";

const T0 = new Date("2031-03-01T10:00:00.000Z");
const MINUTE = 60_000;

const rpc = (method: string, params: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });

describe.each(testDatabaseKinds())("gateway usage on %s", (kind) => {
  const clock = testClock(T0);
  let t: TestApp;
  let base: string;
  let tenant: Tenant;
  let admin: ReturnType<typeof as>;
  let slug: string;
  let mcp: RunningMcpServer;
  let serverId: string;
  let keyA: { id: string; key: string };
  let keyB: { id: string; key: string };

  const call = (key: string, body = rpc("tools/call", { name: "echo", arguments: { text: "hi" } })) =>
    fetch(`${base}/gateway/${slug}/metered/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body,
    }).then(async (res) => {
      await res.text();
      return res.status;
    });
  const rows = async () =>
    (
      await queryRows<{ key_id: string; minute: string | Date; calls: number; errors: number }>(
        t.database.db,
        sql`SELECT key_id, minute, calls, errors FROM mcp_usage_minutes WHERE server_id = ${serverId} ORDER BY minute, key_id`,
      )
    ).map((r) => ({ ...r, minute: new Date(r.minute) }));
  const usage = (query: string) => admin({ method: "GET", url: `/mcp/servers/${serverId}/usage${query}` });

  beforeAll(async () => {
    t = await createTestApp(kind, { clock, env: { RATE_LIMIT_GATEWAY: "100000" } });
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    slug = (
      await queryRows<{ slug: string }>(
        t.database.db,
        sql`SELECT slug FROM organization WHERE id = ${tenant.orgId}`,
      )
    )[0]?.slug as string;
    mcp = await startMcpServer({ name: "metered", stateless: true, jsonResponse: true });
    serverId = (
      await admin({ method: "POST", url: "/mcp/servers", payload: { name: "metered", url: mcp.url } })
    ).json().id;
    const issue = async (payload: Record<string, unknown>) => {
      const k = (await admin({ method: "POST", url: `/mcp/servers/${serverId}/keys`, payload })).json();
      return { id: k.id as string, key: k.key as string };
    };
    keyA = await issue({ name: "a" });
    keyB = await issue({ name: "b", tools: ["echo"] });
  });
  afterAll(async () => {
    await mcp.close();
    await t.close();
  });

  it("rolls calls up per server, key and minute, in one row each however many batches add to it", async () => {
    for (let i = 0; i < 3; i++) expect(await call(keyA.key)).toBe(200);
    await t.runtime.usage.flush();
    clock.advance(61_000);
    expect(await call(keyA.key)).toBe(200);
    expect(await call(keyB.key)).toBe(200);
    // Refused by the key's allow-list (a JSON-RPC error in a 200): a call, and an error.
    expect(await call(keyB.key, rpc("tools/call", { name: "add", arguments: {} }))).toBe(200);
    await t.runtime.usage.flush();
    expect(await call(keyA.key)).toBe(200);
    await t.runtime.usage.flush();

    const written = await rows();
    expect(written).toHaveLength(3);
    expect(written[0]).toEqual({ key_id: keyA.id, minute: T0, calls: 3, errors: 0 });
    const second = (await rows()).filter((r) => r.minute.getTime() === T0.getTime() + MINUTE);
    expect(Object.fromEntries(second.map((r) => [r.key_id, [r.calls, r.errors]]))).toEqual({
      [keyA.id]: [2, 0],
      [keyB.id]: [2, 1],
    });
  });

  it("answers a server's usage over time in buckets of `step`, empty ones with zeros", async () => {
    const from = T0.toISOString();
    const to = new Date(T0.getTime() + 5 * MINUTE).toISOString();
    const res = await usage(`?from=${from}&to=${to}&step=60`);
    expect(res.statusCode, JSON.stringify(t.logs.filter((l) => (l.level as number) >= 50).slice(-1))).toBe(
      200,
    );
    const body = res.json();
    expect(body).toMatchObject({ serverId, keyId: null, from, to, step: 60 });
    expect(body.points.map((p: { calls: number; errors: number }) => [p.calls, p.errors])).toEqual([
      [3, 0],
      [4, 1],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    const first = body.points[0];
    expect(first.at).toBe(from);
    expect(first.bytesIn).toBeGreaterThan(0);
    expect(first.bytesOut).toBeGreaterThan(0);
    expect(first.latencyMsAvg).toBeGreaterThanOrEqual(0);
    expect(first.latencyMsMax).toBeGreaterThanOrEqual(Math.floor(first.latencyMsAvg));
    expect(body.points[2]).toMatchObject({ calls: 0, latencyMsAvg: null, latencyMsMax: null, bytesIn: 0 });
    expect(body.totals).toMatchObject({ calls: 7, errors: 1 });

    // Five-minute buckets start at multiples of five minutes: one bucket holds both minutes.
    const coarse = (await usage(`?from=${from}&to=${to}&step=300`)).json();
    expect(coarse.points).toHaveLength(1);
    expect(coarse.points[0]).toMatchObject({ at: from, calls: 7, errors: 1 });
  });

  it("limits the figures to one key with keyId", async () => {
    const body = (await usage(`?keyId=${keyB.id.toUpperCase()}`)).json();
    expect(body.keyId).toBe(keyB.id);
    expect(body.totals).toMatchObject({ calls: 2, errors: 1 });
  });

  it("covers the last 24 hours by the runtime's clock when no range is given, in 5-minute steps", async () => {
    const body = (await usage("")).json();
    expect(body.step).toBe(300);
    expect(body.to).toBe(clock.now().toISOString());
    expect(body.points.length).toBeGreaterThanOrEqual(288);
    expect(body.points.length).toBeLessThanOrEqual(289);
    expect(body.totals.calls).toBe(7);
  });

  it("answers each key's calls in the last 24 hours, busiest first", async () => {
    const res = await admin({ method: "GET", url: `/mcp/servers/${serverId}/usage/keys` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().items).toEqual([
      expect.objectContaining({
        keyId: keyA.id,
        calls: 5,
        errors: 0,
        lastCallAt: new Date(T0.getTime() + MINUTE).toISOString(),
      }),
      expect.objectContaining({ keyId: keyB.id, calls: 2, errors: 1 }),
    ]);
    clock.advance(25 * 3_600_000);
    expect((await admin({ method: "GET", url: `/mcp/servers/${serverId}/usage/keys` })).json().items).toEqual(
      [],
    );
  });

  it.each([
    ["from after to", "?from=2031-03-02T00:00:00Z&to=2031-03-01T00:00:00Z", "query.from"],
    ["a step under a minute", "?step=30", "query.step"],
    ["a step that is not whole minutes", "?step=90", "query.step"],
    ["too many points", "?from=2031-01-01T00:00:00Z&to=2031-03-01T00:00:00Z&step=60", "query.step"],
    ["a bad date", "?from=yesterday", "query.from"],
    ["an unknown parameter", "?granularity=1m", "query.granularity"],
  ])("refuses %s with a 400 that names the parameter", async (_, query, path) => {
    const res = await usage(query);
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(JSON.stringify(res.json().issues)).toContain(path);
  });

  it("shows a server's usage to its members, and to no other organization", async () => {
    const mine = await as(t.app, tenant.member)({ method: "GET", url: `/mcp/servers/${serverId}/usage` });
    expect(mine.statusCode).toBe(200);
    const stranger = await createTenant(t.app);
    for (const path of ["usage", "usage/keys"]) {
      const res = await as(t.app, stranger.admin)({ method: "GET", url: `/mcp/servers/${serverId}/${path}` });
      expect(res.statusCode).toBe(404);
    }
  });

  it("purges minutes past the retention period and keeps the rest", async () => {
    const before = await rows();
    expect(before.length).toBeGreaterThan(0);
    const at = (ms: number) => ({ now: () => new Date(ms) });
    // 90 days after the first minute, nothing is old enough yet; half a minute more, the first minute is.
    expect(
      await purgeUsage({ db: t.database.db, clock: at(T0.getTime() + 90 * 86_400_000), retentionDays: 90 }),
    ).toBe(0);
    expect(
      await purgeUsage({
        db: t.database.db,
        clock: at(T0.getTime() + 90 * 86_400_000 + 30_000),
        retentionDays: 90,
      }),
    ).toBe(1);
    expect((await rows()).map((r) => r.minute.getTime())).toEqual(
      before.filter((r) => r.minute.getTime() > T0.getTime()).map((r) => r.minute.getTime()),
    );
  });

  it("keeps a batch whose server was deleted meanwhile: the others' calls are written", async () => {
    const gone = (
      await admin({ method: "POST", url: "/mcp/servers", payload: { name: "gone", url: mcp.url } })
    ).json();
    const goneKey = (
      await admin({ method: "POST", url: `/mcp/servers/${gone.id}/keys`, payload: { name: "g" } })
    ).json();
    const recorder = createUsageRecorder({ db: t.database.db, clock, log: t.runtime.log, maxItems: 100 });
    const counted = { ok: true, latencyMs: 5, bytesIn: 10, bytesOut: 20, tenantId: tenant.orgId };
    recorder.record({ ...counted, serverId: gone.id, keyId: goneKey.id });
    recorder.record({ ...counted, serverId, keyId: keyA.id });
    expect((await admin({ method: "DELETE", url: `/mcp/servers/${gone.id}` })).statusCode).toBe(204);
    const before = (await rows()).reduce((n, r) => n + r.calls, 0);
    await recorder.flush();
    expect((await rows()).reduce((n, r) => n + r.calls, 0)).toBe(before + 1);
    expect(t.logs.filter((l) => l.msg?.toString().startsWith("could not record gateway usage"))).toEqual([]);
  });
});
