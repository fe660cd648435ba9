import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type JSONRPCMessage, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { discard, type HttpChannel } from "./probe-http";

/**
 * The client side of 2025's streamable HTTP transport, cut down to what a probe needs, for the
 * SDK's `Client`: POSTs answered with JSON or an SSE stream, and a DELETE that ends the session.
 * It sends through the probe's HttpChannel (undici's dispatcher directly: fetch's Request,
 * Response and web streams cost a sweep more CPU than everything else in a probe), and opens no
 * standing GET stream (a probe never waits for messages the server starts).
 */
export class ProbeTransport implements Transport {
  onmessage?: Transport["onmessage"];
  onerror?: Transport["onerror"];
  onclose?: Transport["onclose"];
  sessionId?: string;
  protocolVersion?: string;

  constructor(private readonly channel: HttpChannel) {}

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const extra: Record<string, string> = {};
    if (this.sessionId) extra["mcp-session-id"] = this.sessionId;
    if (this.protocolVersion) extra["mcp-protocol-version"] = this.protocolVersion;
    const res = await this.channel.post(message, extra);
    const sessionId = res.headers["mcp-session-id"];
    if (typeof sessionId === "string") this.sessionId = sessionId;
    if (!("method" in message && "id" in message)) {
      // A notification or a response: the server acknowledges it, usually with 202 and no body.
      await discard(res);
      return;
    }
    await this.channel.messages(res, (m) => {
      this.onmessage?.(JSONRPCMessageSchema.parse(m));
      return undefined;
    });
  }

  /** Ends the session on the server (a server that does not support it answers 405). */
  async terminateSession(): Promise<void> {
    if (!this.sessionId) return;
    const extra: Record<string, string> = { "mcp-session-id": this.sessionId };
    if (this.protocolVersion) extra["mcp-protocol-version"] = this.protocolVersion;
    const res = await this.channel.request("DELETE", undefined, extra);
    await discard(res);
    this.sessionId = undefined;
  }

  async close(): Promise<void> {
    this.onclose?.();
  }
}
