import { LRUCache } from "lru-cache";
import type { Db } from "../../db/client";
import type { EventBus, InternalEvent } from "../../lib/bus";
import type { KeyRefusal, VerifiedKey, VerifyKey } from "../../lib/principal";
import { toolHash } from "../health/tools";
import { findGatewayServer, type GatewayServerRow } from "./repo";

/** A server the gateway may forward to, as resolved for one request. */
export interface GatewayServer {
  id: string;
  tenantId: string;
  name: string;
  url: string;
  transport: "streamable-http" | "sse";
  /** Stored upstream headers, sealed: opened only for the request that sends them. */
  headers: GatewayServerRow["headers"];
  enabled: boolean;
  /** A required header has no value yet: the gateway does not forward until an admin sets it. */
  needsConfiguration: boolean;
  /**
   * For a pinned server: each approved tool's name and definition hash, kept only while the tool
   * the last check saw still has that hash. Null when the server is not pinned.
   */
  pinned: Map<string, string> | null;
  /** The names of the tools the last check listed (metrics name only these). */
  toolNames: ReadonlySet<string>;
}

export type Refusal =
  | { status: 401; reason: KeyRefusal | "missing" }
  | { status: 403; reason: "other_server" }
  | { status: 404; reason: "not_found" };

export type Resolved = { ok: true; server: GatewayServer; key: VerifiedKey } | ({ ok: false } & Refusal);

function toGatewayServer(row: GatewayServerRow): GatewayServer {
  let pinned: Map<string, string> | null = null;
  if (row.pinnedTools) {
    const seen = new Map(row.tools.map((t) => [t.name, toolHash(t)]));
    pinned = new Map(row.pinnedTools.filter((p) => seen.get(p.name) === p.hash).map((p) => [p.name, p.hash]));
  }
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    url: row.url,
    transport: row.transport,
    headers: row.headers,
    enabled: row.enabled,
    needsConfiguration: row.needsConfiguration,
    pinned,
    toolNames: new Set(row.tools.map((t) => t.name)),
  };
}

/**
 * Who a gateway request is for: the key (verified, cached by the key verifier) and the server it
 * names (cached here for `cacheMs`, and forgotten at once when a change to it is heard on the bus).
 * A bad key is a 401 whatever the path says, so that no answer tells another tenant's names apart;
 * a valid key reaching for a server of its own organization that it was not issued for is a 403.
 */
export function createGatewayResolver({
  db,
  bus,
  verifyKey,
  cacheMs,
  max = 10_000,
}: {
  db: Db;
  bus: EventBus;
  verifyKey: VerifyKey;
  cacheMs: number;
  max?: number;
}) {
  const servers = new LRUCache<string, { server: GatewayServer | null }>({ max, ttl: Math.max(cacheMs, 1) });
  let generation = 0;
  const forget = (match: (s: GatewayServer) => boolean) => {
    generation++;
    for (const [k, v] of servers.entries()) if (!v.server || match(v.server)) servers.delete(k);
  };
  const unsubscribe = bus.subscribe((e: InternalEvent) => {
    // A renamed organization's old slug must stop opening its servers at once.
    if (e.type === "tenant.deleted" || e.type === "tenant.updated") forget((s) => s.tenantId === e.tenantId);
    else if (e.type === "public") {
      const event = e.event;
      if (event.type === "server.updated") forget((s) => s.id === event.server.id);
      else if (event.type === "server.deleted") forget((s) => s.id === event.serverId);
      // A new server may take a name that was not found before.
      else if (event.type === "server.created") forget(() => false);
      // A check that saw the tools change moves what a pinned server still serves.
      else if (event.type === "tools.drifted") forget((s) => s.id === event.serverId);
    }
  });

  async function server(slug: string, name: string): Promise<GatewayServer | null> {
    const cacheKey = `${slug}\u0000${name}`;
    const hit = cacheMs > 0 ? servers.get(cacheKey) : undefined;
    if (hit) return hit.server;
    const seen = generation;
    const row = await findGatewayServer(db, slug, name);
    const found = row ? toGatewayServer(row) : null;
    if (cacheMs > 0 && seen === generation) servers.set(cacheKey, { server: found });
    return found;
  }

  return {
    async resolve(slug: string, name: string, token: string | undefined): Promise<Resolved> {
      if (!token) return { ok: false, status: 401, reason: "missing" };
      const verdict = await verifyKey(token);
      if (!verdict.ok) return { ok: false, status: 401, reason: verdict.reason };
      const found = await server(slug, name);
      if (!found || found.tenantId !== verdict.key.tenantId)
        return { ok: false, status: 404, reason: "not_found" };
      if (found.id !== verdict.key.serverId) return { ok: false, status: 403, reason: "other_server" };
      return { ok: true, server: found, key: verdict.key };
    },
    close: unsubscribe,
  };
}

export type GatewayResolver = ReturnType<typeof createGatewayResolver>;
