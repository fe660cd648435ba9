import type { FastifyReply, FastifyRequest } from "fastify";
import { problem } from "../../plugins/problem";
import type { JsonRpcId } from "./policy";

/** What went wrong, in the gateway's own words; `data.reason` is a stable code for clients and logs. */
export interface GatewayError {
  /** 200 for a refusal that is a JSON-RPC answer (a tool the key may not call). */
  status: 200 | 400 | 401 | 403 | 404 | 413 | 429 | 502 | 503 | 504;
  reason: string;
  message: string;
  /** A JSON-RPC code other than the gateway's default (-32000). */
  rpcCode?: number;
  headers?: Record<string, string>;
}

const PROBLEM_CODES = {
  200: "FORBIDDEN",
  400: "VALIDATION",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
  429: "RATE_LIMITED",
  502: "BAD_GATEWAY",
  503: "UNAVAILABLE",
  504: "GATEWAY_TIMEOUT",
} as const;

/** JSON-RPC error objects for each request id, as the answer to the body that held them. */
export function rpcErrorBody(ids: JsonRpcId[], code: number, message: string, data: Record<string, unknown>) {
  const errors = ids.map((id) => ({ jsonrpc: "2.0", id, error: { code, message, data } }));
  return errors.length === 1 ? errors[0] : errors;
}

/**
 * Answers an error the gateway made itself: a JSON-RPC error carrying the request's id when the
 * request was JSON-RPC (so an MCP client reports it as such), else RFC 9457 problem+json.
 */
export function sendGatewayError(
  request: FastifyRequest,
  reply: FastifyReply,
  ids: JsonRpcId[],
  error: GatewayError,
) {
  reply.code(error.status);
  for (const [name, value] of Object.entries(error.headers ?? {})) reply.header(name, value);
  if (ids.length) {
    return reply.type("application/json").send(
      JSON.stringify(
        rpcErrorBody(ids, error.rpcCode ?? -32000, error.message, {
          status: error.status,
          reason: error.reason,
        }),
      ),
    );
  }
  const body = { ...problem(request, PROBLEM_CODES[error.status], error.message), reason: error.reason };
  return reply.type("application/problem+json; charset=utf-8").send(JSON.stringify(body));
}
