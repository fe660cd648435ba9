import type { PromptSummary, ResourceSummary, ToolDefinition } from "../../db/schema";
import { traceHeaders } from "../../lib/tracing";
import { type HttpChannel, HttpStatusError } from "./probe-http";
import { listAll, mapListed, toPromptSummary, toResourceSummary, toToolDefinition } from "./tools";

/** The modern revisions this probe speaks, newest first (2026-07-28 removed `initialize` and `ping`). */
export const MODERN_VERSIONS = ["2026-07-28"] as const;
/** The first revision without `initialize`: a version listed before it is a 2025 one. */
const FIRST_MODERN = "2026-07-28";
export const CLIENT_INFO = { name: "switchboard-probe", version: "1.0.0" };

const META = {
  protocolVersion: "io.modelcontextprotocol/protocolVersion",
  clientInfo: "io.modelcontextprotocol/clientInfo",
  clientCapabilities: "io.modelcontextprotocol/clientCapabilities",
  serverInfo: "io.modelcontextprotocol/serverInfo",
} as const;
/**
 * JSON-RPC error a server sends for a protocol version it does not speak, with `data.supported`:
 * 2026-07-28 names it, and a modern-only server refuses 2025's `initialize` with it.
 */
export const UNSUPPORTED_VERSION = -32022;
/** JSON-RPC errors only a modern server sends: header mismatch, missing capability. */
const MODERN_REQUEST_ERRORS = new Set([-32020, -32021]);

/** A modern server refused a request the probe built: a fault of one side or the other, not an outage. */
export class ModernRequestRefused extends Error {
  override name = "ModernRequestRefused";
}

export type ModernOutcome =
  | {
      kind: "modern";
      version: string;
      serverInfo: { name: string | null; version: string | null };
      capabilities: Record<string, unknown>;
      tools: ToolDefinition[];
      prompts: PromptSummary[];
      resources: ResourceSummary[];
      /** A step after discovery that failed: the server is up, but not all there. */
      stepError: unknown;
    }
  /** Not a modern server: ask it `initialize`. */
  | { kind: "legacy" }
  /** A modern server that speaks no revision this probe speaks. */
  | { kind: "unsupported"; supported: string[] };

type RpcAnswer = { result?: unknown; error?: { code?: unknown; data?: unknown } };

const object = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
const str = (v: unknown, max = 1000): string | null => (typeof v === "string" ? v.slice(0, max) : null);

/** The JSON-RPC error in an answer or in the body of a refused request, if any. */
export function rpcError(answer: unknown): { code: number; data: Record<string, unknown> | null } | null {
  const error = object(object(answer)?.error);
  return typeof error?.code === "number" ? { code: error.code, data: object(error.data) } : null;
}

/** The modern errors of a refused request; anything else says "not a modern server". */
function modernError(err: unknown): { code: number; data: Record<string, unknown> | null } | null {
  if (!(err instanceof HttpStatusError) || err.code >= 500 || err.code === 401 || err.code === 403) throw err;
  return rpcError(err.body);
}

const supportedOf = (data: Record<string, unknown> | null): string[] =>
  Array.isArray(data?.supported) ? data.supported.filter((v): v is string => typeof v === "string") : [];

/** `traceparent` and `tracestate` of the active span (none with tracing off), for a request's _meta. */
function traceMeta(): Record<string, string> {
  const { traceparent, tracestate } = traceHeaders();
  return { ...(traceparent ? { traceparent } : {}), ...(tracestate ? { tracestate } : {}) };
}

/** Speaks the 2026-07-28 revision: every request carries its version, client info and capabilities. */
class ModernSession {
  private nextId = 1;
  constructor(
    private readonly channel: HttpChannel,
    private readonly version: string,
  ) {}

