import { createServer as createHttpServer, request as httpRequest, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { queryRows } from "../src/db/client";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "./app";

const REQUEST_TIMEOUT_MS = 1000;

/** Opens a raw connection to the app and sends `head` (and nothing more, ever). */
function hold(port: number, head: string) {
  const socket: Socket = connect(port, "127.0.0.1");
  let answer = "";
  socket.on("data", (d) => {
    answer += String(d);
  });
  socket.on("error", () => {});
  const closed = new Promise<number>((done) => socket.once("close", () => done(performance.now())));
  socket.write(head);
  return { socket, closed, answer: () => answer };
}

describe("slow and unterminated requests", () => {
  let t: TestApp;
  let port: number;
  let tenant: Tenant;
  let upstream: Server;
  beforeAll(async () => {
    t = await createTestApp("pglite", {
      env: {
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_HEADERS_TIMEOUT_MS: "500",
        HTTP_KEEPALIVE_TIMEOUT_MS: "500",
      },
    });
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    port = (t.app.server.address() as { port: number }).port;
    tenant = await createTenant(t.app);
    // An MCP server whose standing GET stream sends an event every 200 ms for 3 s.
    upstream = createHttpServer((req, res) => {
      if (req.method !== "GET") return void res.writeHead(405).end();
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      let n = 0;
      const tick = setInterval(() => {
        res.write(
          `event: message\ndata: {"jsonrpc":"2.0","method":"notifications/tick","params":{"n":${n++}}}\n\n`,
        );
        if (n === 15) {
          clearInterval(tick);
          res.end();
        }
      }, 200);
      res.on("close", () => clearInterval(tick));
    });
    await new Promise<void>((done) => upstream.listen(0, "127.0.0.1", done));
  });
  afterAll(async () => {
    upstream.close();
    await t.close();
  });

  it("closes chunked bodies that never end and headers that never finish, while the API keeps answering", async () => {
    const started = performance.now();
    const bodies = Array.from({ length: 100 }, (_, i) =>
      hold(
        port,
        `POST /api/auth/sign-in/email HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:3000\r\n` +
          `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{"email":\r\n${i % 2 ? "" : '1\r\n"\r\n'}`,
      ),
    );
    const unauthenticated = Array.from({ length: 50 }, () =>
      hold(
        port,
        "POST /mcp/probe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
      ),
    );
    const headers = Array.from({ length: 50 }, () =>
      hold(port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "),
    );
    const idle = Array.from({ length: 20 }, () => hold(port, ""));

    // Meanwhile the API answers at once.
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
    }
    const servers = await as(t.app, tenant.member)({ method: "GET", url: "/mcp/servers" });
    expect(servers.statusCode).toBe(200);

    const all = [...bodies, ...unauthenticated, ...headers, ...idle];
    const closedAt = await Promise.race([
      Promise.all(all.map((h) => h.closed)),
      new Promise<null>((done) => setTimeout(() => done(null), REQUEST_TIMEOUT_MS + 4000)),
    ]);
    for (const h of all) h.socket.destroy();
    expect(closedAt, "some connections were still held").not.toBeNull();
    for (const at of closedAt ?? []) expect(at - started).toBeLessThan(REQUEST_TIMEOUT_MS + 3000);
    // A body that never ends is told so before it is closed.
    expect(bodies[0]?.answer()).toMatch(/^HTTP\/1\.1 408/);
  });

  it("keeps a gateway stream open past the request timeout: the timeout bounds the request, not the answer", async () => {
    const admin = as(t.app, tenant.admin);
    const server = await admin({
      method: "POST",
      url: "/mcp/servers",
      payload: {
        name: "ticker",
        url: `http://127.0.0.1:${(upstream.address() as { port: number }).port}/mcp`,
      },
    });
    expect(server.statusCode).toBe(201);
    const key = await admin({
      method: "POST",
      url: `/mcp/servers/${server.json().id}/keys`,
      payload: { name: "gw" },
    });
    const [org] = await queryRows<{ slug: string }>(
      t.database.db,
      sql`SELECT slug FROM organization WHERE id = ${tenant.orgId}`,
    );

    const started = performance.now();
    const received = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          path: `/gateway/${org?.slug}/ticker/mcp`,
          headers: { authorization: `Bearer ${key.json().key}`, accept: "text/event-stream" },
        },
        (res) => {
          let body = "";
          res.on("data", (d) => {
            body += String(d);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(received.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThan(REQUEST_TIMEOUT_MS * 2);
    // Every event arrived: nothing cut the stream at the request timeout.
    expect(received.body.match(/notifications\/tick/g)).toHaveLength(15);
  });
});

describe("HTTP timeout settings", () => {
  const base = { DATA_DIR: "/tmp/unused", AUTH_SECRET: "x".repeat(32), SECRETS_KEY: "a".repeat(64) };
  it("refuses a headers timeout longer than the request timeout, naming both", () => {
    expect(() =>
      loadConfig({ ...base, HTTP_REQUEST_TIMEOUT_MS: "1000", HTTP_HEADERS_TIMEOUT_MS: "2000" }),
    ).toThrow(/HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS/);
  });
  it("refuses a connection timeout that would cut quiet gateway streams", () => {
    expect(() => loadConfig({ ...base, HTTP_CONNECTION_TIMEOUT_MS: "60000" })).toThrow(
      /HTTP_CONNECTION_TIMEOUT_MS: must be 0 or more than GATEWAY_STREAM_IDLE_MS/,
    );
    expect(loadConfig({ ...base, HTTP_CONNECTION_TIMEOUT_MS: "0" }).http.connectionTimeoutMs).toBe(0);
  });
});
