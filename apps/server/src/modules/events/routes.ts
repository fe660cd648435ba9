import { ServerEvent, type SocketMessage } from "@switchboard/shared";
import type { FastifyPluginAsync, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import type { EventBus, InternalEvent } from "../../lib/bus";
import type { Metrics } from "../../lib/metrics";
import type { ResolveSession } from "../../lib/principal";
import { sendProblem } from "../../plugins/problem";
import { sessionTokenOf } from "../auth/session-cache";

/** Close codes for a socket whose session no longer holds: 4000 + the HTTP status it would get. */
const CLOSE = { UNAUTHORIZED: 4401, FORBIDDEN: 4403, TOO_MANY: 4429 } as const;

/**
 * A public event as sent on the wire: parsed by the shared schema (so that no field the contract
 * does not name leaves, whatever was published) and serialized once, for every socket it reaches.
 */
const wire = new WeakMap<InternalEvent, string>();
function publicJson(e: InternalEvent & { type: "public" }): string {
  let json = wire.get(e);
  if (json === undefined) {
    json = JSON.stringify(ServerEvent.parse(e.event));
    wire.set(e, json);
  }
  return json;
}

/**
 * `GET /mcp/events`: a WebSocket that streams the active organization's events. The session is
 * checked by the `/mcp` authenticate hook before the upgrade, so a refused socket gets a 401/403;
 * it is checked again at every heartbeat, and the socket closes once the user has signed out, lost
 * the organization, or made another one active. One user holds at most `maxSocketsPerUser` sockets
 * on an instance: past that the upgrade is a 429 (or, when sockets race for the last place, the
 * socket closes at once with 4429).
 */
export const eventRoutes: FastifyPluginAsync<{
  bus: EventBus;
  resolveSession: ResolveSession;
  heartbeatSeconds: number;
  maxSocketsPerUser: number;
  metrics: Metrics;
}> = async (app, { bus, resolveSession, heartbeatSeconds, maxSocketsPerUser, metrics }) => {
  const open = new Map<string, number>();
  const holderOf = (request: FastifyRequest) => {
    const actor = request.principal?.actor;
    return actor?.type === "user" ? actor.userId : null;
  };
  const tooMany = `At most ${maxSocketsPerUser} event sockets per user: close one first`;
  const refuseTooMany: preHandlerAsyncHookHandler = async (request, reply) => {
    const holder = holderOf(request);
    if (holder && (open.get(holder) ?? 0) >= maxSocketsPerUser) {
      metrics.rateLimited("events_sockets");
      return sendProblem(request, reply, "RATE_LIMITED", tooMany);
    }
  };

  app.get(
    "/events",
    { websocket: true, schema: { hide: true }, preHandler: refuseTooMany },
    (socket, request) => {
      const tenantId = request.principal?.tenantId;
      if (!tenantId) return socket.close(1008, "no organization");
      const holder = holderOf(request);
      if (holder) {
        const held = open.get(holder) ?? 0;
        if (held >= maxSocketsPerUser) {
          metrics.rateLimited("events_sockets");
          return socket.close(CLOSE.TOO_MANY, tooMany.slice(0, 120));
        }
        open.set(holder, held + 1);
        socket.on("close", () => {
          const left = (open.get(holder) ?? 1) - 1;
          if (left > 0) open.set(holder, left);
          else open.delete(holder);
        });
      }
      metrics.websocketClients(1);
      socket.on("close", () => metrics.websocketClients(-1));
      const sendText = (text: string) => {
        if (socket.readyState === socket.OPEN) socket.send(text);
      };
      const send = (message: SocketMessage) => sendText(JSON.stringify(message));
      const token = sessionTokenOf(request.headers.cookie);
      // Only the organization's own public events; everything else on the bus stays inside. A
      // change to this session, its user or its organization is checked at once, not at the next
      // heartbeat: a removed member's socket closes, a promoted one reads its session again.
      const unsubscribe = bus.subscribe((e) => {
        if (e.type === "public" && e.tenantId === tenantId) sendText(publicJson(e));
        else if (
          e.type === "sessions.changed" &&
          ((e.userId && e.userId === holder) ||
            (e.tenantId && e.tenantId === tenantId) ||
            (e.token && e.token === token))
        ) {
          void recheck({ type: "session.changed" }).catch(() => {});
        }
      });
      const recheck = async (ok: SocketMessage) => {
        const check = await resolveSession(request.headers);
        if ("refused" in check) socket.close(CLOSE[check.refused], check.detail.slice(0, 120));
        else if (check.principal.tenantId !== tenantId)
          socket.close(CLOSE.FORBIDDEN, "Another organization is active: open a new socket");
        else send(ok);
      };
      const heartbeat = setInterval(
        () =>
          recheck({ type: "heartbeat", at: new Date().toISOString() }).catch((err: unknown) => {
            // The session store may be briefly away: keep the socket, and try again next time.
            request.log.warn({ err }, "could not re-check the events socket's session");
          }),
        heartbeatSeconds * 1000,
      );
      socket.on("close", () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
      // The client only listens; anything it sends is ignored.
      send({ type: "hello", tenantId, heartbeatSeconds });
    },
  );
};
