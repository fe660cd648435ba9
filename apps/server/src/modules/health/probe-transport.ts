import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type JSONRPCMessage, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { createParser } from "eventsource-parser";
import type { Dispatcher } from "undici";

/** An answer outside 2xx; `code` is the HTTP status, which `classify` turns into a reason. */
export class HttpStatusError extends Error {
  override name = "HttpStatusError";
  constructor(readonly code: number) {
    super(`HTTP ${code}`);
  }
}

const MAX_REDIRECTS = 5;

export interface ProbeTransportOptions {
  dispatcher: Dispatcher;
  /** Upstream headers sent with every request. */
  headers: Record<string, string>;
  /** Aborts every request when the probe's deadline passes. */
  signal: AbortSignal;
  /** Called with each chunk's size before it is read; throws to stop a response that is too large. */
  countBytes: (bytes: number) => void;
}

/**
 * The client side of MCP's streamable HTTP transport, cut down to what a probe needs: POSTs
 * answered with JSON or an SSE stream, and a DELETE that ends the session. It sends through an
 * undici dispatcher directly, since fetch's Request, Response and web streams cost a sweep more
 * CPU than everything else in a probe. It opens no standing GET stream (a probe never waits for
 * messages the server starts). Like the SDK's transport, it follows a 307 or 308 only within the
 * server's origin; any other redirect is an answer like any other.
 */
export class ProbeTransport implements Transport {
  onmessage?: Transport["onmessage"];
  onerror?: Transport["onerror"];
  onclose?: Transport["onclose"];
  sessionId?: string;
  protocolVersion?: string;
  private readonly origin: string;
  private path: string;
  private readonly headers: Record<string, string>;

  constructor(
    url: URL,
    private readonly opts: ProbeTransportOptions,
  ) {
    this.origin = url.origin;
    this.path = url.pathname + url.search;
    // Header names are case-insensitive: lower-cased, the transport's own headers replace any
    // stored header of the same name instead of being sent twice.
    this.headers = Object.fromEntries(Object.entries(opts.headers).map(([k, v]) => [k.toLowerCase(), v]));
  }

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const res = await this.request("POST", JSON.stringify(message), {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    });
    const sessionId = res.headers["mcp-session-id"];
    if (typeof sessionId === "string") this.sessionId = sessionId;
    if (res.statusCode < 200 || res.statusCode > 299) {
      await discard(res.body);
      throw new HttpStatusError(res.statusCode);
    }
    if (!("method" in message && "id" in message)) {
      // A notification or a response: the server acknowledges it, usually with 202 and no body.
      await discard(res.body);
      return;
    }
    const type = String(res.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim()
      .toLowerCase();
    if (type === "application/json") {
      const parsed: unknown = JSON.parse(await this.text(res.body));
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) this.deliver(m);
    } else if (type === "text/event-stream") {
      await this.readEvents(res.body);
    } else {
      await discard(res.body);
      throw new Error(`unexpected content type ${type || "(none)"}`);
    }
  }

  /** Ends the session on the server (a server that does not support it answers 405). */
  async terminateSession(): Promise<void> {
    if (!this.sessionId) return;
    const res = await this.request("DELETE", undefined, {});
    await discard(res.body);
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    this.onclose?.();
  }

  private async request(method: "POST" | "DELETE", body: string | undefined, extra: Record<string, string>) {
    const headers: Record<string, string> = { ...this.headers, ...extra };
    if (this.sessionId) headers["mcp-session-id"] = this.sessionId;
    if (this.protocolVersion) headers["mcp-protocol-version"] = this.protocolVersion;
    for (let hops = 0; ; hops++) {
      const res = await this.opts.dispatcher.request({
        origin: this.origin,
        path: this.path,
        method,
        headers,
        body,
        signal: this.opts.signal,
      });
      const moved = hops < MAX_REDIRECTS ? this.sameOriginRedirect(res) : undefined;
      if (moved === undefined) return res;
      await discard(res.body);
      // Later requests go straight to where the server moved.
      this.path = moved;
    }
  }

  /** The path a 307 or 308 points to when it stays within the origin and adds no credentials. */
  private sameOriginRedirect(res: Dispatcher.ResponseData): string | undefined {
    const location = res.headers.location;
    if ((res.statusCode !== 307 && res.statusCode !== 308) || typeof location !== "string") return undefined;
    try {
      const target = new URL(location, this.origin + this.path);
      if (target.origin !== this.origin || target.username || target.password) return undefined;
      return target.pathname + target.search;
    } catch {
      return undefined;
    }
  }

  private deliver(raw: unknown) {
    this.onmessage?.(JSONRPCMessageSchema.parse(raw));
  }

  private async text(body: Dispatcher.ResponseData["body"]): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) {
      this.opts.countBytes(chunk.byteLength);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  /** Delivers each `message` event until the server ends the stream (it does after its answer). */
  private async readEvents(body: Dispatcher.ResponseData["body"]): Promise<void> {
    let failure: unknown = null;
    const parser = createParser({
      onEvent: (event) => {
        if (failure || (event.event && event.event !== "message") || !event.data) return;
        try {
          this.deliver(JSON.parse(event.data));
        } catch (err) {
          failure = err;
        }
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of body as AsyncIterable<Buffer>) {
      this.opts.countBytes(chunk.byteLength);
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (failure) throw failure;
    }
  }
}

/** Reads what is left of a body the probe has no use for, so that its connection can be reused. */
async function discard(body: Dispatcher.ResponseData["body"]): Promise<void> {
  await body.dump({ limit: 64 * 1024 }).catch(() => {});
}
