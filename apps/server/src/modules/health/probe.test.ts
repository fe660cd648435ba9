import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { type Behaviour, type RunningMcpServer, startMcpServer } from "../../demo/mcp-servers";
import { type RunningModernServer, startModernMcpServer } from "../../demo/modern-servers";
import { createUpstreamDispatcher } from "../upstream/dispatcher";
import { createProber, type ProbeOptions } from "./probe";
import { hasCredentials } from "./probe-auth";
import { type FrontAnswer, type RunningFront, rpcErrorAnswer, startFront } from "./probe-fixture";

const OPTS: ProbeOptions = {
  timeoutMs: 2000,
  // Generous: a loaded CI machine must not turn a healthy local server slow.
  degradedMs: 2000,
  maxBodyBytes: 1024 * 1024,
  dispatcher: createUpstreamDispatcher({ allowPrivate: true }),
};
const running: RunningMcpServer[] = [];
const start = async (...args: Parameters<typeof startMcpServer>) => {
  const s = await startMcpServer(...args);
  running.push(s);
  return s;
};
afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
});
const listen = (server: ReturnType<typeof createHttpServer>) =>
  new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
const fronts: RunningFront[] = [];
const front = async (upstream: string) => {
  const f = await startFront(upstream);
  fronts.push(f);
  return f;
};
afterAll(async () => {
  await Promise.all(fronts.map((f) => f.close()));
});

