import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import {
  as,
  createTenant,
  createTestApp,
  ORIGIN,
  secondInstance,
  type Tenant,
  type TestApp,
} from "../../../test/app";
import {
  type Admin,
  connectThrough,
  gatewayCalls,
  listen,
  post,
  rawUpstream,
  rpc,
  slugOf,
  startSdkServer,
} from "../../../test/gateway";
import { type RunningMcpServer, startMcpServer } from "../../demo/mcp-servers";
import { startModernMcpServer } from "../../demo/modern-servers";

describe("the MCP gateway", () => {
  let t: TestApp;
  let base: string;
  let tenant: Tenant;
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
        GATEWAY_MAX_BODY_BYTES: "65536",
        RATE_LIMIT_GATEWAY: "100000",
        GATEWAY_UPSTREAM_TIMEOUT_MS: "1500",
      },
    });
    base = await listen(t.app);
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    slug = await slugOf(t, tenant.orgId);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await t.close();
  });

  describe("carries every kind of MCP server to the official SDK clients", () => {
    it("a full-featured 2025 server to the v1 client: tools with progress, prompts, resources, sessions ended by DELETE", async () => {
      const mcp = keep(await startMcpServer({ name: "full", fullFeatured: true }));
      const gw = await connectThrough(base, slug, admin, "full", { url: mcp.url });
      const client = new Client({ name: "test", version: "1" });
      const transport = new StreamableHTTPClientTransport(new URL(gw.url), {
        requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
      });
      await client.connect(transport);
      try {
        expect(client.getServerVersion()).toMatchObject({ name: "full" });
        const tools = (await client.listTools()).tools.map((x) => x.name);
        expect(tools).toEqual(["echo", "add", "count", "blob"]);
        const progress: number[] = [];
        const counted = await client.callTool({ name: "count", arguments: { to: 3 } }, undefined, {
          onprogress: (p) => progress.push(p.progress),
        });
        expect(counted.content).toEqual([{ type: "text", text: "counted to 3" }]);
        expect(progress).toEqual([1, 2, 3]);
        expect(
          (await client.getPrompt({ name: "greet", arguments: { who: "Ada" } })).messages[0]?.content,
        ).toEqual({
          type: "text",
          text: "Hello, Ada",
        });
        expect((await client.readResource({ uri: "config://app" })).contents).toEqual([
          { uri: "config://app", text: "debug=false" },
        ]);
        // The client ends its session (a DELETE), and the server hears it through the gateway.
        expect(transport.sessionId).toBeTruthy();
        await transport.terminateSession();
        expect(transport.sessionId).toBeUndefined();
        expect(mcp.requests.DELETE).toBe(1);
        expect(gatewayCalls(t, "full").at(-1)).toMatchObject({
          method: "DELETE",
          status: 200,
          upstreamStatus: 200,
        });
      } finally {
        await client.close();
      }
    });

    it("a stateless server answering JSON", async () => {
      const mcp = keep(await startMcpServer({ name: "plain", stateless: true, jsonResponse: true }));
      const gw = await connectThrough(base, slug, admin, "plain", { url: mcp.url });
      const client = new Client({ name: "test", version: "1" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(gw.url), {
          requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
        }),
      );
      expect((await client.callTool({ name: "echo", arguments: { text: "hi" } })).content).toEqual([
        { type: "text", text: "hi" },
      ]);
      await client.close();
    });

    it("a 2026-07-28-only server to the v2 client in auto negotiation, with Mcp-Method and Mcp-Name", async () => {
      const mcp = keep(
        await startModernMcpServer({ name: "modern", tools: [{ name: "echo", description: "e" }] }),
      );
      const gw = await connectThrough(base, slug, admin, "modern", { url: mcp.url });
      const client = new ModernClient(
        { name: "test", version: "1" },
        { versionNegotiation: { mode: "auto" } },
      );
      await client.connect(
        new ModernTransport(new URL(gw.url), {
          requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
        }),
      );
      try {
        expect(client.getProtocolEra()).toBe("modern");
        expect((await client.listTools()).tools.map((x) => x.name)).toEqual(["echo"]);
        expect((await client.callTool({ name: "echo", arguments: { text: "now" } })).content).toEqual([
          { type: "text", text: "now" },
        ]);
      } finally {
        await client.close();
      }
      expect(mcp.requests["POST tools/call"]).toBe(1);
    });

    it("a 2025 server to the v2 client too, which falls back to initialize through the gateway", async () => {
      const mcp = keep(await startMcpServer({ name: "old" }));
      const gw = await connectThrough(base, slug, admin, "old", { url: mcp.url });
      const client = new ModernClient(
        { name: "test", version: "1" },
        { versionNegotiation: { mode: "auto" } },
      );
      await client.connect(
        new ModernTransport(new URL(gw.url), {
          requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
        }),
      );
      expect(client.getProtocolEra()).toBe("legacy");
      expect((await client.listTools()).tools).toHaveLength(2);
      await client.close();
    });

    it("an SSE server, with the endpoint event pointed at the gateway's message URL", async () => {
      const mcp = keep(await startMcpServer({ name: "sse", transport: "sse" }));
      const gw = await connectThrough(base, slug, admin, "sse-server", { url: mcp.url, transport: "sse" });
      const auth = { authorization: `Bearer ${gw.key}` };
      const client = new Client({ name: "test", version: "1" });
      await client.connect(
        new SSEClientTransport(new URL(gw.url), {
          requestInit: { headers: auth },
          eventSourceInit: {
            fetch: (u, init) => fetch(u, { ...init, headers: { ...init?.headers, ...auth } }),
          },
        }),
      );
      expect((await client.callTool({ name: "echo", arguments: { text: "via sse" } })).content).toEqual([
        { type: "text", text: "via sse" },
      ]);
      await client.close();
      // Every message went through the gateway, none to the server directly.
      expect(
        t.logs.filter((l) => l.msg === "gateway call" && l.server === "sse-server").length,
      ).toBeGreaterThan(2);
    });

    it("a 5 MB tool result, whole", async () => {
      const mcp = keep(await startMcpServer({ name: "big", fullFeatured: true, jsonResponse: true }));
      const gw = await connectThrough(base, slug, admin, "big", { url: mcp.url });
      const client = new Client({ name: "test", version: "1" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(gw.url), {
          requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
        }),
      );
      const result = await client.callTool({ name: "blob", arguments: { size: 5 * 1024 * 1024 } });
      expect((result.content as { text: string }[])[0]?.text.length).toBe(5 * 1024 * 1024);
      await client.close();
    });
  });

  describe("upstream requests", () => {
    it("injects the stored headers, never forwards the client's key or cookies, and adds trace and correlation ids", async () => {
      const up = keep(
        await rawUpstream((_req, res) =>
          res.writeHead(200, { "content-type": "application/json" }).end(rpc("x")),
        ),
      );
      const gw = await connectThrough(base, slug, admin, "headers", {
        url: up.url,
        headers: [{ name: "X-Upstream-Token", value: "s3cret" }],
      });
      const res = await post(gw.url, gw.key, rpc("tools/list"), {
        cookie: "better-auth.session_token=abc",
        "x-correlation-id": "gateway-test-0001",
        "mcp-session-id": "sess-1",
      });
      expect(res.status).toBe(200);
      const headers = up.seen[0]?.headers ?? {};
      expect(headers["x-upstream-token"]).toBe("s3cret");
      expect(headers["mcp-session-id"]).toBe("sess-1");
      expect(headers["x-correlation-id"]).toBe("gateway-test-0001");
      expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(headers.authorization).toBeUndefined();
      expect(headers.cookie).toBeUndefined();
      expect(JSON.stringify(up.seen)).not.toContain(gw.key);
      const line = t.logs.find((l) => l.msg === "gateway call" && l.server === "headers");
      expect(line).toMatchObject({
        org: slug,
        keyId: gw.keyId,
        method: "tools/list",
        status: 200,
        upstreamStatus: 200,
      });
      expect(JSON.stringify(t.logs)).not.toContain("s3cret");
    });

    it("passes a JSON answer on with the server's Content-Length, not chunked", async () => {
      const answer = rpc("x");
      const up = keep(
        await rawUpstream((_req, res) =>
          res
            .writeHead(200, {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(answer),
            })
            .end(answer),
        ),
      );
      const gw = await connectThrough(base, slug, admin, "sized", { url: up.url });
      const res = await post(gw.url, gw.key, rpc("tools/call", { name: "x" }));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(answer)));
      expect(res.headers.get("transfer-encoding")).toBeNull();
      expect(await res.text()).toBe(answer);
    });

    it("aborts the upstream request when the client goes away", async () => {
      const up = keep(await rawUpstream(() => {})); // never answers
      const gw = await connectThrough(base, slug, admin, "abandoned", { url: up.url });
      const abort = new AbortController();
      const pending = fetch(gw.url, {
        method: "POST",
        headers: { authorization: `Bearer ${gw.key}`, "content-type": "application/json" },
        body: rpc("tools/call", { name: "slow" }),
        signal: abort.signal,
      }).catch(() => null);
      await vi.waitFor(() => expect(up.seen).toHaveLength(1));
      abort.abort();
      await pending;
      await vi.waitFor(() => expect(up.seen[0]?.closedEarly).toBe(true));
    });

    it("ends the client's stream promptly when the upstream dies mid-stream", async () => {
      const up = keep(
        await rawUpstream((req, res) => {
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write(
            `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: {} })}\n\n`,
          );
          setTimeout(() => req.socket.destroy(), 100);
        }),
      );
      const gw = await connectThrough(base, slug, admin, "dying", { url: up.url });
      const started = Date.now();
      const res = await post(gw.url, gw.key, rpc("tools/call", { name: "x" }));
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const text = await res.text().catch(() => "cut");
      expect(text === "cut" || text.includes("notifications/progress")).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it("answers 504 when the server does not answer in time, and 502 when it cannot be reached", async () => {
      const up = keep(await rawUpstream(() => {}));
      const slow = await connectThrough(base, slug, admin, "mute", { url: up.url });
      const timedOut = await post(slow.url, slow.key, rpc("ping", {}, 7));
      expect(timedOut.status).toBe(504);
      expect(await timedOut.json()).toMatchObject({ id: 7, error: { data: { reason: "upstream_timeout" } } });
      const gone = await connectThrough(base, slug, admin, "gone", { url: "http://127.0.0.1:9/mcp" });
      const refused = await post(gone.url, gone.key, rpc("ping", {}, 8));
      expect(refused.status).toBe(502);
      expect(await refused.json()).toMatchObject({
        id: 8,
        error: { data: { reason: "connection_refused" } },
      });
    });
  });

  describe("streams, revisions and the log", () => {
    it.each(["2024-11-05", "2025-03-26"])(
      "passes the requests of a client that negotiated %s, with its MCP-Protocol-Version",
      async (version) => {
        const mcp = keep(await startMcpServer({ name: `rev-${version}`, jsonResponse: true }));
        const gw = await connectThrough(base, slug, admin, `revision-${version}`, { url: mcp.url });
        const init = await post(
          gw.url,
          gw.key,
          rpc("initialize", {
            protocolVersion: version,
            capabilities: {},
            clientInfo: { name: "old", version: "1" },
          }),
        );
        expect(init.status).toBe(200);
        expect((await init.json()).result.protocolVersion).toBe(version);
        const session = {
          "mcp-session-id": init.headers.get("mcp-session-id") ?? "",
          "mcp-protocol-version": version,
        };
        expect(
          (
            await post(
              gw.url,
              gw.key,
              JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
              session,
            )
          ).status,
        ).toBe(202);
        const list = await post(gw.url, gw.key, rpc("tools/list", {}, 2), session);
        expect(list.status).toBe(200);
        expect((await list.json()).result.tools.map((x: { name: string }) => x.name)).toEqual([
          "echo",
          "add",
        ]);
      },
    );

    it("carries a server's notification on the client's GET stream", async () => {
      const sdk = keep(await startSdkServer());
      const gw = await connectThrough(base, slug, admin, "get-stream", { url: sdk.url });
      const client = new Client({ name: "test", version: "1" });
      const changed = vi.fn();
      client.setNotificationHandler(ToolListChangedNotificationSchema, changed);
      await client.connect(
        new StreamableHTTPClientTransport(new URL(gw.url), {
          requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
        }),
      );
      try {
        // A notification unrelated to any request goes on the GET stream only, which the v1 client
        // opens once initialized: the server sends until it is open (before, the SDK drops it).
        expect(sdk.servers).toHaveLength(1);
        await vi.waitFor(
          async () => {
            await sdk.servers[0]?.server.sendToolListChanged();
            expect(changed).toHaveBeenCalled();
          },
          { timeout: 5000, interval: 100 },
        );
      } finally {
        await client.close();
      }
    });

    it("forwards Last-Event-ID when a client resumes a stream with a GET, and passes the replay back", async () => {
      const up = keep(
        await rawUpstream((req, res) => {
          res.writeHead(200, { "content-type": "text/event-stream" });
          const after = Number(req.headers["last-event-id"]);
          res.end(
            `id: ${after + 1}\nevent: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", id: 3, result: {} })}\n\n`,
          );
        }),
      );
      const gw = await connectThrough(base, slug, admin, "resume", { url: up.url });
      const res = await fetch(gw.url, {
        headers: {
          authorization: `Bearer ${gw.key}`,
          accept: "text/event-stream",
          "mcp-session-id": "s-1",
          "last-event-id": "41",
        },
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("id: 42\n");
      expect(up.seen[0]).toMatchObject({ method: "GET" });
      expect(up.seen[0]?.headers).toMatchObject({ "last-event-id": "41", "mcp-session-id": "s-1" });
    });

    it("writes one log line a call: key, method, tool, statuses, latency, bytes in and out and correlation id, never arguments", async () => {
      const sdk = keep(await startSdkServer({ stateless: true }));
      const gw = await connectThrough(base, slug, admin, "logged", { url: sdk.url });
      const body = rpc("tools/call", { name: "echo", arguments: { text: "private words" } }, 11);
      const res = await post(gw.url, gw.key, body, { "x-correlation-id": "logged-call-0001" });
      const answer = await res.text();
      expect(answer).toContain("private words");
      const lines = gatewayCalls(t, "logged");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        org: slug,
        keyId: gw.keyId,
        method: "tools/call",
        tool: "echo",
        status: 200,
        upstreamStatus: 200,
        correlationId: "logged-call-0001",
        bytesIn: Buffer.byteLength(body),
        bytesOut: Buffer.byteLength(answer),
        latencyMs: expect.any(Number),
      });
      expect(lines[0]?.latencyMs).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(lines)).not.toContain("private words");
    });
  });

  describe("authentication", () => {
    let gw: Awaited<ReturnType<typeof connectThrough>>;
    let up: Awaited<ReturnType<typeof rawUpstream>>;
    beforeAll(async () => {
      up = keep(
        await rawUpstream((_req, res) =>
          res.writeHead(200, { "content-type": "application/json" }).end("{}"),
        ),
      );
      gw = await connectThrough(base, slug, admin, "guarded", { url: up.url });
    });

    it.each([
      ["no key", null],
      ["a malformed key", "mcp_short"],
      ["an unknown key", `mcp_${"C".repeat(60)}`],
    ])("answers 401 with a Bearer challenge and the request's id for %s", async (_, key) => {
      const res = await post(gw.url, key, rpc("tools/list", {}, "req-9"));
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="switchboard"');
      expect(await res.json()).toMatchObject({ jsonrpc: "2.0", id: "req-9", error: { code: -32000 } });
    });

    it("answers problem+json to a request that is not JSON-RPC", async () => {
      const res = await fetch(gw.url, { method: "GET" });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    });

    it("refuses a revoked and an expired key", async () => {
      const revoked = (
        await admin({ method: "POST", url: `/mcp/servers/${gw.id}/keys`, payload: { name: "r" } })
      ).json();
      expect((await post(gw.url, revoked.key, rpc("tools/list"))).status).toBe(200);
      await admin({ method: "DELETE", url: `/mcp/servers/${gw.id}/keys/${revoked.id}` });
      const res = await post(gw.url, revoked.key, rpc("tools/list"));
      expect(res.status).toBe(401);
      expect((await res.json()).error.message).toBe("This API key has been revoked");
      const expiresAt = new Date(Date.now() + 1500).toISOString();
      const expiring = (
        await admin({ method: "POST", url: `/mcp/servers/${gw.id}/keys`, payload: { name: "e", expiresAt } })
      ).json();
      expect((await post(gw.url, expiring.key, rpc("tools/list"))).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1600));
      expect((await post(gw.url, expiring.key, rpc("tools/list"))).status).toBe(401);
    });

    it("answers 403 to a key of another server of the organization, 404 to unknown names and other tenants", async () => {
      const other = await connectThrough(base, slug, admin, "neighbour", { url: up.url });
      expect((await post(gw.url, other.key, rpc("tools/list"))).status).toBe(403);
      expect((await post(`${base}/gateway/${slug}/nope/mcp`, other.key, rpc("tools/list"))).status).toBe(404);
      const stranger = await createTenant(t.app);
      const strangerSlug = await slugOf(t, stranger.orgId);
      const theirs = await connectThrough(base, strangerSlug, as(t.app, stranger.admin), "guarded", {
        url: up.url,
      });
      // A key of another tenant opens nothing here, and says nothing of what exists.
      expect((await post(gw.url, theirs.key, rpc("tools/list"))).status).toBe(404);
      expect((await post(`${base}/gateway/${slug}/nope/mcp`, theirs.key, rpc("tools/list"))).status).toBe(
        404,
      );
      expect((await post(`${base}/gateway/no-such-org/guarded/mcp`, gw.key, rpc("tools/list"))).status).toBe(
        404,
      );
    });

    it("answers 503 for a disabled server", async () => {
      const off = await connectThrough(base, slug, admin, "off", { url: up.url });
      await admin({ method: "PATCH", url: `/mcp/servers/${off.id}`, payload: { enabled: false } });
      const res = await post(off.url, off.key, rpc("tools/list", {}, 3));
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ id: 3, error: { data: { reason: "server_disabled" } } });
    });

    it("answers 413 for a body over GATEWAY_MAX_BODY_BYTES, and logs the call like any other", async () => {
      const body = rpc("tools/call", { name: "x", arguments: { t: "x".repeat(70_000) } });
      const res = await post(gw.url, gw.key, body, { "x-correlation-id": "too-large-0001" });
      expect(res.status).toBe(413);
      expect(gatewayCalls(t, "guarded").find((l) => l.correlationId === "too-large-0001")).toMatchObject({
        org: slug,
        status: 413,
        reason: "payload_too_large",
        bytesIn: Buffer.byteLength(body),
        latencyMs: expect.any(Number),
      });
      expect(up.seen.every((s) => s.body.length < 70_000)).toBe(true);
    });

    it("stops opening an organization's servers at its old slug the moment the organization is renamed", async () => {
      const renamed = await createTenant(t.app);
      const oldSlug = await slugOf(t, renamed.orgId);
      const gwOld = await connectThrough(base, oldSlug, as(t.app, renamed.admin), "moving", { url: up.url });
      // The first call leaves the server in the gateway's cache under the old slug.
      expect((await post(gwOld.url, gwOld.key, rpc("tools/list"))).status).toBe(200);
      const newSlug = `${oldSlug}-renamed`;
      const update = await t.app.inject({
        method: "POST",
        url: "/api/auth/organization/update",
        headers: { ...ORIGIN, cookie: renamed.owner.cookie },
        payload: { data: { slug: newSlug }, organizationId: renamed.orgId },
      });
      expect(update.statusCode, update.body).toBe(200);
      expect((await post(gwOld.url, gwOld.key, rpc("tools/list"))).status).toBe(404);
      const moved = gwOld.url.replace(`/gateway/${oldSlug}/`, `/gateway/${newSlug}/`);
      expect((await post(moved, gwOld.key, rpc("tools/list"))).status).toBe(200);
    });
  });

  describe("policy", () => {
    let mcpSse: RunningMcpServer;
    let mcpJson: RunningMcpServer;
    beforeAll(async () => {
      mcpSse = keep(await startMcpServer({ name: "p-sse" }));
      mcpJson = keep(await startMcpServer({ name: "p-json", jsonResponse: true }));
    });

    it.each([
      ["SSE", () => mcpSse],
      ["JSON", () => mcpJson],
    ])("lists and calls only the tools a key allows, for %s answers", async (kind, server) => {
      const gw = await connectThrough(
        base,
        slug,
        admin,
        `allow-${kind.toLowerCase()}`,
        { url: server().url },
        {
          name: "echo only",
          tools: ["echo"],
        },
      );
      const client = new Client({ name: "test", version: "1" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(gw.url), {
          requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
        }),
      );
      try {
        expect((await client.listTools()).tools.map((x) => x.name)).toEqual(["echo"]);
        await expect(client.callTool({ name: "add", arguments: {} })).rejects.toThrow(
          "Tool add is not allowed for this API key",
        );
        expect((await client.callTool({ name: "echo", arguments: { text: "ok" } })).content).toEqual([
          { type: "text", text: "ok" },
        ]);
      } finally {
        await client.close();
      }
    });

    it("lists and calls only the tools a key allows on a 2024-11-05 SSE server, the refusal arriving on the stream", async () => {
      const mcp = keep(await startMcpServer({ name: "p-legacy", transport: "sse" }));
      const gw = await connectThrough(
        base,
        slug,
        admin,
        "allow-legacy-sse",
        { url: mcp.url, transport: "sse" },
        { name: "echo only", tools: ["echo"] },
      );
      const auth = { authorization: `Bearer ${gw.key}` };
      const client = new Client({ name: "test", version: "1" });
      await client.connect(
        new SSEClientTransport(new URL(gw.url), {
          requestInit: { headers: auth },
          eventSourceInit: {
            fetch: (u, init) => fetch(u, { ...init, headers: { ...init?.headers, ...auth } }),
          },
        }),
      );
      try {
        expect((await client.listTools()).tools.map((x) => x.name)).toEqual(["echo"]);
        // The client reads answers from the stream only: a refusal in the POST's body would never come.
        await expect(
          client.callTool({ name: "add", arguments: {} }, undefined, { timeout: 5000 }),
        ).rejects.toThrow("Tool add is not allowed for this API key");
        expect((await client.callTool({ name: "echo", arguments: { text: "ok" } })).content).toEqual([
          { type: "text", text: "ok" },
        ]);
      } finally {
        await client.close();
      }
      expect(gatewayCalls(t, "allow-legacy-sse").find((l) => l.tool === "add")).toMatchObject({
        status: 202,
        reason: "tool_refused",
      });
      expect(
        gatewayCalls(t, "allow-legacy-sse").find((l) => l.tool === "add")?.upstreamStatus,
      ).toBeUndefined();
    });

    it("reads a body that starts with a byte order mark as the server does, so the allow-list still holds", async () => {
      const sdk = keep(await startSdkServer({ stateless: true }));
      const gw = await connectThrough(
        base,
        slug,
        admin,
        "bom",
        { url: sdk.url },
        { name: "echo only", tools: ["echo"] },
      );
      const bom = (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
      const refused = await post(gw.url, gw.key, bom(rpc("tools/call", { name: "add", arguments: {} }, 4)));
      expect(refused.status).toBe(200);
      expect(await refused.json()).toMatchObject({
        id: 4,
        error: { code: -32602, message: "Tool add is not allowed for this API key" },
      });
      expect(sdk.calls.add).toBeUndefined();
      const allowed = await post(
        gw.url,
        gw.key,
        bom(rpc("tools/call", { name: "echo", arguments: { text: "with a BOM" } }, 5)),
      );
      expect(await allowed.json()).toMatchObject({
        id: 5,
        result: { content: [{ type: "text", text: "with a BOM" }] },
      });
      expect(sdk.calls.echo).toBe(1);
    });

    it.each([
      ["not JSON", "tools/call add", -32700],
      ["empty", "", -32700],
      ["not UTF-8", new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), -32700],
      ["JSON but not JSON-RPC", JSON.stringify({ method: "tools/call", params: { name: "add" } }), -32600],
      ["an empty batch", "[]", -32600],
    ] as const)(
      "refuses a POST body that is %s with a JSON-RPC error, whatever the key, before it reaches the server",
      async (what, body, code) => {
        const up = keep(
          await rawUpstream((_req, res) =>
            res.writeHead(200, { "content-type": "application/json" }).end("{}"),
          ),
        );
        const gw = await connectThrough(
          base,
          slug,
          admin,
          `unreadable-${what.toLowerCase().replace(/\W+/g, "-")}`,
          {
            url: up.url,
          },
        );
        const res = await post(gw.url, gw.key, body);
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ jsonrpc: "2.0", id: null, error: { code } });
        expect(up.seen).toHaveLength(0);
      },
    );

    it("logs the bytes it sent for a filtered tools/list, not the bytes the server sent", async () => {
      const sdk = keep(await startSdkServer({ stateless: true }));
      const gw = await connectThrough(
        base,
        slug,
        admin,
        "filtered-bytes",
        { url: sdk.url },
        { name: "echo only", tools: ["echo"] },
      );
      const res = await post(gw.url, gw.key, rpc("tools/list", {}, 9));
      const text = await res.text();
      expect(JSON.parse(text).result.tools.map((x: { name: string }) => x.name)).toEqual(["echo"]);
      expect(gatewayCalls(t, "filtered-bytes").at(-1)).toMatchObject({
        method: "tools/list",
        status: 200,
        bytesOut: Buffer.byteLength(text),
      });
    });

    it("serves only the approved tools of a pinned server, and none whose definition changed", async () => {
      const mcp = keep(
        await startModernMcpServer({
          tools: [
            { name: "a", description: "A" },
            { name: "b", description: "B" },
          ],
        }),
      );
      const gw = await connectThrough(base, slug, admin, "pinned", { url: mcp.url });
      await admin({ method: "POST", url: `/mcp/servers/${gw.id}/check` });
      expect((await admin({ method: "PUT", url: `/mcp/servers/${gw.id}/tools/pin` })).statusCode).toBe(200);
      mcp.setTools([
        { name: "a", description: "A, and now something else" },
        { name: "b", description: "B" },
        { name: "c", description: "new" },
      ]);
      await admin({ method: "POST", url: `/mcp/servers/${gw.id}/check` });
      const client = new ModernClient(
        { name: "test", version: "1" },
        { versionNegotiation: { mode: "auto" } },
      );
      await client.connect(
        new ModernTransport(new URL(gw.url), {
          requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
        }),
      );
      try {
        expect((await client.listTools()).tools.map((x) => x.name)).toEqual(["b"]);
        await expect(client.callTool({ name: "a", arguments: {} })).rejects.toThrow("approved tools");
        await expect(client.callTool({ name: "c", arguments: {} })).rejects.toThrow("approved tools");
      } finally {
        await client.close();
      }
    });

    it("refuses a 2026-07-28 request whose headers do not say what its body says, before it reaches the server", async () => {
      const up = keep(
        await rawUpstream((_req, res) =>
          res.writeHead(200, { "content-type": "application/json" }).end("{}"),
        ),
      );
      const gw = await connectThrough(base, slug, admin, "strict", { url: up.url });
      const meta = { _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } };
      const modern = { "mcp-protocol-version": "2026-07-28" };
      const cases: Record<string, string>[] = [
        { "mcp-method": "tools/list", "mcp-name": "echo" }, // method says list, body calls
        { "mcp-method": "tools/call", "mcp-name": "other" }, // name differs
        { "mcp-method": "tools/call" }, // name missing
      ];
      for (const headers of cases) {
        const res = await post(gw.url, gw.key, rpc("tools/call", { name: "echo", ...meta }, 5), {
          ...modern,
          ...headers,
        });
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ id: 5, error: { code: -32020 } });
      }
      expect(up.seen).toHaveLength(0);
      const good = await post(gw.url, gw.key, rpc("tools/call", { name: "echo", ...meta }, 6), {
        ...modern,
        "mcp-method": "tools/call",
        "mcp-name": "=?base64?ZWNobw==?=",
      });
      expect(good.status).toBe(200);
      expect(up.seen).toHaveLength(1);
    });
  });
});

