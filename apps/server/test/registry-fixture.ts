import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { OFFICIAL_META_KEY } from "@switchboard/shared";

/*
 * A registry of the official /v0.1 API on 127.0.0.1, for import tests: it pages by cursor and
 * filters by search as the official one does, with the official `_meta` on every entry; or it
 * misbehaves on purpose (pages forever, answers 50 MB, never answers).
 */

export type RegistryMode = "normal" | "forever" | "huge" | "silent";

export interface RegistryFixture {
  url: string;
  /** Paths with query strings, as the registry received them. */
  requests: string[];
  /** TCP connections opened to it. */
  connections: () => number;
  /** Bytes of answer it wrote. */
  bytesSent: () => number;
  close(): Promise<void>;
}

/** A document as the official registry lists it, with its registry-managed metadata. */
export function officialEntry<S extends { name: string }>(server: S, publishedAt = "2025-09-08T12:00:00Z") {
  return {
    server,
    _meta: {
      [OFFICIAL_META_KEY]: {
        status: "active",
        publishedAt,
        updatedAt: publishedAt,
        isLatest: true,
      },
    },
  };
}

export async function startRegistryFixture({
  entries = [],
  mode = "normal",
  hugeBytes = 50 * 1024 * 1024,
}: {
  entries?: { server: { name: string } & Record<string, unknown> }[];
  mode?: RegistryMode;
  hugeBytes?: number;
} = {}): Promise<RegistryFixture> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let sent = 0;
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const url = new URL(req.url ?? "/", "http://registry.test");
    if (url.pathname !== "/v0.1/servers") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "Not found" }));
      return;
    }
    if (mode === "silent") return; // never answers
    if (mode === "huge") {
      // A JSON page that never ends: bytes until the client goes away or hugeBytes are out.
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.from(`{"name":"${"x".repeat(64 * 1024 - 12)}"},`);
      res.write('{"servers":[');
      const pump = () => {
        while (sent < hugeBytes && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return res.once("drain", pump);
        }
        if (!res.destroyed) res.end("{}]}");
      };
      res.on("close", () => res.removeAllListeners("drain"));
      pump();
      return;
    }
    if (mode === "forever") {
      const body = JSON.stringify({
        servers: entries.slice(0, 1),
        metadata: { nextCursor: randomBytes(8).toString("hex"), count: Math.min(1, entries.length) },
      });
      sent += body.length;
      res.writeHead(200, { "content-type": "application/json" }).end(body);
      return;
    }
    const search = url.searchParams.get("search")?.toLowerCase();
    const matching = entries.filter((e) => !search || e.server.name.toLowerCase().includes(search));
    const limit = Math.min(100, Number(url.searchParams.get("limit") ?? 30));
    const start = Number(url.searchParams.get("cursor") ?? 0);
    const page = matching.slice(start, start + limit);
    const more = start + limit < matching.length;
    const body = JSON.stringify({
      servers: page,
      metadata: { ...(more ? { nextCursor: String(start + limit) } : {}), count: page.length },
    });
    sent += body.length;
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  server.on("connection", (socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    bytesSent: () => sent,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