describe("probe", () => {
  const probe = createProber(OPTS);

  it("finds a healthy streamable HTTP server, its tools and protocol version, and ends the session", async () => {
    const server = await start({
      name: "weather",
      tools: [{ name: "forecast", description: "Tomorrow's weather" }],
    });
    const result = await probe({ url: server.url, transport: "streamable-http", headers: {} });
    expect(result).toMatchObject({
      status: "healthy",
      error: null,
      serverInfo: {
        name: "weather",
        version: "1.2.3",
        protocolVersion: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      },
      tools: [{ name: "forecast", description: "Tomorrow's weather" }],
    });
    expect(result.serverInfo?.capabilities).toHaveProperty("tools");
    expect(result.latencyMs).toBeLessThan(OPTS.degradedMs);
    // server/discover (refused: a 2025 server), initialize, the initialized notification and
    // tools/list; no standing GET stream, no ping.
    expect(server.requests).toEqual({ POST: 4, DELETE: 1 });
    expect(result.serverInfo).toMatchObject({ era: "legacy", protocolVersion: "2025-11-25" });
  });

  it("pings a server that offers no tools", async () => {
    const server = await start({ tools: [] });
    const result = await probe({ url: server.url, transport: "streamable-http", headers: {} });
    expect(result).toMatchObject({ status: "healthy", error: null, tools: [] });
    expect(result.serverInfo?.capabilities).not.toHaveProperty("tools");
    expect(server.requests).toEqual({ POST: 4, DELETE: 1 });
  });

  it("reads answers sent as plain JSON as well as SSE streams", async () => {
    const server = await start({
      jsonResponse: true,
      tools: [{ name: "lookup", description: "Finds things" }],
    });
    const result = await probe({ url: server.url, transport: "streamable-http", headers: {} });
    expect(result).toMatchObject({ status: "healthy", error: null, tools: [{ name: "lookup" }] });
    expect(server.requests).toEqual({ POST: 4, DELETE: 1 });
  });

  it("follows a redirect within the server's origin, and then goes straight to the new address", async () => {
    const server = await start();
    const result = await probe({ url: server.movedUrl, transport: "streamable-http", headers: {} });
    expect(result).toMatchObject({
      status: "healthy",
      error: null,
      tools: [{ name: "echo" }, { name: "add" }],
    });
    // One redirected POST, then the four POSTs and the DELETE of a first probe at the new address.
    expect(server.requests).toEqual({ POST: 5, DELETE: 1 });
  });

  it("does not follow a redirect to another origin", async () => {
    const target = await start();
    const elsewhere = createHttpServer((_req, res) => res.writeHead(307, { location: target.url }).end());
    await new Promise<void>((done) => elsewhere.listen(0, "127.0.0.1", done));
    try {
      const { port } = elsewhere.address() as { port: number };
      const result = await probe({
        url: `http://127.0.0.1:${port}/mcp`,
        transport: "streamable-http",
        headers: {},
      });
      expect(result).toMatchObject({ status: "unhealthy", error: "http_307" });
      expect(target.requests).toEqual({});
    } finally {
      elsewhere.close();
    }
  });

  it("sends a stored header once, even when its name differs in case from the transport's own", async () => {
    const server = await start({ requireHeader: { name: "X-Api-Key", value: "k1" } });
    const result = await probe({
      url: server.url,
      transport: "streamable-http",
      headers: { "x-api-key": "k1", "Content-Type": "application/json" },
    });
    expect(result.status).toBe("healthy");
  });

  it("speaks MCP over SSE", async () => {
    const server = await start({ transport: "sse" });
    const result = await probe({ url: server.url, transport: "sse", headers: {} });
    expect(result).toMatchObject({
      status: "healthy",
      error: null,
      tools: [{ name: "echo" }, { name: "add" }],
    });
  });

  it("follows an SSE server's redirect within its origin", async () => {
    const server = await start({ transport: "sse" });
    const result = await probe({ url: server.movedUrl, transport: "sse", headers: {} });
    expect(result).toMatchObject({
      status: "healthy",
      error: null,
      tools: [{ name: "echo" }, { name: "add" }],
    });
  });

  it("does not follow an SSE server's redirect to another origin, even on 127.0.0.1, nor send its headers there", async () => {
    const target = await start({ transport: "sse" });
    const seen: string[] = [];
    const elsewhere = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(307, { location: target.url }).end();
    });
    await listen(elsewhere);
    try {
      const result = await probe({
        url: `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}/sse`,
        transport: "sse",
        headers: { "x-api-key": "for-elsewhere-only" },
      });
      // Fetch followed this hop itself, stored headers and all, before the redirect was handled here.
      expect(target.requests).toEqual({});
      expect(seen).toEqual(["GET /sse"]);
      expect(result).toMatchObject({ status: "unhealthy", error: "http_307" });
    } finally {
      elsewhere.close();
    }
  });

  it("calls a server slower than the threshold degraded", async () => {
    const server = await start({ behaviour: "slow", delayMs: 250 });
    const impatient = createProber({ ...OPTS, degradedMs: 200 });
    const result = await impatient({ url: server.url, transport: "streamable-http", headers: {} });
    expect(result.status).toBe("degraded");
    expect(result.error).toBe("slow");
    expect(result.latencyMs).toBeGreaterThan(200);
    expect(result.tools.length).toBe(2);
  });

  it("sends the stored upstream headers: refused without them, healthy with them", async () => {
    const server = await start({ requireHeader: { name: "Authorization", value: "Bearer upstream-token" } });
    const without = await probe({ url: server.url, transport: "streamable-http", headers: {} });
    // A bare 401 (no challenge, no protected-resource metadata) is no sign of OAuth.
    expect(without).toMatchObject({ status: "unhealthy", error: "http_401", authChallenge: null });
    const withIt = await probe({
      url: server.url,
      transport: "streamable-http",
      headers: { Authorization: "Bearer upstream-token" },
    });
    expect(withIt.status).toBe("healthy");
  });

  it.each([
    ["hang", "timeout"],
    ["trickle", "timeout"],
    ["http500", "http_500"],
    ["invalid", "protocol_error"],
    ["close", "connection_reset"],
    ["huge", "response_too_large"],
  ] as [Behaviour, string][])(
    "calls a server that does %s unhealthy (%s) within the time bound",
    async (behaviour, reason) => {
      const server = await start({ behaviour });
      const t0 = performance.now();
      const result = await probe({ url: server.url, transport: "streamable-http", headers: {} });
      expect(result).toMatchObject({ status: "unhealthy", error: reason, serverInfo: null, tools: [] });
      expect(performance.now() - t0).toBeLessThan(OPTS.timeoutMs + 1500);
    },
  );

  it("reports a refused connection", async () => {
    const port = await new Promise<number>((done) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => done(p));
      });
    });
    const result = await probe({
      url: `http://127.0.0.1:${port}/mcp`,
      transport: "streamable-http",
      headers: {},
    });
    expect(result).toMatchObject({ status: "unhealthy", error: "connection_refused" });
  });

  it("refuses a loopback target when private targets are not allowed, without connecting", async () => {
    const server = await start();
    const strict = createProber({ ...OPTS, dispatcher: createUpstreamDispatcher({ allowPrivate: false }) });
    const result = await strict({ url: server.url, transport: "streamable-http", headers: {} });
    expect(result).toMatchObject({ status: "unhealthy", error: "target_refused" });
    expect(server.requests).toEqual({});
  });
});

