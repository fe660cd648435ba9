import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv-provider.js";
import { z } from "zod";

/**
 * How a local MCP server behaves: the real protocol when `healthy` or `slow`, and each way a
 * server can fail a probe otherwise. The demo runs these, and the tests probe them.
 */
export type Behaviour =
  | "healthy"
  | "slow" // answers correctly after `delayMs`
  | "hang" // accepts the request and never answers
  | "trickle" // sends headers, then a byte now and then, never finishing
  | "http500"
  | "invalid" // answers 200 with JSON that is not JSON-RPC
  | "close" // drops the connection
  | "huge" // answers with a body of several MiB
  | "flaky"; // healthy, but refuses a share (`failRate`) of new sessions

export interface McpServerOptions {
  name?: string;
  transport?: "streamable-http" | "sse";
  behaviour?: Behaviour;
  delayMs?: number;
  failRate?: number;
  /** Refuse (401) any request without this header value. */
  requireHeader?: { name: string; value: string };
  tools?: { name: string; description: string }[];
  /** Answer requests with JSON rather than an SSE stream (streamable HTTP only). */
  jsonResponse?: boolean;
  /** Serve each request on its own, with no session (streamable HTTP only). */
  stateless?: boolean;
  /**
   * Besides the tools: `count` (reports progress as it counts), `blob` (answers `size` bytes), a
   * `greet` prompt and a `config://app` resource, as a full-featured server has.
   */
  fullFeatured?: boolean;
}

export interface RunningMcpServer {
  url: string;
  /** An address on the same origin that answers 307 to `url`, as a server that moved does. */
  movedUrl: string;
  /** Requests received, by method, e.g. `{ POST: 3, DELETE: 1 }`. */
  requests: Record<string, number>;
  /** The W3C `traceparent` of each request that carried one, in order. */
  traceparents: string[];
  setBehaviour(b: Behaviour): void;
  /** The tools offered to sessions opened from now on, as a server that changes them does. */
  setTools(tools: { name: string; description: string }[]): void;
  close(): Promise<void>;
}

const DEFAULT_TOOLS = [
  { name: "echo", description: "Echoes the text it is given" },
  { name: "add", description: "Adds two numbers" },
];

/** One validator for every session: the SDK would otherwise build an Ajv instance per session. */
const jsonSchemaValidator = new AjvJsonSchemaValidator();

function buildMcp(opts: McpServerOptions): McpServer {
  const server = new McpServer({ name: opts.name ?? "fixture", version: "1.2.3" }, { jsonSchemaValidator });
  for (const tool of opts.tools ?? DEFAULT_TOOLS) {
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: { text: z.string().optional() } },
      async ({ text }) => ({
        content: [{ type: "text", text: text ?? tool.name }],
      }),
    );
  }
  if (opts.fullFeatured) addFeatures(server);
  return server;
}