describe.runIf(process.env.TEST_REDIS_URL)("the gateway on two instances sharing Redis", () => {
  let one: TestApp;
  let two: Awaited<ReturnType<typeof secondInstance>>;
  let mcp: RunningMcpServer;
  let baseOne: string;
  let baseTwo: string;
  beforeAll(async () => {
    one = await createTestApp("pglite", {
      env: { REDIS_URL: process.env.TEST_REDIS_URL as string, REDIS_PREFIX: `${inject("runId")}:gateway:` },
    });
    two = await secondInstance(one);
    mcp = await startMcpServer({ name: "shared" });
    baseOne = await listen(one.app);
    baseTwo = await listen(two.app);
  });
  afterAll(async () => {
    await mcp.close();
    await two.close();
    await one.close();
  });

  it("serves one session's requests alternately from both, and a revocation on one reaches the other within 2 s", async () => {
    const tenant = await createTenant(one.app);
    const slug = await slugOf(one, tenant.orgId);
    const gw = await connectThrough(baseOne, slug, as(one.app, tenant.admin), "shared", { url: mcp.url });
    let turn = 0;
    const alternating = (url: string | URL, init?: RequestInit) => {
      const target = String(url).replace(baseOne, turn++ % 2 ? baseTwo : baseOne);
      return fetch(target, init);
    };
    const client = new Client({ name: "test", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(gw.url), {
        fetch: alternating,
        requestInit: { headers: { authorization: `Bearer ${gw.key}` } },
      }),
    );
    expect((await client.callTool({ name: "echo", arguments: { text: "a" } })).content).toEqual([
      { type: "text", text: "a" },
    ]);
    expect((await client.callTool({ name: "echo", arguments: { text: "b" } })).content).toEqual([
      { type: "text", text: "b" },
    ]);
    await client.close();

    const onTwo = () => post(gw.url.replace(baseOne, baseTwo), gw.key, rpc("ping"));
    expect((await onTwo()).status).not.toBe(401);
    const revokedAt = Date.now();
    await as(one.app, tenant.admin)({ method: "DELETE", url: `/mcp/servers/${gw.id}/keys/${gw.keyId}` });
    await vi.waitFor(async () => expect((await onTwo()).status).toBe(401), { timeout: 2000, interval: 20 });
    expect(Date.now() - revokedAt).toBeLessThan(2000);
  });

  it("answers a refused tool into a 2024-11-05 SSE stream that the other instance serves", async () => {
    const tenant = await createTenant(one.app);
    const slug = await slugOf(one, tenant.orgId);
    const legacy = await startMcpServer({ name: "shared-sse", transport: "sse" });
    try {
      const gw = await connectThrough(
        baseOne,
        slug,
        as(one.app, tenant.admin),
        "shared-sse",
        { url: legacy.url, transport: "sse" },
        { name: "echo only", tools: ["echo"] },
      );
      const auth = { authorization: `Bearer ${gw.key}` };
      const client = new Client({ name: "test", version: "1" });
      // The stream is served by the first instance, every message is POSTed to the second.
      await client.connect(
        new SSEClientTransport(new URL(gw.url), {
          requestInit: { headers: auth },
          fetch: (u, init) => fetch(String(u).replace(baseOne, baseTwo), init),
          eventSourceInit: {
            fetch: (u, init) => fetch(u, { ...init, headers: { ...init?.headers, ...auth } }),
          },
        }),
      );
      try {
        await expect(
          client.callTool({ name: "add", arguments: {} }, undefined, { timeout: 5000 }),
        ).rejects.toThrow("Tool add is not allowed for this API key");
        expect((await client.callTool({ name: "echo", arguments: { text: "both" } })).content).toEqual([
          { type: "text", text: "both" },
        ]);
      } finally {
        await client.close();
      }
    } finally {
      await legacy.close();
    }
  });
});
