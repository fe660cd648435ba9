import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { JsonSchemaValidator, jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { LRUCache } from "lru-cache";
import { type Dispatcher, fetch as undiciFetch } from "undici";
import type {
  AuthChallenge,
  PromptSummary,
  ProtocolEra,
  ResourceSummary,
  ServerInfo,
  ToolDefinition,
} from "../../db/schema";
import { traceHeaders } from "../../lib/tracing";
import { TargetRefused } from "../upstream/ssrf";
import type { UpstreamTarget } from "../upstream/target";
import { bearerChallenge, discoverAuth, hasCredentials } from "./probe-auth";
import { fetchWithinOrigin, HttpChannel, HttpStatusError, type ProbeIo } from "./probe-http";
import {
  CLIENT_INFO,
  type ModernOutcome,
  ModernRequestRefused,
  probeModern,
  rpcError,
  UNSUPPORTED_VERSION,
} from "./probe-modern";
import { ProbeTransport } from "./probe-transport";
import {
  type ListPage,
  listAll,
  mapListed,
  type ToolSetHashes,
  toPromptSummary,
  toResourceSummary,
  toToolDefinition,
} from "./tools";

export type ProbeStatus = "healthy" | "degraded" | "unhealthy" | "auth_required";

/** What a probe reaches: the server's URL and transport, with its headers opened for this probe. */
export type ProbeTarget = UpstreamTarget;

export interface ProbeResult {
  status: ProbeStatus;
  latencyMs: number;
  /**
   * A short reason: `timeout`, `connection_refused`, `dns`, `tls`, `http_<status>`,
   * `protocol_error`, `auth_rejected`, `unsupported_protocol_version`, `slow`, …
   */
  error: string | null;
  serverInfo: ServerInfo | null;
  tools: ToolDefinition[];
  prompts: PromptSummary[];
  resources: ResourceSummary[];
  /**
   * True when a step after connecting failed (listing tools, prompts or resources, or the ping):
   * `tools`, `prompts` and `resources` are then not what the server offers, and a recorded check
   * keeps the ones stored rather than take these for a change.
   */
  incomplete?: boolean;
  /** For `auth_required`: what the server says of its OAuth set-up. */
  authChallenge: AuthChallenge | null;
  /**
   * The tools' hashes, set by a probe that ran in another thread: hashing a tool set is the most
   * CPU a check's result costs, and that thread has it to spare, unlike the one that serves the API.
   */
  hashes?: ToolSetHashes;
  /**
   * When the answer came (epoch ms), set by a probe that ran in another thread: its answer may
   * then wait for a busy event loop, and the check is dated by this, not by that wait.
   */
  answeredAt?: number;
}

export interface ProbeOptions {
  timeoutMs: number;
  /** A probe that succeeds but takes longer than this is `degraded`. */
  degradedMs: number;
  /** Bytes a probe may read from the server in all. */
  maxBodyBytes: number;
  /** The SSRF-guarded dispatcher every connection goes through (see modules/upstream). */
  dispatcher: Dispatcher;
  /** Endpoints whose era is remembered (the spec's per-origin cache, per endpoint here). */
  eraCacheSize?: number;
}

/** What the health module calls; tests and the scheduler can substitute their own. */
export type Prober = (target: ProbeTarget) => Promise<ProbeResult>;

const CLOSE_GRACE_MS = 1000;

/**
 * The SDK builds an Ajv validator per client to check tool call results against the tools' output
 * schemas; a probe lists tools but never calls one, so it skips that cost.
 */
const NO_TOOL_CALLS: jsonSchemaValidator = {
  getValidator<T>(): JsonSchemaValidator<T> {
    return (input) => ({ valid: true, data: input as T, errorMessage: undefined });
  },
};

class ProbeTimeout extends Error {
  override name = "ProbeTimeout";
}
class ResponseTooLarge extends Error {
  override name = "ResponseTooLarge";
}
class UnsupportedProtocolVersion extends Error {
  override name = "UnsupportedProtocolVersion";
}
/** The server refused the probe with a 401 or 403: for want of (valid) credentials, perhaps. */
class AuthRefused extends Error {
  override name = "AuthRefused";
  constructor(
    readonly status: number,
    readonly wwwAuthenticate: string | null,
  ) {
    super(`HTTP ${status}`);
  }
}
/**
 * One era's first step was answered the way a server of the other era (or of neither) answers
 * it; `refusal` is what it was told (null for an answer that was simply not a modern one).
 */
class WrongEra extends Error {
  override name = "WrongEra";
  constructor(readonly refusal: unknown) {
    super("not this protocol era");
  }
}

/** What a probe that reached the server found, whatever the era. */
interface Found {
  era: ProtocolEra;
  protocolVersion: string | null;
  name: string | null;
  version: string | null;
  capabilities: Record<string, unknown>;
  tools: ToolDefinition[];
  prompts: PromptSummary[];
  resources: ResourceSummary[];
  /** A step after connecting failed: the server is up, but not all there. */
  stepError: unknown;
  /** When the last answer came (performance.now()), before the session was ended. */
  answeredAt: number;
}

/** Creates a prober that speaks MCP of either era over the target's transport, bounded in time and bytes. */
export function createProber(opts: ProbeOptions): Prober {
  const eras = new LRUCache<string, ProtocolEra>({ max: opts.eraCacheSize ?? 100_000 });
  return (target) => probe(target, opts, eras);
}

async function probe(
  target: ProbeTarget,
  opts: ProbeOptions,
  eras: LRUCache<string, ProtocolEra>,
): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new ProbeTimeout("probe timed out")), opts.timeoutMs);
  const timedOut = new Promise<never>((_, reject) =>
    deadline.signal.addEventListener("abort", () => reject(deadline.signal.reason), { once: true }),
  );
  timedOut.catch(() => {});
  const bounded = <T>(p: Promise<T>) => Promise.race([p, timedOut]);
  let budget = opts.maxBodyBytes;
  const io: ProbeIo = {
    dispatcher: opts.dispatcher,
    signal: deadline.signal,
    countBytes: (bytes) => {
      budget -= bytes;
      if (budget < 0) throw new ResponseTooLarge("response too large");
    },
  };
  const remaining = () => Math.max(1, opts.timeoutMs - elapsed()) + 1000;
  const failed = (error: string, extra: Partial<ProbeResult> = {}): ProbeResult => ({
    status: "unhealthy",
    latencyMs: elapsed(),
    error,
    serverInfo: null,
    tools: [],
    prompts: [],
    resources: [],
    authChallenge: null,
    ...extra,
  });

  try {
    const found = await bounded(
      target.transport === "sse"
        ? legacy(sseTransport(target, io), io.signal, remaining)
        : streamable(target, io, eras, remaining),
    );
    const latencyMs = Math.round(found.answeredAt - started);
    const stepError = found.stepError ? classify(found.stepError, io.signal) : null;
    const slow = latencyMs > opts.degradedMs;
    return {
      status: stepError || slow ? "degraded" : "healthy",
      latencyMs,
      error: stepError ?? (slow ? "slow" : null),
      serverInfo: {
        name: found.name,
        version: found.version,
        protocolVersion: found.protocolVersion,
        era: found.era,
        capabilities: found.capabilities,
      },
      tools: found.tools,
      prompts: found.prompts,
      resources: found.resources,
      incomplete: Boolean(found.stepError),
      authChallenge: null,
    };
  } catch (err) {
    const refusal = authRefusal(err);
    if (!refusal || deadline.signal.aborted) return failed(classify(err, io.signal));
    // Credentials were sent and refused: the server is up, but Switchboard cannot use it.
    if (hasCredentials(target.headers)) return failed("auth_rejected");
    // None were sent: protected by OAuth if it says so (a Bearer challenge, or RFC 9728 metadata at
    // its well-known address); a refusal with no such sign is a failure like any other status.
    const challenge = await bounded(discoverAuth(new URL(target.url), refusal.wwwAuthenticate, io)).catch(
      () => bearerChallenge(refusal.wwwAuthenticate),
    );
    if (!challenge) return failed(`http_${refusal.status}`);
    return { ...failed("auth_required"), status: "auth_required", error: null, authChallenge: challenge };
  } finally {
    clearTimeout(timer);
  }
}

