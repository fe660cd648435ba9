import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import {
  as,
  createTenant,
  createTestApp,
  secondInstance,
  type Tenant,
  type TestApp,
  testClock,
} from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { queryRows } from "../../db/client";

describe.each(testDatabaseKinds())("API keys on %s", (kind) => {
  let t: TestApp;
  let tenant: Tenant;
  let admin: ReturnType<typeof as>;
  let member: ReturnType<typeof as>;
  let serverId: string;
  const clock = testClock(new Date("2026-03-01T12:00:00Z"));

  const createKey = (payload: Record<string, unknown> = { name: "ci" }, server = serverId) =>
    admin({ method: "POST", url: `/mcp/servers/${server}/keys`, payload });
  const whoami = (authorization?: string) =>
    t.app.inject({ method: "GET", url: "/mcp/whoami", headers: authorization ? { authorization } : {} });
  const keyRow = async (id: string) =>
    (
      await queryRows<Record<string, unknown>>(
        t.database.db,
        sql`SELECT * FROM mcp_api_keys WHERE id = ${id}`,
      )
    )[0];

  beforeAll(async () => {
    t = await createTestApp(kind, { clock });
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    member = as(t.app, tenant.member);
    const res = await admin({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "keyed", url: "http://127.0.0.1:9/mcp" },
    });
    serverId = res.json().id;
  });
  afterAll(() => t.close());

  it("issues a 64-character key once and stores only its SHA-256 hash and prefix", async () => {
    const res = await createKey({ name: "deploy bot" });
    expect(res.statusCode).toBe(201);
    expect(res.headers["cache-control"]).toBe("no-store");
    const created = res.json();
    expect(created.key).toMatch(/^mcp_[A-Za-z0-9_-]{60}$/);
    expect(created.key).toHaveLength(64);
    expect(created).toMatchObject({
      serverId,
      name: "deploy bot",
      prefix: created.key.slice(0, 12),
      createdBy: tenant.admin.id,
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
    });
    const row = await keyRow(created.id);
    expect(row?.key_hash).toBe(createHash("sha256").update(created.key).digest("hex"));
    const everything = JSON.stringify(
      await queryRows(
        t.database.db,
        sql`SELECT k.*, a.* FROM mcp_api_keys k, audit_logs a WHERE a.tenant_id = ${tenant.orgId}`,
      ),
    );
    expect(everything).not.toContain(created.key);
    expect(everything).not.toContain(created.key.slice(12));
  });

  it("never shows the key again in the list", async () => {
    const created = (await createKey({ name: "listed" })).json();
    const res = await member({ method: "GET", url: `/mcp/servers/${serverId}/keys` });
    expect(res.statusCode).toBe(200);
    const listed = res.json().items.find((k: { id: string }) => k.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      serverId,
      name: "listed",
      prefix: created.prefix,
      createdBy: tenant.admin.id,
      createdAt: created.createdAt,
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
      tools: null,
    });
    expect(res.body).not.toContain(created.key);
  });

  it("makes every key different", async () => {
    const keys = new Set<string>();
    for (let i = 0; i < 5; i++) keys.add((await createKey({ name: `k${i}` })).json().key);
    expect(keys.size).toBe(5);
  });

  it("authenticates a valid key at /mcp/whoami", async () => {
    const created = (await createKey()).json();
    const res = await whoami(`Bearer ${created.key}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ tenantId: tenant.orgId, serverId, keyId: created.id });
  });

  it.each([
    ["no Authorization header", undefined],
    ["a malformed key", "Bearer mcp_short"],
    ["an unknown key", `Bearer mcp_${"A".repeat(60)}`],
    ["another scheme", `Basic ${Buffer.from("a:b").toString("base64")}`],
  ])("answers 401 problem+json for %s", async (_, header) => {
    const res = await whoami(header);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: "UNAUTHORIZED", detail: expect.stringContaining("Bearer") });
  });

  it("says why a key opens nothing: malformed, unknown, revoked or expired", async () => {
    const verify = t.runtime.keys.verify;
    expect(await verify("mcp_short")).toEqual({ ok: false, reason: "malformed" });
    expect(await verify(`mcp_${"B".repeat(60)}`)).toEqual({ ok: false, reason: "unknown" });
    const revoked = (await createKey({ name: "revoked" })).json();
    await admin({ method: "DELETE", url: `/mcp/servers/${serverId}/keys/${revoked.id}` });
    expect(await verify(revoked.key)).toEqual({ ok: false, reason: "revoked" });
    expect((await whoami(`Bearer ${revoked.key}`)).json().detail).toBe("This API key has been revoked");
    const expiring = (
      await createKey({ name: "expiring", expiresAt: new Date(clock.now().getTime() + 1000).toISOString() })
    ).json();
    expect(await verify(expiring.key)).toEqual({
      ok: true,
      key: { keyId: expiring.id, tenantId: tenant.orgId, serverId, tools: null },
    });
    clock.advance(1000);
    expect(await verify(expiring.key)).toEqual({ ok: false, reason: "expired" });
    expect((await whoami(`Bearer ${expiring.key}`)).json().detail).toBe("This API key has expired");
  });

  it("remembers a key for API_KEY_CACHE_SECONDS at most when nothing tells it of a change", async () => {
    const created = (await createKey({ name: "cached" })).json();
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(200);
    // Revoked behind Switchboard's back: no event, so only the cache's time to live bounds it.
    await t.database.db.execute(sql`UPDATE mcp_api_keys SET revoked_at = now() WHERE id = ${created.id}`);
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(200);
    clock.advance(t.config.apiKeyCacheSeconds * 1000 + 1);
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(401);
  });

  it("forgets the keys of a deleted server at once", async () => {
    const doomed = (
      await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "doomed", url: "http://127.0.0.1:9/mcp" },
      })
    ).json();
    const created = (await createKey({ name: "doomed" }, doomed.id)).json();
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(200);
    expect((await admin({ method: "DELETE", url: `/mcp/servers/${doomed.id}` })).statusCode).toBe(204);
    expect((await whoami(`Bearer ${created.key}`)).json()).toMatchObject({ status: 401 });
  });

  it("does not accept a session cookie in place of a key", async () => {
    const res = await admin({ method: "GET", url: "/mcp/whoami" });
    expect(res.statusCode).toBe(401);
  });

  it("refuses a revoked key at once; revoking again is fine and audited once", async () => {
    const created = (await createKey({ name: "to revoke" })).json();
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(200);
    const url = `/mcp/servers/${serverId}/keys/${created.id}`;
    expect((await member({ method: "DELETE", url })).statusCode).toBe(403);
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(200);
    const first = await admin({ method: "DELETE", url });
    expect(first.statusCode).toBe(204);
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(401);
    expect((await admin({ method: "DELETE", url })).statusCode).toBe(204);
    const audits = await queryRows<{ action: string }>(
      t.database.db,
      sql`SELECT action FROM audit_logs WHERE target_id = ${created.id} ORDER BY created_at`,
    );
    expect(audits.map((a) => a.action)).toEqual(["key.create", "key.revoke"]);
    const listed = (await member({ method: "GET", url: `/mcp/servers/${serverId}/keys` })).json();
    expect(listed.items.find((k: { id: string }) => k.id === created.id).revokedAt).toBe(
      clock.now().toISOString(),
    );
  });

  it("refuses an expired key", async () => {
    const expiresAt = new Date(clock.now().getTime() + 3_600_000).toISOString();
    const created = (await createKey({ name: "short-lived", expiresAt })).json();
    expect(created.expiresAt).toBe(expiresAt);
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(200);
    clock.advance(3_600_000);
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(401);
  });

  it("refuses to create a key that has already expired, or a nameless one", async () => {
    const past = await createKey({ name: "old", expiresAt: "2020-01-01T00:00:00Z" });
    expect(past.statusCode).toBe(400);
    expect(past.json().issues[0].path).toBe("body.expiresAt");
    const nameless = await createKey({ name: "" });
    expect(nameless.statusCode).toBe(400);
    expect(nameless.json().issues[0].path).toBe("body.name");
    const badDate = await createKey({ name: "x", expiresAt: "next tuesday" });
    expect(badDate.json().issues[0].path).toBe("body.expiresAt");
  });

  it("updates last used at most once a minute", async () => {
    const created = (await createKey({ name: "busy" })).json();
    const lastUsed = async () => {
      const at = (await keyRow(created.id))?.last_used_at as Date | string | null;
      return at === null || at === undefined ? null : new Date(at);
    };
    const t0 = clock.now();
    await whoami(`Bearer ${created.key}`);
    expect((await lastUsed())?.toISOString()).toBe(t0.toISOString());
    clock.advance(30_000);
    await whoami(`Bearer ${created.key}`);
    expect((await lastUsed())?.toISOString()).toBe(t0.toISOString());
    clock.advance(31_000);
    await whoami(`Bearer ${created.key}`);
    expect((await lastUsed())?.toISOString()).toBe(clock.now().toISOString());
  });

  it("refuses members, and 404s a server or key that does not exist", async () => {
    const res = await member({
      method: "POST",
      url: `/mcp/servers/${serverId}/keys`,
      payload: { name: "nope" },
    });
    expect(res.statusCode).toBe(403);
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect((await createKey({ name: "x" }, unknown)).statusCode).toBe(404);
    expect((await admin({ method: "GET", url: `/mcp/servers/${unknown}/keys` })).statusCode).toBe(404);
    expect(
      (await admin({ method: "DELETE", url: `/mcp/servers/${serverId}/keys/${unknown}` })).statusCode,
    ).toBe(404);
  });

  it("404s a key addressed through another server of the same tenant", async () => {
    const other = (
      await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "other", url: "http://127.0.0.1:9/mcp" },
      })
    ).json();
    const created = (await createKey({ name: "mine" })).json();
    const res = await admin({ method: "DELETE", url: `/mcp/servers/${other.id}/keys/${created.id}` });
    expect(res.statusCode).toBe(404);
    expect((await whoami(`Bearer ${created.key}`)).statusCode).toBe(200);
  });
});

describe.runIf(process.env.TEST_REDIS_URL)("API key revocation across instances through Redis", () => {
  let one: TestApp;
  let two: Awaited<ReturnType<typeof secondInstance>>;
  beforeAll(async () => {
    one = await createTestApp("pglite", {
      env: { REDIS_URL: process.env.TEST_REDIS_URL as string, REDIS_PREFIX: `${inject("runId")}:keys:` },
    });
    two = await secondInstance(one);
  });
  afterAll(async () => {
    await two.close();
    await one.close();
  });

  it("refuses a key on the other instance within 2 s of its revocation, though that one had it cached", async () => {
    const tenant = await createTenant(one.app);
    const admin = as(one.app, tenant.admin);
    const server = (
      await admin({
        method: "POST",
        url: "/mcp/servers",
        payload: { name: "shared", url: "http://127.0.0.1:9/mcp" },
      })
    ).json();
    const key = (
      await admin({ method: "POST", url: `/mcp/servers/${server.id}/keys`, payload: { name: "k" } })
    ).json();
    const whoamiOnTwo = () =>
      two.app.inject({ method: "GET", url: "/mcp/whoami", headers: { authorization: `Bearer ${key.key}` } });
    expect((await whoamiOnTwo()).statusCode).toBe(200);
    const revokedAt = Date.now();
    expect(
      (await admin({ method: "DELETE", url: `/mcp/servers/${server.id}/keys/${key.id}` })).statusCode,
    ).toBe(204);
    await vi.waitFor(async () => expect((await whoamiOnTwo()).statusCode).toBe(401), {
      timeout: 2000,
      interval: 20,
    });
    expect(Date.now() - revokedAt).toBeLessThan(2000);
  });
});
