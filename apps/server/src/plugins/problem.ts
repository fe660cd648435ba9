import { type ErrorCode, errorStatus, type Problem, type ProblemIssue } from "@switchboard/shared";
import type { FastifyReply, FastifyRequest } from "fastify";

const TITLES: Record<ErrorCode, string> = {
  VALIDATION: "Invalid request",
  UNAUTHORIZED: "Authentication required",
  FORBIDDEN: "Forbidden",
  NOT_FOUND: "Not found",
  METHOD_NOT_ALLOWED: "Method not allowed",
  CONFLICT: "Conflict",
  PRECONDITION_FAILED: "Precondition failed",
  PAYLOAD_TOO_LARGE: "Payload too large",
  URI_TOO_LONG: "URI too long",
  UNSUPPORTED_MEDIA_TYPE: "Unsupported media type",
  RATE_LIMITED: "Too many requests",
  INTERNAL: "Internal server error",
  BAD_GATEWAY: "Bad gateway",
  UNAVAILABLE: "Service unavailable",
  GATEWAY_TIMEOUT: "Gateway timeout",
};

export function problem(
  request: FastifyRequest,
  code: ErrorCode,
  detail: string,
  issues?: ProblemIssue[],
): Problem {
  const status = errorStatus[code];
  return {
    type: `https://switchboard.dev/problems/${code.toLowerCase().replaceAll("_", "-")}`,
    title: TITLES[code],
    status,
    detail,
    code,
    correlationId: request.id,
    ...(issues?.length ? { issues } : {}),
  };
}

/** Sends an RFC 9457 problem document. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  extra?: { issues?: ProblemIssue[]; members?: Record<string, unknown> },
) {
  const body = { ...problem(request, code, detail, extra?.issues), ...extra?.members };
  return reply.code(body.status).type("application/problem+json; charset=utf-8").send(body);
}