describe("probe of either protocol era", () => {
  const modern: RunningModernServer[] = [];
  const startModern = async (opts: Parameters<typeof startModernMcpServer>[0] = {}) => {
    const s = await startModernMcpServer(opts);
    modern.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(modern.map((s) => s.close()));
  });
  const probe = createProber(OPTS);
  const at = (url: string, headers: Record<string, string> = {}) =>
    probe({ url, transport: "streamable-http", headers });

  it("judges a server that speaks only 2026-07-28 healthy, with its name, version and tools from server/discover", async () => {
    const server = await startModern({
      name: "modern-weather",
      tools: [{ name: "forecast", description: "Tomorrow's weather" }],
    });
    const result = await at(server.url);
    expect(result).toMatchObject({
      status: "healthy",
      error: null,
      serverInfo: { name: "modern-weather", version: "2.0.0", protocolVersion: "2026-07-28", era: "modern" },
      tools: [{ name: "forecast", description: "Tomorrow's weather", inputSchema: { type: "object" } }],
    });
    // Stateless: no initialize, no session to end, no ping.
    expect(server.requests).toEqual({ "POST server/discover": 1, "POST tools/list": 1 });
  });

  it("speaks 2026-07-28 to a dual-era server, and lists its prompts and resources", async () => {
    const server = await startModern({
      era: "dual",
      prompts: ["summarize"],
      resources: [{ uri: "config://app", name: "config" }],
    });
    const result = await at(server.url);
    expect(result.serverInfo).toMatchObject({ era: "modern", protocolVersion: "2026-07-28" });
    expect(result.prompts).toEqual([{ name: "summarize", title: null, description: "The summarize prompt" }]);
    expect(result.resources).toMatchObject([{ uri: "config://app", name: "config", mimeType: "text/plain" }]);
  });

  it("is alive on server/discover alone when a modern server offers no tools", async () => {
    const server = await startModern({ tools: [] });
    const result = await at(server.url);
    expect(result).toMatchObject({ status: "healthy", tools: [], serverInfo: { era: "modern" } });
    expect(server.requests).toEqual({ "POST server/discover": 1 });
  });

  it("costs a 2025 server one extra round trip once, not at every check", async () => {
    const server = await start({ stateless: true, jsonResponse: true });
    const first = await at(server.url);
    expect(first).toMatchObject({ status: "healthy", serverInfo: { era: "legacy" } });
    // server/discover (refused with -32000), initialize, initialized, tools/list; no session to end.
    expect(server.requests).toEqual({ POST: 4 });
    await at(server.url);
    await at(server.url);
    expect(server.requests).toEqual({ POST: 10 });
  });

  it("detects the era again when the remembered one stops working", async () => {
    const legacy = await start();
    const modernOnly = await startModern();
    const f = await front(legacy.url);
    expect((await at(f.url)).serverInfo?.era).toBe("legacy");
    f.upstream = modernOnly.url; // the server was upgraded in place
    const after = await at(f.url);
    expect(after).toMatchObject({ status: "healthy", serverInfo: { era: "modern" } });
    // It asked initialize (refused with -32022) before it tried server/discover again.
    expect(modernOnly.requests.POST).toBe(1);
    expect(modernOnly.requests["POST server/discover"]).toBe(1);
  });

  const refusals: [string, (req: Parameters<RunningFront["answer"]>[0]) => FrontAnswer][] = [
    [
      "a 200 carrying -32022",
      (req) =>
        rpcErrorAnswer(req, 200, {
          code: -32022,
          message: "Unsupported",
          data: { supported: ["2026-07-28"] },
        }),
    ],
    [
      "a 200 carrying -32601",
      (req) => rpcErrorAnswer(req, 200, { code: -32601, message: "Method not found" }),
    ],
    ["a 400 with no JSON-RPC body", () => ({ status: 400, body: "bad request" })],
    ["a 404", () => ({ status: 404 })],
    ["a 405", () => ({ status: 405, headers: { allow: "GET" } })],
  ];
  it.each(refusals)(
    "judges a server that switched from 2025 to 2026-07-28 only healthy at the next check when initialize gets %s",
    async (_, refusal) => {
      const legacy = await start({ tools: [{ name: "lookup", description: "Finds things" }] });
      const modernOnly = await startModern({ tools: [{ name: "lookup", description: "Finds things" }] });
      const f = await front(legacy.url);
      expect(await at(f.url)).toMatchObject({ status: "healthy", serverInfo: { era: "legacy" } });

      // Upgraded in place: initialize is refused this way, everything else is the modern server.
      f.upstream = modernOnly.url;
      f.answer = (req) => (req.rpcMethod === "initialize" ? refusal(req) : null);
      f.seen.length = 0;
      const after = await at(f.url);
      expect(after).toMatchObject({
        status: "healthy",
        error: null,
        serverInfo: { era: "modern", protocolVersion: "2026-07-28" },
        tools: [{ name: "lookup" }],
      });
      // The remembered era was tried once, then the other one, in the same check.
      expect(f.seen.map((e) => e.request.rpcMethod)).toEqual(["initialize", "server/discover", "tools/list"]);

      // The new era is remembered in its turn.
      f.seen.length = 0;
      await at(f.url);
      expect(f.seen.map((e) => e.request.rpcMethod)).toEqual(["server/discover", "tools/list"]);
    },
  );

  it("asks a server whose server/discover fails with a 5xx initialize before calling it down", async () => {
    const legacy = await start({ stateless: true, jsonResponse: true });
    const f = await front(legacy.url);
    f.answer = (req) =>
      req.rpcMethod === "server/discover" ? { status: 500, body: "unknown method" } : null;
    expect(await at(f.url)).toMatchObject({ status: "healthy", serverInfo: { era: "legacy" } });
    expect(f.seen.map((e) => [e.request.rpcMethod, e.status])).toEqual([
      ["server/discover", 500],
      ["initialize", 200],
      ["notifications/initialized", 202],
      ["tools/list", 200],
    ]);
  });

  it("reports a modern server's 5xx, not its refusal of initialize, when both eras fail", async () => {
    const modernOnly = await startModern();
    const f = await front(modernOnly.url);
    expect((await at(f.url)).serverInfo?.era).toBe("modern");
    f.answer = (req) => (req.rpcMethod === "server/discover" ? { status: 503, body: "down" } : null);
    expect(await at(f.url)).toMatchObject({ status: "unhealthy", error: "http_503" });
    expect(f.seen.slice(-2).map((e) => [e.request.rpcMethod, e.status])).toEqual([
      ["server/discover", 503],
      ["initialize", 400],
    ]);
  });

  it.each([
    ["sessionful", { jsonResponse: true }],
    ["stateless", { stateless: true, jsonResponse: true }],
  ] as const)(
    "falls back to initialize when a %s 2025 server answers server/discover with -32000",
    async (_, opts) => {
      const legacy = await start(opts);
      const f = await front(legacy.url);
      const result = await at(f.url);
      expect(result).toMatchObject({
        status: "healthy",
        serverInfo: { era: "legacy", protocolVersion: "2025-11-25" },
      });
      // What the 2025 SDK answered server/discover, exactly as the fallback saw it.
      const [discover, initialize] = f.seen;
      expect(discover?.request.rpcMethod).toBe("server/discover");
      expect(discover?.status).toBe(400);
      expect(JSON.parse(discover?.body ?? "")).toMatchObject({ jsonrpc: "2.0", error: { code: -32000 } });
      expect(initialize?.request.rpcMethod).toBe("initialize");
    },
  );

  it("reports a modern server that speaks no revision the probe knows as unsupported_protocol_version", async () => {
    const future = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(400, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          error: {
            code: -32022,
            message: "Unsupported",
            data: { supported: ["2099-01-01"], requested: "2026-07-28" },
          },
        }),
      );
    });
    await new Promise<void>((done) => future.listen(0, "127.0.0.1", done));
    try {
      const result = await at(`http://127.0.0.1:${(future.address() as { port: number }).port}/mcp`);
      expect(result).toMatchObject({ status: "unhealthy", error: "unsupported_protocol_version" });
    } finally {
      future.close();
    }
  });

  it("calls a server that asks for OAuth auth_required, with its authorization servers and scopes", async () => {
    const server = await startModern({
      oauth: {
        token: "t0ken",
        scopes: ["mcp:read", "mcp:tools"],
        authorizationServers: ["https://login.example.com"],
      },
    });
    const result = await at(server.url);
    expect(result).toMatchObject({
      status: "auth_required",
      error: null,
      serverInfo: null,
      authChallenge: {
        resourceMetadataUrl: `${new URL(server.url).origin}/.well-known/oauth-protected-resource/mcp`,
        authorizationServers: ["https://login.example.com"],
        scopes: ["mcp:read", "mcp:tools"],
      },
    });
  });

  it("calls it unhealthy, auth_rejected, when the credentials it is sent are refused", async () => {
    const server = await startModern({
      oauth: { token: "t0ken", scopes: ["mcp:read"], authorizationServers: ["https://login.example.com"] },
    });
    expect(await at(server.url, { Authorization: "Bearer wrong" })).toMatchObject({
      status: "unhealthy",
      error: "auth_rejected",
      authChallenge: null,
    });
    expect(await at(server.url, { Authorization: "Bearer t0ken" })).toMatchObject({
      status: "healthy",
      serverInfo: { era: "modern" },
    });
  });

  it("calls it auth_required when stored headers refused with it are no credentials", async () => {
    const server = await startModern({
      oauth: { token: "t0ken", scopes: ["mcp:read"], authorizationServers: ["https://login.example.com"] },
    });
    expect(await at(server.url, { "X-Tenant": "acme", "Accept-Language": "en" })).toMatchObject({
      status: "auth_required",
      error: null,
      authChallenge: { authorizationServers: ["https://login.example.com"] },
    });
  });
});