/** A 401 or 403, however it came (a POST's status, or the SSE transport's own error). */
function authRefusal(err: unknown): AuthRefused | null {
  if (err instanceof AuthRefused) return err;
  if (err instanceof HttpStatusError && (err.code === 401 || err.code === 403)) {
    return new AuthRefused(err.code, err.wwwAuthenticate);
  }
  return null;
}

/**
 * Streamable HTTP in either era: `server/discover` first (2026-07-28), `initialize` for a server
 * that is not modern (2025). The era found is remembered, so a 2025 server costs the extra round
 * trip once. A remembered era is only a hint: when its first step is answered as a server of the
 * other era answers it, it is forgotten and the other era tried in the same probe (each era at
 * most once per probe).
 */
async function streamable(
  target: ProbeTarget,
  io: ProbeIo,
  eras: LRUCache<string, ProtocolEra>,
  remaining: () => number,
): Promise<Found> {
  const channel = new HttpChannel(new URL(target.url), target.headers, io);
  const attempt: Record<ProtocolEra, () => Promise<Found>> = {
    modern: () => viaDiscover(channel),
    legacy: () => viaInitialize(channel, io.signal, remaining),
  };
  const remembered = eras.get(target.url);
  const order: ProtocolEra[] = remembered === "legacy" ? ["legacy", "modern"] : ["modern", "legacy"];
  const refusals: unknown[] = [];
  for (const era of order) {
    try {
      const found = await attempt[era]();
      eras.set(target.url, era);
      return found;
    } catch (err) {
      if (!(err instanceof WrongEra)) throw err;
      if (era === remembered) eras.delete(target.url);
      refusals.push(err.refusal);
    }
  }
  throw neitherEra(refusals);
}