  /** The answer to one request; null when the server's reply holds no JSON-RPC answer to it. */
  async call(method: string, params: Record<string, unknown> = {}): Promise<RpcAnswer | null> {
    const id = this.nextId++;
    const message = {
      jsonrpc: "2.0",
      id,
      method,
      params: {
        ...params,
        _meta: {
          // The trace context travels in _meta too, as SEP-414 has it for 2026-07-28 requests.
          ...traceMeta(),
          [META.protocolVersion]: this.version,
          [META.clientInfo]: CLIENT_INFO,
          [META.clientCapabilities]: {},
        },
      },
    };
    const res = await this.channel.post(message, {
      "mcp-protocol-version": this.version,
      "mcp-method": method,
    });
    let answer: RpcAnswer | null = null;
    await this.channel.messages(res, (m) => {
      const candidate = object(m);
      if (candidate?.id !== id) return false; // a notification sent before the answer
      answer = candidate as RpcAnswer;
      return true;
    });
    return answer;
  }

  /** Pages through a list method; a JSON-RPC error is thrown as a failed step. */
  list(method: string, key: string): Promise<unknown[]> {
    return listAll(async (cursor) => {
      const answer = await this.call(method, cursor ? { cursor } : {});
      const result = object(answer?.result);
      if (!result)
        throw new ModernRequestRefused(`${method} failed (${rpcError(answer)?.code ?? "no answer"})`);
      return {
        items: Array.isArray(result[key]) ? (result[key] as unknown[]) : [],
        nextCursor: str(result.nextCursor) ?? undefined,
      };
    });
  }
}

/**
 * The 2026-07-28 half of a dual-era probe: `server/discover`, then the tools (and prompt and
 * resource names) the server declares. A server whose answer is not a modern one (a 2025 server
 * answers -32000, -32601, or a 4xx with no JSON-RPC body) is reported as legacy, for the caller to
 * ask `initialize`. An error of the transport, an HTTP 5xx, 401 or 403 is thrown as it came.
 */
export async function probeModern(channel: HttpChannel): Promise<ModernOutcome> {
  let version: string = MODERN_VERSIONS[0];
  for (let attempt = 0; ; attempt++) {
    const session = new ModernSession(channel, version);
    let answer: RpcAnswer | null;
    try {
      answer = await session.call("server/discover");
    } catch (err) {
      const refused = modernError(err);
      if (!refused) return { kind: "legacy" };
      answer = { error: refused };
    }
    if (!answer) return { kind: "legacy" };
    const error = rpcError(answer);
    const result = object(answer.result);
    if (error?.code === UNSUPPORTED_VERSION) {
      const supported = supportedOf(error.data);
      const common = MODERN_VERSIONS.find((v) => supported.includes(v));
      if (common && attempt === 0) {
        version = common;
        continue;
      }
      // A list of 2025 revisions only: a legacy server that happens to say so.
      if (supported.length > 0 && supported.every((v) => v < FIRST_MODERN)) {
        return { kind: "legacy" };
      }
      return { kind: "unsupported", supported };
    }
    if (error && MODERN_REQUEST_ERRORS.has(error.code)) {
      throw new ModernRequestRefused(`server/discover refused (${error.code})`);
    }
    if (!result || !Array.isArray(result.supportedVersions)) return { kind: "legacy" };
    return finish(session, version, result);
  }
}

async function finish(
  session: ModernSession,
  version: string,
  discovered: Record<string, unknown>,
): Promise<ModernOutcome> {
  const capabilities = object(discovered.capabilities) ?? {};
  const info = object(object(discovered._meta)?.[META.serverInfo]);
  const outcome: ModernOutcome & { kind: "modern" } = {
    kind: "modern",
    version,
    serverInfo: { name: str(info?.name, 200), version: str(info?.version, 100) },
    capabilities,
    tools: [],
    prompts: [],
    resources: [],
    stepError: null,
  };
  // Discovery itself proved the server answers; a server with tools must also list them.
  try {
    if (capabilities.tools) {
      outcome.tools = mapListed(await session.list("tools/list", "tools"), toToolDefinition);
    }
    if (capabilities.prompts) {
      outcome.prompts = mapListed(await session.list("prompts/list", "prompts"), toPromptSummary);
    }
    if (capabilities.resources) {
      outcome.resources = mapListed(await session.list("resources/list", "resources"), toResourceSummary);
    }
  } catch (err) {
    outcome.stepError = err;
  }
  return outcome;
}
