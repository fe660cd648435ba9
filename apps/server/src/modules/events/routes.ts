import type { SocketMessage } from "@switchboard/shared";
import type { FastifyPluginAsync } from "fastify";
import type { EventBus } from "./bus";

/**
 * `GET /mcp/events`: a WebSocket that streams the active organization's events. The session is
 * checked by the `/mcp` authenticate hook before the upgrade, so a refused socket gets a 401/403.
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
    const heartbeat = setInterval(
      () => send({ type: "heartbeat", at: new Date().toISOString() }),
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