/** The 2026-07-28 way in: `server/discover`. */
async function viaDiscover(channel: HttpChannel): Promise<Found> {
  let outcome: ModernOutcome;
  try {
    outcome = await probeModern(channel);
  } catch (err) {
    // A 2025 server may fail on a method it does not know: it is asked `initialize` before it is
    // called down.
    if (err instanceof HttpStatusError && err.code >= 500) throw new WrongEra(err);
    throw err;
  }
  if (outcome.kind === "legacy") throw new WrongEra(null);
  if (outcome.kind === "unsupported") {
    throw new UnsupportedProtocolVersion(
      `server speaks ${outcome.supported.join(", ") || "no known revision"}`,
    );
  }
  return {
    era: "modern",
    protocolVersion: outcome.version,
    name: outcome.serverInfo.name,
    version: outcome.serverInfo.version,
    capabilities: outcome.capabilities,
    tools: outcome.tools,
    prompts: outcome.prompts,
    resources: outcome.resources,
    stepError: outcome.stepError,
    answeredAt: performance.now(),
  };
}

/** The 2025 way in: `initialize`, over the probe's streamable HTTP transport. */
async function viaInitialize(
  channel: HttpChannel,
  signal: AbortSignal,
  remaining: () => number,
): Promise<Found> {
  try {
    return await legacy(new ProbeTransport(channel), signal, remaining);
  } catch (err) {
    if (refusesInitialize(err)) throw new WrongEra(err);
    throw err;
  }
}

/** The JSON-RPC error code a refusal carries: in the body of an HTTP error, or in a 200's answer. */
const rpcCode = (err: unknown): number | null =>
  err instanceof HttpStatusError
    ? (rpcError(err.body)?.code ?? null)
    : err instanceof McpError
      ? err.code
      : null;

