import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { z } from "zod";
import { queryRows } from "../src/db/client";
import type { as, TestApp } from "./app";

// Helpers for tests of the MCP gateway: register a server, issue a key, talk to it through the gateway.

export type Admin = ReturnType<typeof as>;

export async function listen(app: TestApp["app"]): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

export const slugOf = async (t: TestApp, orgId: string) =>
  (
    await queryRows<{ slug: string }>(t.database.db, sql`SELECT slug FROM organization WHERE id = ${orgId}`)
  )[0]?.slug as string;

/** Registers a server and issues a key for it; returns both and the server's gateway URL. */
export async function connectThrough(
  base: string,
  slug: string,
  admin: Admin,
  name: string,
  server: { url: string; transport?: "sse"; headers?: { name: string; value: string }[] },
  key: Record<string, unknown> = { name: "k" },
) {
  const created = await admin({ method: "POST", url: "/mcp/servers", payload: { name, ...server } });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().id as string;
  const issued = (await admin({ method: "POST", url: `/mcp/servers/${id}/keys`, payload: key })).json();
  const path = server.transport === "sse" ? "sse" : "mcp";
  return {
    id,
    key: issued.key as string,
    keyId: issued.id as string,
    url: `${base}/gateway/${slug}/${name}/${path}`,
  };
}

/** An HTTP server that keeps what it receives and answers as `answer` says (or never). */
export async function rawUpstream(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: { method: string; headers: IncomingHttpHeaders; body: string; closedEarly: boolean }[] = [];
  const server: Server = createServer((req, res) => {
    const entry = { method: req.method ?? "", headers: req.headers, body: "", closedEarly: false };
    seen.push(entry);
    req.on("data", (c) => {
      entry.body += c;
    });
    res.on("close", () => {
      if (!res.writableEnded) entry.closedEarly = true;
    });
    req.on("end", () => answer(req, res));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * An SDK server that reads each request's body itself, as SDK servers do when nothing parsed it
 * first (the SDK decodes it with TextDecoder, which drops a byte order mark). Its tools `echo` and
 * `add` count their calls; `servers` holds each session's McpServer, to send notifications from.
 */
export async function startSdkServer({ stateless = false }: { stateless?: boolean } = {}) {
  const calls: Record<string, number> = {};
  const servers: McpServer[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const build = () => {
    const mcp = new McpServer(
      { name: "sdk", version: "1" },
      { capabilities: { tools: { listChanged: true } } },
    );
    for (const name of ["echo", "add"]) {
      mcp.registerTool(
        name,
        { description: name, inputSchema: { text: z.string().optional() } },
        async ({ text }) => {
          calls[name] = (calls[name] ?? 0) + 1;
          return { content: [{ type: "text" as const, text: text ?? name }] };
        },
      );
    }
    servers.push(mcp);
    return mcp;
  };
  const http = createServer((req, res) => {
    (async () => {
      const id = req.headers["mcp-session-id"];
      const existing = typeof id === "string" ? sessions.get(id) : undefined;
      if (existing) return existing.handleRequest(req, res);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: stateless ? undefined : () => randomUUID(),
        enableJsonResponse: stateless,
        onsessioninitialized: (sid) => {
          sessions.set(sid, transport);
        },
      });
      if (stateless) res.on("close", () => void transport.close());
      await build().connect(transport);
      return transport.handleRequest(req, res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`,
    calls,
    servers,
    close: async () => {
      for (const transport of sessions.values()) await transport.close().catch(() => {});
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
}

export const rpc = (method: string, params: Record<string, unknown> = {}, id: number | string = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params });

export const post = (
  url: string,
  key: string | null,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
) =>
  fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: body as RequestInit["body"],
  });

/** The "gateway call" log lines of a server, in the order they were written. */
export const gatewayCalls = (t: TestApp, server: string) =>
  t.logs.filter((l) => l.msg === "gateway call" && l.server === server);
