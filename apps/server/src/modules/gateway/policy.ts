import { toolHash, toToolDefinition } from "../health/tools";

/** The first revision whose requests mirror their method and name in headers (and must match them). */
const FIRST_MODERN = "2026-07-28";
const PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion";

export type JsonRpcId = string | number | null;

/** What the gateway reads of a POSTed body: the JSON-RPC messages in it. */
export interface Exchange {
  /** Each message of the body (one, or a 2025-03-26 batch); empty when the body is not JSON-RPC. */
  messages: Record<string, unknown>[];
  /** The ids of the requests among them, for the errors the gateway answers itself. */
  ids: JsonRpcId[];
  /** The method of a body holding one message. */
  method: string | null;
  /** The tool a `tools/call` names. */
  tool: string | null;
  /** Why the body is not JSON-RPC (a JSON-RPC error code and message); null when it is. */
  invalid: { code: -32700 | -32600; message: string } | null;
  /** The body was a JSON array (a 2025 batch). */
  batch: boolean;
}

/** What a request without a body (GET, DELETE) holds: nothing to judge. */
export const NO_BODY: Exchange = {
  messages: [],
  ids: [],
  method: null,
  tool: null,
  invalid: null,
  batch: false,
};

const object = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/** A JSON-RPC 2.0 request or notification (a method), or a response (an id and a result or error). */
const isMessage = (m: Record<string, unknown> | null): m is Record<string, unknown> =>
  m !== null &&
  m.jsonrpc === "2.0" &&
  (typeof m.method === "string" || (m.method === undefined && "id" in m && ("result" in m || "error" in m)));

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a POST body as JSON-RPC, as an SDK server reads it: UTF-8 (decoded with TextDecoder, which
 * drops a leading byte order mark as the SDK's does — RFC 8259 lets a parser ignore one), then JSON.
 * A body that is neither is `invalid`: the gateway refuses it rather than pass on bytes it could not
 * judge, for a server that reads them more leniently would run what the policy never saw.
 */
export function readExchange(body: Buffer | undefined): Exchange {
  const refuse = (code: -32700 | -32600, message: string): Exchange => ({
    ...NO_BODY,
    invalid: { code, message },
  });
  if (!body?.length) return refuse(-32700, "Parse error: the request body is empty");
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch {
    return refuse(-32700, "Parse error: the request body is not UTF-8 JSON");
  }
  const messages = (Array.isArray(parsed) ? parsed : [parsed]).map(object);
  if (!messages.length || !messages.every(isMessage)) {
    return refuse(-32600, "Invalid Request: the request body is not a JSON-RPC 2.0 message");
  }
  const all = messages as Record<string, unknown>[];
  const requests = all.filter((m) => typeof m.method === "string" && "id" in m);
  const single = all.length === 1 ? all[0] : undefined;
  const method = typeof single?.method === "string" ? single.method : null;
  const tool = method === "tools/call" ? (object(single?.params)?.name as unknown) : null;
  return {
    messages: all,
    ids: requests.map((m) => m.id as JsonRpcId),
    method,
    tool: typeof tool === "string" ? tool : null,
    invalid: null,
    batch: Array.isArray(parsed),
  };
}
/** `=?base64?…?=`, the spec's encoding of a header value that is not plain ASCII. */
function decodeHeader(value: string): string {
  const m = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/.exec(value.trim());
  return m ? Buffer.from(m[1] ?? "", "base64").toString("utf8") : value.trim();
}

/** The value a 2026-07-28 request mirrors in `Mcp-Name`, for the methods that have one. */
function nameOf(message: Record<string, unknown>): string | null {
  const params = object(message.params);
  if (message.method === "tools/call" || message.method === "prompts/get") {
    return typeof params?.name === "string" ? params.name : null;
  }
  if (message.method === "resources/read") return typeof params?.uri === "string" ? params.uri : null;
  return null;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * Whether a request speaks 2026-07-28 or later, by its MCP-Protocol-Version header or, for a single
 * message, the protocol version its `_meta` names.
 */
export function isModern(
  headers: Record<string, string | string[] | undefined>,
  exchange: Exchange,
): boolean {
  if ((one(headers["mcp-protocol-version"]) ?? "") >= FIRST_MODERN) return true;
  const message = exchange.messages.length === 1 ? exchange.messages[0] : undefined;
  const metaVersion = object(object(message?.params)?._meta)?.[PROTOCOL_VERSION_META];
  return typeof metaVersion === "string" && metaVersion >= FIRST_MODERN;
}

/**
 * Requests and notifications with W3C trace context in their `_meta` (`traceparent`, `tracestate`,
 * as SEP-414 puts it for 2026-07-28), replacing what the client put there: the gateway's span is
 * the server's parent now, as it is in the header.
 */
export function withTraceMeta(exchange: Exchange, trace: { traceparent?: string; tracestate?: string }) {
  const messages = exchange.messages.map((m) => {
    if (typeof m.method !== "string") return m;
    const params = object(m.params) ?? {};
    const meta = { ...object(params._meta) };
    delete meta.tracestate;
    if (trace.traceparent) meta.traceparent = trace.traceparent;
    if (trace.tracestate) meta.tracestate = trace.tracestate;
    return { ...m, params: { ...params, _meta: meta } };
  });
  return exchange.batch ? messages : messages[0];
}

/**
 * For a 2026-07-28 request, whether its headers say what its body says (`MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name`); the reason when they do not. Earlier revisions mirror nothing, so
 * there is nothing to compare: the gateway never trusts a header it has not checked.
 */
export function headerMismatch(
  headers: Record<string, string | string[] | undefined>,
  exchange: Exchange,
): string | null {
  const version = one(headers["mcp-protocol-version"]);
  const message = exchange.messages.length === 1 ? exchange.messages[0] : undefined;
  if (!message || typeof message.method !== "string") return null;
  const metaVersion = object(object(message.params)?._meta)?.[PROTOCOL_VERSION_META];
  if (!isModern(headers, exchange)) return null;
  if (version === undefined) return "the required MCP-Protocol-Version header is absent";
  if (typeof metaVersion === "string" && metaVersion !== version) {
    return `MCP-Protocol-Version says ${version} but the body's _meta says ${metaVersion}`;
  }
  const method = one(headers["mcp-method"]);
  if (method === undefined) return "the required Mcp-Method header is absent";
  if (decodeHeader(method) !== message.method) {
    return `Mcp-Method says ${decodeHeader(method)} but the body's method is ${message.method}`;
  }
  const expected = nameOf(message);
  if (expected !== null) {
    const name = one(headers["mcp-name"]);
    if (name === undefined) return "the required Mcp-Name header is absent";
    if (decodeHeader(name) !== expected)
      return `Mcp-Name says ${decodeHeader(name)} but the body names ${expected}`;
  }
  return null;
}

/**
 * Which tools a request may see and call: the key's allow-list, if it has one, and for a pinned
 * server the approved tools whose definition is still the approved one. Null when neither applies.
 */
export interface ToolPolicy {
  /** Whether a `tools/call` of this tool may go through. */
  mayCall(name: string): boolean;
  /** Whether a tool a server lists may be shown (its whole definition is compared with the pin). */
  mayList(tool: unknown): boolean;
}

export function toolPolicy(keyTools: string[] | null, pinned: Map<string, string> | null): ToolPolicy | null {
  if (!keyTools && !pinned) return null;
  const allowed = keyTools ? new Set(keyTools) : null;
  const keyAllows = (name: string) => !allowed || allowed.has(name);
  return {
    mayCall: (name) => keyAllows(name) && (!pinned || pinned.has(name)),
    mayList: (raw) => {
      const tool = toToolDefinition(raw);
      if (!tool || !keyAllows(tool.name)) return false;
      return !pinned || pinned.get(tool.name) === toolHash(tool);
    },
  };
}

/**
 * A JSON-RPC message with the tools of a `tools/list` result filtered by the policy; the message
 * itself when it is no such result. (Answers are told apart by their shape, not their id: on the
 * 2025 SSE transport they arrive on a stream another instance may have opened.)
 */
export function filterToolsList(message: unknown, policy: ToolPolicy): unknown {
  const m = object(message);
  const result = object(m?.result);
  if (!m || !result || !Array.isArray(result.tools)) return message;
  return { ...m, result: { ...result, tools: result.tools.filter((t) => policy.mayList(t)) } };
}