/**
 * Whether `initialize` was refused as a server that does not speak 2025 refuses it: a 400, 404
 * or 405 (a modern-only server has no such method, or no such use of POST), an unsupported
 * version (-32022, whatever the HTTP status) or an unknown method; or answered with a version
 * the SDK does not know. A 5xx, a 401 or 403, a timeout are the server's state, not its era.
 */
function refusesInitialize(err: unknown): boolean {
  if (err instanceof HttpStatusError && [400, 404, 405].includes(err.code)) return true;
  const code = rpcCode(err);
  if (code === UNSUPPORTED_VERSION || code === ErrorCode.MethodNotFound) return true;
  return /protocol version is not supported/i.test(String((err as Error | null)?.message ?? ""));
}

/**
 * What to report of a server that neither era let in: a server error that `server/discover` met
 * (the server is failing, whatever it speaks); else what `initialize` was told, a version refusal
 * being `unsupported_protocol_version`.
 */
function neitherEra(refusals: unknown[]): unknown {
  const failing = refusals.find((r) => r instanceof HttpStatusError && r.code >= 500);
  if (failing) return failing;
  const refused = refusals.find((r) => r !== null);
  if (rpcCode(refused) === UNSUPPORTED_VERSION) {
    return new UnsupportedProtocolVersion("server refused initialize and server/discover");
  }
  return refused;
}

/** The 2025 handshake through the SDK's client: initialize, then tools (or ping), prompts, resources. */
async function legacy(transport: Transport, signal: AbortSignal, remaining: () => number): Promise<Found> {
  let negotiated: string | null = null;
  const setVersion = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (v) => {
    negotiated = v;
    setVersion?.(v);
  };
  const client = new Client(CLIENT_INFO, { capabilities: {}, jsonSchemaValidator: NO_TOOL_CALLS });
  const options = () => ({ timeout: remaining(), signal });
  try {
    await client.connect(transport, options());
    const info = client.getServerVersion();
    const capabilities = (client.getServerCapabilities() ?? {}) as Record<string, unknown>;
    const found: Found = {
      era: "legacy",
      protocolVersion: negotiated,
      name: info?.name?.slice(0, 200) ?? null,
      version: info?.version?.slice(0, 100) ?? null,
      capabilities,
      tools: [],
      prompts: [],
      resources: [],
      stepError: null,
      answeredAt: 0,
    };
    try {
      // Listing tools proves the server answers requests; a server without tools is pinged instead.
      if (capabilities.tools)
        found.tools = mapListed(
          await listAll((c) => client.listTools(params(c), options()).then((r) => page(r.tools, r))),
          toToolDefinition,
        );
      else await client.ping(options());
      if (capabilities.prompts)
        found.prompts = mapListed(
          await listAll((c) => client.listPrompts(params(c), options()).then((r) => page(r.prompts, r))),
          toPromptSummary,
        );
      if (capabilities.resources)
        found.resources = mapListed(
          await listAll((c) => client.listResources(params(c), options()).then((r) => page(r.resources, r))),
          toResourceSummary,
        );
    } catch (err) {
      found.stepError = err;
    }
    found.answeredAt = performance.now();
    return found;
  } finally {
    await endSession(client, transport);
  }
}

const params = (cursor: string | undefined) => (cursor ? { cursor } : undefined);
const page = (items: unknown[], res: { nextCursor?: string | undefined }): ListPage => ({
  items,
  nextCursor: res.nextCursor,
});

/**
 * The SDK's SSE transport, which speaks through fetch over the guarded dispatcher. Redirects are
 * followed here, not by fetch, and only within the server's origin (see `fetchWithinOrigin`);
 * every body counts against the probe's byte budget, and a 401 or 403 is kept for the auth
 * verdict, a redirect elsewhere for the error.
 */