describe("probe of a server that refuses it", () => {
  const probe = createProber(OPTS);
  const servers: ReturnType<typeof createHttpServer>[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });
  /** Refuses every MCP request with `status` and `headers`; serves `metadata` at its RFC 9728 address. */
  const refusing = async (status: number, headers: Record<string, string> = {}, metadata?: object) => {
    const server = createHttpServer((req, res) => {
      req.resume();
      if (metadata && req.url === "/.well-known/oauth-protected-resource/mcp") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(metadata));
        return;
      }
      if (req.url !== "/mcp") return void res.writeHead(404).end();
      res.writeHead(status, { "content-type": "application/json", ...headers }).end('{"error":"denied"}');
    });
    servers.push(server);
    await listen(server);
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`;
  };
  const at = (url: string, headers: Record<string, string> = {}) =>
    probe({ url, transport: "streamable-http", headers });

  it.each([
    [401, {}],
    [403, {}],
    [401, { "www-authenticate": 'Basic realm="intranet"' }],
  ] as const)(
    "calls a bare %i (challenge %j) with no protected-resource metadata an ordinary failure",
    async (status, headers) => {
      const url = await refusing(status, headers);
      expect(await at(url)).toMatchObject({
        status: "unhealthy",
        error: `http_${status}`,
        authChallenge: null,
      });
      expect(await at(url, { "X-Tenant": "acme" })).toMatchObject({
        status: "unhealthy",
        error: `http_${status}`,
      });
    },
  );

  it("calls a 401 auth_required when the server's protected-resource metadata says OAuth, challenge or not", async () => {
    const url = await refusing(
      401,
      {},
      {
        resource: "http://127.0.0.1/mcp",
        authorization_servers: ["https://login.example.com"],
        scopes_supported: ["files:read"],
      },
    );
    expect(await at(url)).toMatchObject({
      status: "auth_required",
      error: null,
      authChallenge: {
        resourceMetadataUrl: `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`,
        authorizationServers: ["https://login.example.com"],
        scopes: ["files:read"],
      },
    });
  });

  it.each<Record<string, string>>([
    { Authorization: "Bearer old" },
    { "X-Api-Key": "k1" },
    { Cookie: "sid=1" },
    { "Private-Token": "t" },
  ])(
    "calls a refusal of stored credentials %j auth_rejected, with or without a sign of OAuth",
    async (credentials) => {
      const bare = await refusing(401);
      const oauth = await refusing(401, { "www-authenticate": 'Bearer realm="mcp"' });
      for (const url of [bare, oauth]) {
        expect(await at(url, { "X-Tenant": "acme", ...credentials })).toMatchObject({
          status: "unhealthy",
          error: "auth_rejected",
          authChallenge: null,
        });
      }
    },
  );

  it("tells credentials from other stored headers by their names", () => {
    for (const name of [
      "Authorization",
      "Proxy-Authorization",
      "Cookie",
      "X-Api-Key",
      "apikey",
      "X-Auth-Token",
    ]) {
      expect(hasCredentials({ [name]: "v" })).toBe(true);
    }
    for (const name of ["X-Secret", "X-Client-Password", "X-Credentials"]) {
      expect(hasCredentials({ [name]: "v" })).toBe(true);
    }
    for (const name of ["X-Tenant", "Accept-Language", "X-Region", "User-Agent"]) {
      expect(hasCredentials({ [name]: "v" })).toBe(false);
    }
    expect(hasCredentials({})).toBe(false);
  });
});
