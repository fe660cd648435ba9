import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "./app";

describe("what the API accepts as ids, URLs and names", () => {
  let t: TestApp;
  let tenant: Tenant;
  beforeAll(async () => {
    t = await createTestApp("pglite");
    tenant = await createTenant(t.app);
  });
  afterAll(() => t.close());

  const createServer = async (name: string) => {
    const res = await as(
      t.app,
      tenant.admin,
    )({
      method: "POST",
      url: "/mcp/servers",
      payload: { name, url: "http://127.0.0.1:9/mcp" },
    });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; version: number };
  };

  it("takes an upper-case server or key id as the same id, and audits it lower-cased", async () => {
    const admin = as(t.app, tenant.admin);
    const server = await createServer("upper-case-ids");
    const upper = server.id.toUpperCase();
    expect(upper).not.toBe(server.id);

    const patched = await admin({
      method: "PATCH",
      url: `/mcp/servers/${upper}`,
      headers: { "if-match": String(server.version) },
      payload: { displayName: "Shouted" },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().id).toBe(server.id);

    const key = await admin({ method: "POST", url: `/mcp/servers/${upper}/keys`, payload: { name: "ci" } });
    expect(key.statusCode).toBe(201);
    const keyId = key.json().id as string;
    const revoked = await admin({
      method: "DELETE",
      url: `/mcp/servers/${upper}/keys/${keyId.toUpperCase()}`,
    });
    expect(revoked.statusCode).toBe(204);

    // One trail per server and per key, whatever case the id was typed in.
    const trail = await admin({ method: "GET", url: `/mcp/audit-logs?targetId=${server.id}` });
    expect(
      trail
        .json()
        .items.map((r: { action: string }) => r.action)
        .sort(),
    ).toEqual(["server.create", "server.update"]);
    const keyTrail = await admin({ method: "GET", url: `/mcp/audit-logs?targetId=${keyId}` });
    expect(
      keyTrail
        .json()
        .items.map((r: { action: string }) => r.action)
        .sort(),
    ).toEqual(["key.create", "key.revoke"]);
    for (const target of [upper, keyId.toUpperCase()]) {
      const typed = await admin({ method: "GET", url: `/mcp/audit-logs?targetId=${target}` });
      expect(typed.json().items).toEqual([]);
    }
  });

  it.each([
    ["http://alice:hunter2@127.0.0.1:9/mcp"],
    ["https://tok_hunter2@mcp.example.com/mcp"],
    ["https://:hunter2@mcp.example.com/mcp"],
  ])("refuses a URL with credentials in it (%s) and says to use an upstream header", async (url) => {
    const admin = as(t.app, tenant.admin);
    const created = await admin({ method: "POST", url: "/mcp/servers", payload: { name: "creds", url } });
    expect(created.statusCode).toBe(400);
    expect(created.json()).toMatchObject({
      code: "VALIDATION",
      issues: [{ path: "body.url", message: expect.stringMatching(/upstream header/) }],
    });
    // The refusal names the problem without repeating the secret.
    expect(created.body).not.toMatch(/hunter2/);

    const server = await createServer(`creds-${Math.random().toString(36).slice(2, 8)}`);
    const patched = await admin({ method: "PATCH", url: `/mcp/servers/${server.id}`, payload: { url } });
    expect(patched.statusCode).toBe(400);
    const probed = await admin({
      method: "POST",
      url: "/mcp/probe",
      payload: { url, transport: "streamable-http" },
    });
    expect(probed.statusCode).toBe(400);
  });

  it.each([
    ["a right-to-left override", "invoice\u202Etxt.exe"],
    ["a left-to-right isolate", "name\u2066x\u2069"],
    ["a zero-width space", "ad\u200Bmin"],
    ["a zero-width joiner", "a\u200Db"],
    ["a word joiner", "a\u2060b"],
    ["a byte-order mark", "\uFEFFprod"],
  ])("refuses %s in a display name and in a key's name", async (_what, name) => {
    const admin = as(t.app, tenant.admin);
    const created = await admin({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "invisible", displayName: name, url: "http://127.0.0.1:9/mcp" },
    });
    expect(created.statusCode).toBe(400);
    expect(created.json().issues).toEqual([
      { path: "body.displayName", message: expect.stringMatching(/invisible formatting characters/) },
    ]);

    const server = await createServer(`named-${Math.random().toString(36).slice(2, 8)}`);
    const patched = await admin({
      method: "PATCH",
      url: `/mcp/servers/${server.id}`,
      payload: { displayName: name },
    });
    expect(patched.statusCode).toBe(400);
    const key = await admin({ method: "POST", url: `/mcp/servers/${server.id}/keys`, payload: { name } });
    expect(key.statusCode).toBe(400);
    expect(key.json().issues).toEqual([
      { path: "body.name", message: expect.stringMatching(/invisible formatting characters/) },
    ]);
  });

  it("still takes names in any script, with accents, emoji and right-to-left text", async () => {
    const admin = as(t.app, tenant.admin);
    const res = await admin({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "scripts", displayName: "Météo 🌦 طقس 天気", url: "http://127.0.0.1:9/mcp" },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().displayName).toBe("Météo 🌦 طقس 天気");
  });
});
