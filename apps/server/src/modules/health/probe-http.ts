import { createParser } from "eventsource-parser";
import type { Dispatcher } from "undici";
import { traceHeaders } from "../../lib/tracing";

/** An answer outside 2xx; `code` is the HTTP status, `body` the start of what the server said. */
export class HttpStatusError extends Error {
  override name = "HttpStatusError";
  constructor(
    readonly code: number,
    readonly body: unknown,
    readonly wwwAuthenticate: string | null,
  ) {
    super(`HTTP ${code}`);
  }
}

const MAX_REDIRECTS = 5;
/** The most of an error answer read to tell what it means (a JSON-RPC error, an auth challenge). */
const ERROR_BODY_BYTES = 16 * 1024;

export interface ProbeIo {
  dispatcher: Dispatcher;
  /** Aborts every request when the probe's deadline passes. */
  signal: AbortSignal;
  /** Called with each chunk's size before it is read; throws to stop a response that is too large. */
  countBytes: (bytes: number) => void;
}

export type Response = Dispatcher.ResponseData;

const header = (res: Response, name: string): string | null => {
  const v = res.headers[name];
  return typeof v === "string" ? v : Array.isArray(v) ? (v[0] ?? null) : null;
};

/**
 * Where a probe follows a redirect to, or null when it must not: only within the origin of the
 * address that answered, with no credentials in the new address (a hop elsewhere would take the
 * server's stored headers to an address nobody registered or checked), and only when the request
 * stays what it was: a 307 or 308 keeps any method and body; a GET or HEAD also follows 301, 302
 * and 303 (which turn any other request into a GET).
 */
export function redirectWithinOrigin(
  status: number,
  location: string | null,
  from: string,
  method: string,
): URL | null {
  const bodiless = method === "GET" || method === "HEAD";
  const keepsRequest = status === 307 || status === 308 || (bodiless && [301, 302, 303].includes(status));
  if (!keepsRequest || !location) return null;
  try {
    const next = new URL(location, from);
    return next.origin === new URL(from).origin && !next.username && !next.password ? next : null;
  } catch {
    return null;
  }
}

/**
 * One MCP endpoint over HTTP, the way a probe talks to it: requests through the guarded
 * dispatcher, bounded in time and bytes, following redirects only as `redirectWithinOrigin`
 * allows (any other redirect is an answer like any other).
 */
export class HttpChannel {
  readonly origin: string;
  private path: string;
  /** Stored headers, lower-cased so that the probe's own headers replace them rather than repeat them. */
  private readonly headers: Record<string, string>;

  constructor(
    url: URL,
    headers: Record<string, string>,
    readonly io: ProbeIo,
  ) {
    this.origin = url.origin;
    this.path = url.pathname + url.search;
    this.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  }

  get url(): string {
    return this.origin + this.path;
  }

  async request(
    method: "GET" | "POST" | "DELETE",
    body: string | undefined,
    extra: Record<string, string>,
  ): Promise<Response> {
    // With tracing on, the probe's span is the server's parent (traceparent, tracestate).
    const headers: Record<string, string> = { ...this.headers, ...extra, ...traceHeaders() };
    for (let hops = 0; ; hops++) {
      const res = await this.io.dispatcher.request({
        origin: this.origin,
        path: this.path,
        method,
        headers,
        body,
        signal: this.io.signal,
      });
      const location = header(res, "location");
      const moved =
        hops < MAX_REDIRECTS ? redirectWithinOrigin(res.statusCode, location, this.url, method) : null;
      if (!moved) return res;
      await discard(res);
      // Later requests go straight to where the server moved.
      this.path = moved.pathname + moved.search;
    }
  }

  /** Sends one JSON-RPC message by POST; throws HttpStatusError for an answer outside 2xx. */
  async post(message: unknown, extra: Record<string, string> = {}): Promise<Response> {
    const res = await this.request("POST", JSON.stringify(message), {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...extra,
    });
    if (res.statusCode < 200 || res.statusCode > 299) {
      const text = await this.text(res, ERROR_BODY_BYTES).catch(() => "");
      throw new HttpStatusError(res.statusCode, parseJson(text), header(res, "www-authenticate"));
    }
    return res;
  }

  /**
   * The JSON-RPC messages of an answer, in order: one JSON body (or batch), or each `message`
   * event of an SSE stream until the server ends it. `onMessage` returning true stops reading.
   */
  async messages(res: Response, onMessage: (message: unknown) => boolean | undefined): Promise<void> {
    const type = (header(res, "content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type === "application/json") {
      const parsed: unknown = JSON.parse(await this.text(res));
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) if (onMessage(m)) break;
      return;
    }
    if (type !== "text/event-stream") {
      await discard(res);
      throw new Error(`unexpected content type ${type || "(none)"}`);
    }
    let failure: unknown = null;
    let done = false;
    const parser = createParser({
      onEvent: (event) => {
        if (done || failure || (event.event && event.event !== "message") || !event.data) return;
        try {
          done = onMessage(JSON.parse(event.data)) === true;
        } catch (err) {
          failure = err;
        }
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      this.io.countBytes(chunk.byteLength);
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (failure) throw failure;
      if (done) break;
    }
    if (done) res.body.destroy();
  }

  /** The body as text, counted against the probe's budget (and cut at `limit` bytes when given). */
  async text(res: Response, limit = Number.POSITIVE_INFINITY): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      this.io.countBytes(chunk.byteLength);
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size >= limit) {
        res.body.destroy();
        break;
      }
    }
    return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
  }
}

/** One fetch that does not follow redirects (`redirect: "manual"`); the caller decides about each hop. */
export type FetchOnce = (url: string, init: RequestInit) => Promise<globalThis.Response>;

/**
 * Fetches `url`, following at most MAX_REDIRECTS redirects itself, as HttpChannel does and by the
 * same rule (`redirectWithinOrigin`). Each hop is a new request through `fetchOnce` (so through
 * the guarded dispatcher, whose connect check sees every connection it opens). A redirect that is
 * not followed is the answer, given to `onUnfollowed` first.
 */
export async function fetchWithinOrigin(
  fetchOnce: FetchOnce,
  url: string,
  init: RequestInit,
  onUnfollowed?: (status: number, location: string | null) => void,
): Promise<globalThis.Response> {
  const method = (init.method ?? "GET").toUpperCase();
  let current = url;
  for (let hops = 0; ; hops++) {
    const res = await fetchOnce(current, { ...init, redirect: "manual" });
    if (res.status < 300 || res.status > 399) return res;
    const location = res.headers.get("location");
    const next = hops < MAX_REDIRECTS ? redirectWithinOrigin(res.status, location, current, method) : null;
    if (!next) {
      onUnfollowed?.(res.status, location);
      return res;
    }
    await res.body?.cancel().catch(() => {});
    current = next.href;
  }
}

export function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Reads what is left of a body the probe has no use for, so that its connection can be reused. */
export async function discard(res: Response): Promise<void> {
  await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
}
