import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JsonSchemaValidator, jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { Agent, fetch as undiciFetch } from "undici";
import { ProbeTransport } from "./probe-transport";
import { assertAllowedTarget, isPrivateAddress, TargetRefused } from "./ssrf";

export type ProbeStatus = "healthy" | "degraded" | "unhealthy";

export interface ProbeTarget {
  url: string;
  transport: "streamable-http" | "sse";
  /** Upstream headers in clear, opened just for this probe. */
  headers: Record<string, string>;
}

export interface ProbeResult {
  status: ProbeStatus;
  latencyMs: number;
  /** A short reason: `timeout`, `connection_refused`, `dns`, `tls`, `http_<status>`, `protocol_error`, … */
  error: string | null;
  serverInfo: {
    name: string | null;
    version: string | null;
    protocolVersion: string | null;
    capabilities: Record<string, unknown>;
  } | null;
  tools: { name: string; description: string | null }[];
}

export interface ProbeOptions {
  timeoutMs: number;
  /** A probe that succeeds but takes longer than this is `degraded`. */
  degradedMs: number;
  allowPrivate: boolean;
  /** Bytes a probe may read from the server in all. */
  maxBodyBytes: number;
}

/** What the health module calls; tests and the scheduler can substitute their own. */
export type Prober = (target: ProbeTarget) => Promise<ProbeResult>;

const MAX_TOOLS = 500;
const REQUEST_TIMEOUT = -32001; // JSON-RPC error code the SDK uses for a request that timed out

/**
 * The SDK builds an Ajv validator per client to check tool call results against the tools' output
 * schemas; a probe lists tools but never calls one, so it skips that cost.
 */
const NO_TOOL_CALLS: jsonSchemaValidator = {
  getValidator<T>(): JsonSchemaValidator<T> {
    return (input) => ({ valid: true, data: input as T, errorMessage: undefined });
  },
};
const MAX_TOOL_PAGES = 10;
const CLOSE_GRACE_MS = 1000;

class ProbeTimeout extends Error {
  override name = "ProbeTimeout";
}
class ResponseTooLarge extends Error {
  override name = "ResponseTooLarge";
}

/**
 * A dispatcher whose every connection re-checks the addresses a name resolves to, so neither a
 * redirect nor a DNS answer that changes after the first check reaches a forbidden address.
 */
function guardedAgent(allowPrivate: boolean): Agent {
  return new Agent({
    keepAliveTimeout: 1000,
    connect: {
      lookup: (hostname, options, callback) => {
        dnsLookup(
          hostname,
          { all: true, family: (options as { family?: number }).family ?? 0 },
          (err, addresses) => {
            if (err) return callback(err, "", 0);
            const list = addresses as LookupAddress[];
            const bad = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
            if (bad) return callback(new TargetRefused(`${hostname} resolves to ${bad.address}`), "", 0);
            if ((options as { all?: boolean }).all)
              return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
            const first = list[0];
            if (!first) return callback(new Error(`no address for ${hostname}`), "", 0);
            callback(null, first.address, first.family);
          },
        );
      },
    },
  });
}

/** Creates a prober that speaks MCP over the target's transport, bounded in time and bytes. */
export function createProber(opts: ProbeOptions): Prober {
  const dispatcher = guardedAgent(opts.allowPrivate);
  return (target) => probe(target, opts, dispatcher);
}

