import { type ServerEvent, SocketMessage } from "@switchboard/shared";
import { useEffect, useRef, useState } from "react";

export type LiveStatus = "connecting" | "live" | "polling";

/** How the server closes a socket whose session no longer holds (4000 + the HTTP status). */
const SIGNED_OUT = 4401;
const NOT_ALLOWED_HERE = 4403;

/**
 * Holds the `/mcp/events` WebSocket open while `enabled`, reconnecting with exponential backoff
 * (1 s doubling to 30 s). While it is down the caller polls: the status says which. When the
 * server closes it because the session ended, `onSessionEnded` runs (the session is re-read).
 */
export function useLiveEvents(
  enabled: boolean,
  onEvent: (event: ServerEvent) => void,
  onSessionEnded: () => void,
): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const ended = useRef(onSessionEnded);
  ended.current = onSessionEnded;

  useEffect(() => {
    if (!enabled) return;
    let socket: WebSocket | null = null;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    const connect = () => {
      const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/mcp/events`;
      socket = new WebSocket(url);
      socket.onopen = () => {
        attempt = 0;
        setStatus("live");
      };
      socket.onmessage = (e) => {
        const parsed = SocketMessage.safeParse(JSON.parse(String(e.data)));
        if (!parsed.success) return;
        const message = parsed.data;
        // A new role or a removal: the session is read again, as when the socket is refused.
        if (message.type === "session.changed") ended.current();
        else if (message.type !== "hello" && message.type !== "heartbeat") handler.current(message);
      };
      socket.onclose = (e) => {
        if (stopped) return;
        if (e.code === SIGNED_OUT || e.code === NOT_ALLOWED_HERE) ended.current();
        // Signed out, there is nothing to reconnect to: the re-read session leads to sign-in.
        if (e.code === SIGNED_OUT) return;
        setStatus("polling");
        const delay = Math.min(30_000, 1000 * 2 ** attempt++);
        timer = setTimeout(connect, delay);
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket?.close();
    };
  }, [enabled]);

  return status;
}
