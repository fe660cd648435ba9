import { Transform } from "node:stream";
import { createParser, type EventSourceMessage } from "eventsource-parser";

/** How an event of an upstream SSE stream is passed on: its data rewritten, or as it came. */
export interface SseRewrite {
  /** The 2025 SSE transport's `endpoint` event: the URL the client is to POST its messages to. */
  endpoint?: (data: string) => string;
  /** A `message` event's JSON-RPC message (the same object when nothing is to change). */
  message?: (message: unknown) => unknown;
}

const field = (name: string, value: string) =>
  value
    .split(/\r\n|\r|\n/)
    .map((line) => `${name}: ${line}\n`)
    .join("");

function serialize(event: EventSourceMessage, data: string): string {
  return `${event.id !== undefined ? field("id", event.id) : ""}${event.event ? field("event", event.event) : ""}${field("data", data)}\n`;
}

/**
 * Re-writes an SSE stream event by event, as it arrives (never buffering the stream): comments
 * (keep-alives) and `retry` pass through, an event nothing changes is re-sent as it was. `inject`
 * adds a message event of the gateway's own; it lands between whole events, since only whole
 * events ever leave the transform.
 */
export function rewriteSse(rewrite: SseRewrite): Transform & { inject(message: unknown): void } {
  let out: string[] = [];
  const parser = createParser({
    onEvent: (event) => {
      let data = event.data;
      if (event.event === "endpoint" && rewrite.endpoint) {
        data = rewrite.endpoint(data);
      } else if ((!event.event || event.event === "message") && rewrite.message) {
        try {
          const parsed: unknown = JSON.parse(data);
          const next = rewrite.message(parsed);
          if (next !== parsed) data = JSON.stringify(next);
        } catch {
          // Not JSON: the client will judge it, as it would have without the gateway.
        }
      }
      out.push(serialize(event, data));
    },
    onRetry: (ms) => out.push(`retry: ${ms}\n\n`),
    onComment: (comment) => out.push(`:${comment}\n\n`),
  });
  const decoder = new TextDecoder();
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      const text = out.join("");
      out = [];
      done(null, text.length ? Buffer.from(text, "utf8") : undefined);
    },
  });
  return Object.assign(stream, {
    inject(message: unknown) {
      if (!stream.destroyed && !stream.writableEnded)
        stream.push(Buffer.from(serialize({ event: "message", data: "" }, JSON.stringify(message))));
    },
  });
}
