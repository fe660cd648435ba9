import type { EventBus } from "../../lib/bus";

/**
 * Answers the gateway gives itself on a 2024-11-05 SSE session. That transport answers a POSTed
 * request on the session's SSE stream, never in the POST's own response (a client reads only the
 * stream), and the stream may be served by another instance than the POST: so such an answer goes
 * over the bus, and the instance serving the stream — if any still does — writes it in.
 *
 * A stream is named by its server and the message URL its `endpoint` event gave, which both sides
 * know without remembering anything: the POST carries that URL, the stream announced it.
 */
export function createSseAnswers(bus: EventBus) {
  const streams = new Map<string, (message: unknown) => void>();
  const unsubscribe = bus.subscribe((e) => {
    if (e.type === "gateway.sse_answer") streams.get(e.stream)?.(e.message);
  });
  return {
    /** Sends `message` to the stream `stream` names, on whichever instance serves it. */
    send: (tenantId: string, stream: string, message: unknown) =>
      bus.publish({ type: "gateway.sse_answer", tenantId, stream, message }),
    /** While this instance serves `stream`: answers sent to it are written with `write`. */
    serve(stream: string, write: (message: unknown) => void): () => void {
      streams.set(stream, write);
      return () => {
        if (streams.get(stream) === write) streams.delete(stream);
      };
    },
    close: unsubscribe,
  };
}

export type SseAnswers = ReturnType<typeof createSseAnswers>;

/** The name of a 2024-11-05 SSE session's stream: its server and its resolved message URL. */
export const sseStreamName = (serverId: string, messageUrl: URL) => `${serverId} ${messageUrl.href}`;