function addFeatures(server: McpServer) {
  server.registerTool(
    "count",
    {
      description: "Counts to `to`, reporting progress",
      inputSchema: { to: z.number().int().min(1).max(100) },
    },
    async ({ to }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= to; i++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken: token, progress: i, total: to },
          });
        }
      }
      return { content: [{ type: "text", text: `counted to ${to}` }] };
    },
  );
  server.registerTool(
    "blob",
    { description: "Answers `size` bytes of text", inputSchema: { size: z.number().int().min(1) } },
    async ({ size }) => ({ content: [{ type: "text", text: "x".repeat(size) }] }),
  );
  server.registerPrompt(
    "greet",
    { description: "Greets someone", argsSchema: { who: z.string() } },
    ({ who }) => ({
      messages: [{ role: "user", content: { type: "text", text: `Hello, ${who}` } }],
    }),
  );
  server.registerResource("config", "config://app", { mimeType: "text/plain" }, async (uri) => ({
    contents: [{ uri: uri.href, text: "debug=false" }],
  }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts an MCP server on 127.0.0.1 with an ephemeral port. */
export async function startMcpServer(options: McpServerOptions = {}): Promise<RunningMcpServer> {
  const opts = { ...options };
  let behaviour: Behaviour = opts.behaviour ?? "healthy";
  const requests: Record<string, number> = {};
  const traceparents: string[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const sseSessions = new Map<string, SSEServerTransport>();
  const path = opts.transport === "sse" ? "/sse" : "/mcp";

  /** Answers with the failure the behaviour calls for; false when the request should be served. */
  async function misbehave(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (
      opts.requireHeader &&
      req.headers[opts.requireHeader.name.toLowerCase()] !== opts.requireHeader.value
    ) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unauthorized"}');
      return true;
    }
    switch (behaviour) {
      case "hang":
        return true;
      case "trickle": {
        res.writeHead(200, { "content-type": "application/json" });
        const t = setInterval(() => res.write(" "), 300);
        timers.add(t);
        return true;
      }
      case "http500":
        res.writeHead(500, { "content-type": "text/plain" }).end("internal error");
        return true;
      case "invalid":
        res.writeHead(200, { "content-type": "application/json" }).end('{"hello":"this is not JSON-RPC"}');
        return true;
      case "close":
        req.socket.destroy();
        return true;
      case "huge":
        res.writeHead(200, { "content-type": "application/json" }).end(`[${"0,".repeat(3 * 1024 * 1024)}0]`);
        return true;
      case "slow":
        await sleep(opts.delayMs ?? 3000);
        return false;
      case "flaky":
        // Fails whole sessions: only a request that opens one (it carries no session id) is refused.
        if (
          req.method === "POST" &&
          !req.headers["mcp-session-id"] &&
          Math.random() < (opts.failRate ?? 0.3)
        ) {
          res.writeHead(503, { "content-type": "text/plain" }).end("try again later");
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  async function streamable(req: IncomingMessage, res: ServerResponse) {
    const sessionId = req.headers["mcp-session-id"];
    const existing = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
    if (req.method === "POST") {
      const body = await readJson(req);
      if (existing) return existing.handleRequest(req, res, body);
      if (opts.stateless) {
        const transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: undefined,
          enableJsonResponse: opts.jsonResponse ?? false,
        });
        res.on("close", () => void transport.close());
        await buildMcp(opts).connect(transport);
        return transport.handleRequest(req, res, body);
      }
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: opts.jsonResponse ?? false,
        onsessioninitialized: (id) => {
          sessions.set(id, transport);
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await buildMcp(opts).connect(transport);
      return transport.handleRequest(req, res, body);
    }
    if (existing) return existing.handleRequest(req, res);
    res.writeHead(req.method === "GET" || req.method === "DELETE" ? 404 : 405).end();
  }

  async function sse(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/sse") {
      const transport = new SSEServerTransport("/messages", res);
      sseSessions.set(transport.sessionId, transport);
      res.on("close", () => sseSessions.delete(transport.sessionId));
      await buildMcp(opts).connect(transport);
      return;
    }
    const transport = sseSessions.get(url.searchParams.get("sessionId") ?? "");
    if (req.method === "POST" && url.pathname === "/messages" && transport) {
      return transport.handlePostMessage(req, res, await readJson(req));
    }
    res.writeHead(404).end();
  }

  const http: Server = createServer((req, res) => {
    requests[req.method ?? "?"] = (requests[req.method ?? "?"] ?? 0) + 1;
    if (typeof req.headers.traceparent === "string") traceparents.push(req.headers.traceparent);
    (async () => {
      if (await misbehave(req, res)) return;
      const pathname = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
      if (pathname === "/moved") return void res.writeHead(307, { location: path }).end();
      if (opts.transport === "sse") return sse(req, res);
      if (pathname !== path) return void res.writeHead(404).end();
      return streamable(req, res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  http.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  const { port } = http.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}${path}`,
    movedUrl: `http://127.0.0.1:${port}/moved`,
    requests,
    traceparents,
    setBehaviour: (b) => {
      behaviour = b;
    },
    setTools: (tools) => {
      opts.tools = tools;
    },
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const transport of sessions.values()) await transport.close().catch(() => {});
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
}
