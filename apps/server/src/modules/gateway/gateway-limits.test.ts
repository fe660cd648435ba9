import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { as, createTenant, createTestApp, type TestApp } from "../../../test/app";
import {
  type Admin,
  connectThrough,
  gatewayCalls,
  listen,
  post,
  rawUpstream,
  rpc,
  slugOf,
} from "../../../test/gateway";

const RATE = 12;
const STREAMS = 2;
const IDLE_MS = 1000;
const BROWSER_CLIENT = "http://localhost:6274";

/** An upstream that opens an SSE stream for every request and keeps it open, silent. */
const silentStreams = () =>
  rawUpstream((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(
      `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/message" })}\n\n`,
    );
  });

describe("the MCP gateway's limits and CORS", () => {
  let t: TestApp;
  let base: string;
  let admin: Admin;
  let slug: string;
  const servers: { close(): Promise<void> }[] = [];
  const keep = <T extends { close(): Promise<void> }>(s: T) => {
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    t = await createTestApp("pglite", {
      env: {
        RATE_LIMIT_GATEWAY: String(RATE),
        GATEWAY_MAX_STREAMS_PER_KEY: String(STREAMS),
        GATEWAY_STREAM_IDLE_MS: String(IDLE_MS),
        GATEWAY_CORS_ORIGINS: BROWSER_CLIENT,
      },
    });
    base = await listen(t.app);
    const tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    slug = await slugOf(t, tenant.orgId);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await t.close();
  });

  it("ends a stream on which the server has sent nothing for GATEWAY_STREAM_IDLE_MS, and closes the upstream request", async () => {
    const up = keep(await silentStreams());
    const gw = await connectThrough(base, slug, admin, "idle", { url: up.url });
    const started = Date.now();
    const res = await post(gw.url, gw.key, rpc("tools/call", { name: "slow" }));
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text().catch(() => "cut");
    expect(text === "cut" || text.includes("notifications/message")).toBe(true);
    // Not ended for another reason before the idle time ran out.
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 50);
    await vi.waitFor(() => expect(up.seen[0]?.closedEarly).toBe(true));
    // The call's log line is written once the answer has ended, which may follow the upstream close.
    await vi.waitFor(() =>
      expect(gatewayCalls(t, "idle").at(-1)).toMatchObject({ status: 200, reason: "stream_idle" }),
    );
  });

  it("answers 429 with Retry-After to a key past GATEWAY_MAX_STREAMS_PER_KEY open requests, and serves it again once one ends", async () => {
    const up = keep(await silentStreams());
    const gw = await connectThrough(base, slug, admin, "streams", { url: up.url });
    const get = (signal: AbortSignal) =>
      fetch(gw.url, {
        headers: { authorization: `Bearer ${gw.key}`, accept: "text/event-stream", "mcp-session-id": "s" },
        signal,
      });
    const aborts = Array.from({ length: STREAMS }, () => new AbortController());
    const open = await Promise.all(aborts.map((a) => get(a.signal)));
    expect(open.map((r) => r.status)).toEqual(Array(STREAMS).fill(200));

    const over = await post(gw.url, gw.key, rpc("ping", {}, "over"));
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toBe("1");
    expect(await over.json()).toMatchObject({
      id: "over",
      error: { data: { status: 429, reason: "too_many_streams" } },
    });
    // Another key of the same server has streams of its own.
    const other = (
      await admin({ method: "POST", url: `/mcp/servers/${gw.id}/keys`, payload: { name: "other" } })
    ).json();
    const theirs = new AbortController();
    expect(
      (await fetch(gw.url, { headers: { authorization: `Bearer ${other.key}` }, signal: theirs.signal }))
        .status,
    ).toBe(200);
    theirs.abort();

    aborts[0]?.abort();
    await vi.waitFor(async () => {
      const again = new AbortController();
      const res = await get(again.signal);
      again.abort();
      expect(res.status).toBe(200);
    });
    for (const a of aborts) a.abort();
  });

  it("answers 429 past RATE_LIMIT_GATEWAY requests a minute for a key, with Retry-After and the request's id, and not for other keys", async () => {
    const up = keep(
      await rawUpstream((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}")),
    );
    const gw = await connectThrough(base, slug, admin, "limited", { url: up.url });
    for (let i = 0; i < RATE; i++) expect((await post(gw.url, gw.key, rpc("ping", {}, i))).status).toBe(200);
    const limited = await post(gw.url, gw.key, rpc("ping", {}, "one-too-many"));
    expect(limited.status).toBe(429);
    const after = Number(limited.headers.get("retry-after"));
    expect(after).toBeGreaterThanOrEqual(1);
    expect(after).toBeLessThanOrEqual(60);
    expect(await limited.json()).toMatchObject({
      jsonrpc: "2.0",
      id: "one-too-many",
      error: { code: -32000, data: { status: 429, reason: "rate_limited" } },
    });
    expect(up.seen).toHaveLength(RATE);
    const other = (
      await admin({ method: "POST", url: `/mcp/servers/${gw.id}/keys`, payload: { name: "fresh" } })
    ).json();
    expect((await post(gw.url, other.key, rpc("ping"))).status).toBe(200);
  });

  describe("CORS for browser MCP clients", () => {
    let gw: Awaited<ReturnType<typeof connectThrough>>;
    beforeAll(async () => {
      const up = keep(
        await rawUpstream((_req, res) =>
          res
            .writeHead(200, {
              "content-type": "application/json",
              "mcp-session-id": "sess-9",
              "mcp-protocol-version": "2025-11-25",
            })
            .end("{}"),
        ),
      );
      gw = await connectThrough(base, slug, admin, "browser", { url: up.url });
    });
    const preflight = (origin: string) =>
      fetch(gw.url, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers":
            "authorization, content-type, mcp-session-id, mcp-protocol-version",
        },
      });

    it("allows an origin of GATEWAY_CORS_ORIGINS the MCP headers, and exposes the session and version headers", async () => {
      const pre = await preflight(BROWSER_CLIENT);
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(BROWSER_CLIENT);
      expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
      const allowed = (pre.headers.get("access-control-allow-headers") ?? "").split(/,\s*/);
      expect(allowed).toEqual(
        expect.arrayContaining(["authorization", "content-type", "mcp-session-id", "mcp-protocol-version"]),
      );
      expect(pre.headers.get("access-control-allow-credentials")).toBeNull();

      const res = await post(gw.url, gw.key, rpc("ping"), { origin: BROWSER_CLIENT });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(BROWSER_CLIENT);
      const exposed = (res.headers.get("access-control-expose-headers") ?? "").split(/,\s*/);
      expect(exposed).toEqual(expect.arrayContaining(["mcp-session-id", "mcp-protocol-version"]));
      expect(res.headers.get("mcp-session-id")).toBe("sess-9");
    });

    it("gives an origin it does not list no CORS headers at all", async () => {
      const stranger = "http://127.0.0.1:9";
      const pre = await preflight(stranger);
      expect(pre.headers.get("access-control-allow-origin")).toBeNull();
      expect(pre.headers.get("access-control-allow-headers")).toBeNull();
      const res = await post(gw.url, gw.key, rpc("ping"), { origin: stranger });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-expose-headers")).toBeNull();
    });
  });
});
