import { z } from "zod";
import { CheckStatus } from "./health";
import { HealthStatus, Server } from "./servers";

/** Events pushed over the `/mcp/events` WebSocket, each scoped to one organization. */
export const ServerEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("server.created"), server: Server }),
  z.object({ type: z.literal("server.updated"), server: Server }),
  z.object({ type: z.literal("server.deleted"), serverId: z.uuid() }),
  z.object({
    type: z.literal("health.changed"),
    serverId: z.uuid(),
    status: CheckStatus,
    previousStatus: HealthStatus,
    latencyMs: z.number().int().nullable(),
    error: z.string().nullable(),
    checkedAt: z.iso.datetime(),
  }),
  z.object({
    type: z.literal("tools.drifted"),
    serverId: z.uuid(),
    driftId: z.uuid(),
    detectedAt: z.iso.datetime(),
    /** Names of the tools added, removed and changed; the drift entry has the definitions. */
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
    /** Whether the server is pinned, so that the difference is refused by the gateway. */
    pinned: z.boolean(),
  }),
]);
export type ServerEvent = z.infer<typeof ServerEvent>;

export const ControlMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("hello"), tenantId: z.string(), heartbeatSeconds: z.number().int() }),
  z.object({ type: z.literal("heartbeat"), at: z.iso.datetime() }),
  /** The user's session or membership changed (a new role, say): read the session again. */
  z.object({ type: z.literal("session.changed") }),
]);

/** Everything the socket sends. */
export const SocketMessage = z.union([ServerEvent, ControlMessage]);
export type SocketMessage = z.infer<typeof SocketMessage>;
