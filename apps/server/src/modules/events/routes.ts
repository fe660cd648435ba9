import type { SocketMessage } from "@switchboard/shared";
import type { FastifyPluginAsync } from "fastify";
import type { EventBus } from "./bus";

/** Close codes for a socket whose session no longer holds: 4000 + the HTTP status it would get. */
const CLOSE = { UNAUTHORIZED: 4401, FORBIDDEN: 4403 } as const;

/**
 * `GET /mcp/events`: a WebSocket that streams the active organization's events. The session is
 * checked by the `/mcp` authenticate hook before the upgrade, so a refused socket gets a 401/403;
 * it is checked again at every heartbeat, and the socket closes once the user has signed out, lost
 * the organization, or made another one active.
 */
export const eventRoutes: FastifyPluginAsync<{ events: EventBus; heartbeatSeconds: number }> = async (
  app,
  { events, heartbeatSeconds },
) => {
  app.get("/events", { websocket: true, schema: { hide: true } }, (socket, request) => {
    const tenantId = request.principal?.tenantId;
    if (!tenantId) return socket.close(1008, "no organization");
    const send = (message: SocketMessage) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    };
    const unsubscribe = events.subscribe((eventTenant, event) => {
      if (eventTenant === tenantId) send(event);
    });
    const recheck = async () => {
      const check = await app.resolveSession(request.headers);
      if ("refused" in check) socket.close(CLOSE[check.refused], check.detail.slice(0, 120));
      else if (check.principal.tenantId !== tenantId)
        socket.close(CLOSE.FORBIDDEN, "Another organization is active: open a new socket");
      else send({ type: "heartbeat", at: new Date().toISOString() });
    };
    const heartbeat = setInterval(
      () =>
        recheck().catch((err: unknown) => {
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
  });
};