async function probe(target: ProbeTarget, opts: ProbeOptions, dispatcher: Agent): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new ProbeTimeout("probe timed out")), opts.timeoutMs);
  const timedOut = new Promise<never>((_, reject) =>
    deadline.signal.addEventListener("abort", () => reject(deadline.signal.reason), { once: true }),
  );
  timedOut.catch(() => {});
  const bounded = <T>(p: Promise<T>) => Promise.race([p, timedOut]);
  // The SDK's own request timeout is set past the deadline, so that the deadline always speaks first.
  const remaining = () => Math.max(1, opts.timeoutMs - elapsed()) + 1000;

  let budget = opts.maxBodyBytes;
  const countBytes = (bytes: number) => {
    budget -= bytes;
    if (budget < 0) throw new ResponseTooLarge("response too large");
  };
  let negotiated: string | null = null;
  const transport: Transport =
    target.transport === "sse"
      ? sseTransport(target, opts, { dispatcher, signal: deadline.signal, countBytes })
      : new ProbeTransport(new URL(target.url), {
          dispatcher,
          headers: target.headers,
          signal: deadline.signal,
          countBytes,
        });
  const setVersion = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (v) => {
    negotiated = v;
    setVersion?.(v);
  };
  const client = new Client(
    { name: "switchboard-probe", version: "1.0.0" },
    { capabilities: {}, jsonSchemaValidator: NO_TOOL_CALLS },
  );

  let result: ProbeResult;
  try {
    if (!opts.allowPrivate) await bounded(assertAllowedTarget(target.url, { allowPrivate: false }));
    await bounded(client.connect(transport, { timeout: remaining(), signal: deadline.signal }));
    const version = client.getServerVersion();
    const capabilities = (client.getServerCapabilities() ?? {}) as Record<string, unknown>;
    let stepError: string | null = null;
    const tools: ProbeResult["tools"] = [];
    // Listing tools proves the server answers requests; a server without tools is pinged instead.
    if (!capabilities.tools) {
      try {
        await bounded(client.ping({ timeout: remaining(), signal: deadline.signal }));
      } catch (err) {
        stepError = classify(err, deadline.signal);
      }
    } else {
      try {
        let cursor: string | undefined;
        for (let page = 0; page < MAX_TOOL_PAGES && tools.length < MAX_TOOLS; page++) {
          const res = await bounded(
            client.listTools(cursor ? { cursor } : {}, { timeout: remaining(), signal: deadline.signal }),
          );
          for (const t of res.tools.slice(0, MAX_TOOLS - tools.length)) {
            tools.push({ name: t.name.slice(0, 200), description: t.description?.slice(0, 1000) ?? null });
          }
          cursor = res.nextCursor;
          if (!cursor) break;
        }
      } catch (err) {
        stepError ??= classify(err, deadline.signal);
      }
    }
    const latencyMs = elapsed();
    result = {
      status: stepError || latencyMs > opts.degradedMs ? "degraded" : "healthy",
      latencyMs,
      error: stepError ?? (latencyMs > opts.degradedMs ? "slow" : null),
      serverInfo: {
        name: version?.name ?? null,
        version: version?.version ?? null,
        protocolVersion: negotiated,
        capabilities,
      },
      tools,
    };
  } catch (err) {
    result = {
      status: "unhealthy",
      latencyMs: elapsed(),
      error: classify(err, deadline.signal),
      serverInfo: null,
      tools: [],
    };
  } finally {
    clearTimeout(timer);
  }
  await endSession(client, transport);
  return result;
}

/**
 * The SDK's SSE transport, which speaks through fetch; fetch may follow a redirect, so each hop's
 * address is checked, and every body counts against the probe's byte budget.
 */
function sseTransport(
  target: ProbeTarget,
  opts: ProbeOptions,
  io: { dispatcher: Agent; signal: AbortSignal; countBytes: (bytes: number) => void },
): Transport {
  const guardedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (!opts.allowPrivate) await assertAllowedTarget(url, { allowPrivate: false });
    const signal = init?.signal ? AbortSignal.any([init.signal, io.signal]) : io.signal;
    const res = (await undiciFetch(url, {
      ...(init as object),
      signal,
      dispatcher: io.dispatcher,
    } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
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
  return new SSEClientTransport(new URL(target.url), {
    fetch: guardedFetch,
    requestInit: { headers: target.headers },
    eventSourceInit: { fetch: guardedFetch },
  });
}

/** Ends the MCP session (DELETE for streamable HTTP), waiting at most a moment for the server. */
async function endSession(client: Client, transport: Transport): Promise<void> {
  const grace = new Promise<void>((done) => setTimeout(done, CLOSE_GRACE_MS).unref());
  const end = async () => {
    if (transport instanceof ProbeTransport) {
      await transport.terminateSession().catch(() => {});
    }
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
    const { code, name, message } = e as { code?: unknown; name?: string; message?: string };
    if (name === "McpError" && code === REQUEST_TIMEOUT) return "timeout";
    if (typeof code === "number" && code >= 400 && code < 600)
      return code === 401 || code === 403 ? "auth_required" : `http_${code}`;
    if (typeof code === "string") {
      if (NETWORK_CODES[code]) return NETWORK_CODES[code];
      if (/CERT|TLS|SSL/.test(code)) return "tls";
    }
    const status = /HTTP (\d{3})/.exec(message ?? "")?.[1];
    if (status) return status === "401" || status === "403" ? "auth_required" : `http_${status}`;
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
