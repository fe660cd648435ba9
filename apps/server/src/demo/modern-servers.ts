import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";

export interface ToolSpec {
  name: string;
  description: string;
}

export interface ModernServerOptions {
  name?: string;
  /** `modern`: 2026-07-28 only (`initialize` refused); `dual`: 2026-07-28 and 2025, statelessly. */
  era?: "modern" | "dual";
  tools?: ToolSpec[];
  prompts?: string[];
  resources?: { uri: string; name: string }[];
  /**
   * Refuse every MCP request without `Authorization: Bearer <token>` with a 401 and an OAuth
   * challenge, and serve RFC 9728 protected-resource metadata, as an OAuth-protected server does.
   */
  oauth?: { token: string; scopes: string[]; authorizationServers: string[] };
}

export interface RunningModernServer {
  url: string;
  /** Requests received, by method and MCP method, e.g. `{ "POST server/discover": 1 }`. */
  requests: Record<string, number>;
  /** The W3C `traceparent` header of each request that carried one, in order. */
  traceparents: string[];
  /** The tools offered from the next request on, as a server that changes them does. */
  setTools(tools: ToolSpec[]): void;
  /** The prompts offered from the next request on. */
  setPrompts(prompts: string[]): void;
  close(): Promise<void>;
}

const DEFAULT_TOOLS: ToolSpec[] = [{ name: "echo", description: "Echoes the text it is given" }];

/**
 * An MCP server of the 2026-07-28 revision, built with the official SDK (v2), on 127.0.0.1 with an
 * ephemeral port: the demo runs one, and the tests probe and proxy to them.
 */
export async function startModernMcpServer(opts: ModernServerOptions = {}): Promise<RunningModernServer> {
  let tools = opts.tools ?? DEFAULT_TOOLS;
  let prompts = opts.prompts ?? [];
  const requests: Record<string, number> = {};
  const traceparents: string[] = [];
  const sockets = new Set<Socket>();
  const build = () => {
    const server = new McpServer({ name: opts.name ?? "modern-fixture", version: "2.0.0" });
    for (const tool of tools) {
      server.registerTool(
        tool.name,
        { description: tool.description, inputSchema: z.object({ text: z.string().optional() }) },
        async ({ text }) => ({ content: [{ type: "text", text: text ?? tool.name }] }),
      );
    }
    for (const prompt of prompts) {
      server.registerPrompt(prompt, { description: `The ${prompt} prompt` }, () => ({
        messages: [{ role: "user", content: { type: "text", text: prompt } }],
      }));
    }
    for (const resource of opts.resources ?? []) {
      server.registerResource(resource.name, resource.uri, { mimeType: "text/plain" }, async (uri) => ({
        contents: [{ uri: uri.href, text: resource.name }],
      }));
    }
    return server;
  };
  const mcp = toNodeHandler(
    createMcpHandler(build, { legacy: opts.era === "dual" ? "stateless" : "reject" }),
  );

  let origin = "";
  const http: Server = createServer((req, res) => {
    const key = `${req.method} ${req.headers["mcp-method"] ?? ""}`.trim();
    requests[key] = (requests[key] ?? 0) + 1;
    if (typeof req.headers.traceparent === "string") traceparents.push(req.headers.traceparent);
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const oauth = opts.oauth;
    if (oauth && path === "/.well-known/oauth-protected-resource/mcp") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          resource: `${origin}/mcp`,
          authorization_servers: oauth.authorizationServers,
          scopes_supported: oauth.scopes,
        }),
      );
      return;
    }
    if (path !== "/mcp") return void res.writeHead(404).end();
    if (oauth && req.headers.authorization !== `Bearer ${oauth.token}`) {
      const metadata = `${origin}/.well-known/oauth-protected-resource/mcp`;
      res.writeHead(401, {
        "content-type": "application/json",
        "www-authenticate": `Bearer error="invalid_token", resource_metadata="${metadata}", scope="${oauth.scopes.join(" ")}"`,
      });
      res.end('{"error":"invalid_token"}');
      return;
    }
    void mcp(req, res);
  });
  http.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  const { port } = http.address() as { port: number };
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/mcp`,
    requests,
    traceparents,
    setTools: (next) => {
      tools = next;
    },
    setPrompts: (next) => {
      prompts = next;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
}
