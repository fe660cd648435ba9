import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { type Behaviour, type RunningMcpServer, startMcpServer } from "../../demo/mcp-servers";
import { createProber, type ProbeOptions } from "./probe";

const OPTS: ProbeOptions = {
  timeoutMs: 2000,
  degradedMs: 500,
  allowPrivate: true,
  maxBodyBytes: 1024 * 1024,
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
    // initialize, the initialized notification and tools/list; no standing GET stream, no ping.
    expect(server.requests).toEqual({ POST: 3, DELETE: 1 });
  });

  it("pings a server that offers no tools", async () => {
    const server = await start({ tools: [] });
    const result = await probe({ url: server.url, transport: "streamable-http", headers: {} });
    expect(result).toMatchObject({ status: "healthy", error: null, tools: [] });
    expect(result.serverInfo?.capabilities).not.toHaveProperty("tools");
    expect(server.requests).toEqual({ POST: 3, DELETE: 1 });
  });

  it("reads answers sent as plain JSON as well as SSE streams", async () => {
    const server = await start({
      jsonResponse: true,
      tools: [{ name: "lookup", description: "Finds things" }],
    });
    const result = await probe({ url: server.url, transport: "streamable-http", headers: {} });
    expect(result).toMatchObject({ status: "healthy", error: null, tools: [{ name: "lookup" }] });
    expect(server.requests).toEqual({ POST: 3, DELETE: 1 });
  });

  it("follows a redirect within the server's origin, and then goes straight to the new address", async () => {
    const server = await start();
    const result = await probe({ url: server.movedUrl, transport: "streamable-http", headers: {} });
    expect(result).toMatchObject({
      status: "healthy",
      error: null,
      tools: [{ name: "echo" }, { name: "add" }],
    });
    // One redirected POST, then the three POSTs and the DELETE of a probe at the new address.
    expect(server.requests).toEqual({ POST: 4, DELETE: 1 });
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

  it("calls a server slower than the threshold degraded", async () => {
    const server = await start({ behaviour: "slow", delayMs: 250 });
    const result = await probe({ url: server.url, transport: "streamable-http", headers: {} });
    expect(result.status).toBe("degraded");
    expect(result.error).toBe("slow");
    expect(result.latencyMs).toBeGreaterThan(OPTS.degradedMs);
    expect(result.tools.length).toBe(2);
  });

  it("sends the stored upstream headers: refused without them, healthy with them", async () => {
    const server = await start({ requireHeader: { name: "Authorization", value: "Bearer upstream-token" } });
    const without = await probe({ url: server.url, transport: "streamable-http", headers: {} });
    expect(without).toMatchObject({ status: "unhealthy", error: "auth_required" });
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
    const strict = createProber({ ...OPTS, allowPrivate: false });
    const result = await strict({ url: server.url, transport: "streamable-http", headers: {} });
    expect(result).toMatchObject({ status: "unhealthy", error: "target_refused" });
    expect(server.requests).toEqual({});
  });
});