function sseTransport(target: ProbeTarget, io: ProbeIo): Transport {
  // What the SDK's own error would hide: a refusal for the auth verdict, or a redirect not followed.
  let failure: AuthRefused | HttpStatusError | null = null;
  const fetchOnce = (url: string, init: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher: io.dispatcher } as Parameters<
      typeof undiciFetch
    >[1]) as unknown as Promise<Response>;
  const guardedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const signal = init?.signal ? AbortSignal.any([init.signal, io.signal]) : io.signal;
    const trace = traceHeaders();
    let headers = init?.headers;
    if (trace.traceparent) {
      const merged = new Headers(headers);
      for (const [name, value] of Object.entries(trace)) merged.set(name, value);
      headers = merged;
    }
    const res = await fetchWithinOrigin(fetchOnce, url, { ...init, headers, signal }, (status) => {
      failure = new HttpStatusError(status, null, null);
    });
    if (res.status === 401 || res.status === 403)
      failure = new AuthRefused(res.status, res.headers.get("www-authenticate"));
    if (!res.body || [101, 204, 205, 304].includes(res.status)) return res;
    const limited = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          try {
            io.countBytes(chunk.byteLength);
            ctl.enqueue(chunk);
          } catch (err) {
            ctl.error(err);
          }
        },
      }),
    );
    return new Response(limited, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  const transport = new SSEClientTransport(new URL(target.url), {
    fetch: guardedFetch,
    requestInit: { headers: target.headers },
    eventSourceInit: { fetch: guardedFetch },
  });
  // The SDK reports a refused stream or POST as its own error: give the verdict what it needs.
  const start = transport.start.bind(transport);
  transport.start = () =>
    start().catch((err: unknown) => {
      throw failure ?? err;
    });
  const send = transport.send.bind(transport);
  transport.send = (message) =>
    send(message).catch((err: unknown) => {
      throw failure ?? err;
    });
  return transport;
}

/** Ends the MCP session (DELETE for streamable HTTP), waiting at most a moment for the server. */
async function endSession(client: Client, transport: Transport): Promise<void> {
  const grace = new Promise<void>((done) => setTimeout(done, CLOSE_GRACE_MS).unref());
  const end = async () => {
    if (transport instanceof ProbeTransport) await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
  };
  await Promise.race([end(), grace]);
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection_refused",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  ECONNRESET: "connection_reset",
  EPIPE: "connection_reset",
  UND_ERR_SOCKET: "connection_reset",
  UND_ERR_CLOSED: "connection_reset",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  ETIMEDOUT: "timeout",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
};

/** Turns whatever a probe step threw into a short, stable reason. */
export function classify(err: unknown, deadline?: AbortSignal): string {
  if (deadline?.aborted) return "timeout";
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ProbeTimeout) return "timeout";
    if (e instanceof TargetRefused) return "target_refused";
    if (e instanceof ResponseTooLarge) return "response_too_large";
    if (e instanceof UnsupportedProtocolVersion) return "unsupported_protocol_version";
    if (e instanceof ModernRequestRefused) return "protocol_error";
    if (e instanceof AuthRefused) return `http_${e.status}`;
    const { code, name, message } = e as { code?: unknown; name?: string; message?: string };
    if (name === "McpError" && code === ErrorCode.RequestTimeout) return "timeout";
    if (typeof code === "number" && code >= 400 && code < 600) return `http_${code}`;
    if (typeof code === "string") {
      if (NETWORK_CODES[code]) return NETWORK_CODES[code];
      if (/CERT|TLS|SSL/.test(code)) return "tls";
    }
    if (/protocol version is not supported/i.test(message ?? "")) return "unsupported_protocol_version";
    const status = /HTTP (\d{3})/.exec(message ?? "")?.[1];
    if (status) return `http_${status}`;
    if (/other side closed|socket hang up|terminated/i.test(message ?? "")) return "connection_reset";
    if (
      name === "ZodError" ||
      name === "SyntaxError" ||
      name === "McpError" ||
      /JSON|content type|invalid/i.test(message ?? "")
    ) {
      return "protocol_error";
    }
  }
  return "error";
}
