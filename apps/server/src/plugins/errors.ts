import type { ErrorCode, ProblemIssue } from "@switchboard/shared";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { isDatabaseUnavailable } from "../db/errors";
import { AppError } from "../lib/errors";
import { CORRELATION_HEADER } from "./correlation";
import { sendProblem } from "./problem";

/** Fastify's own error codes, translated into ours with a sentence a user can act on. */
const FASTIFY_ERRORS: Record<string, [ErrorCode, (e: FastifyError, r: FastifyRequest) => string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [
    "PAYLOAD_TOO_LARGE",
    (_e, r) => `The request body is larger than ${mebibytes(r.routeOptions.bodyLimit ?? 1024 * 1024)}`,
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    "UNSUPPORTED_MEDIA_TYPE",
    () => "Send the request body as application/json",
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["VALIDATION", () => "Content-Length does not match the body"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["VALIDATION", () => "The body is empty but Content-Type is application/json"],
  FST_ERR_CTP_INVALID_JSON_BODY: ["VALIDATION", () => "The body is not valid JSON"],
};

/** 1048576 → "1 MiB", 8388608 → "8 MiB", 1536 → "1.5 KiB". */
const mebibytes = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MiB` : `${+(bytes / 1024).toFixed(1)} KiB`;

function issuesOf(error: FastifyError): ProblemIssue[] {
  if (!hasZodFastifySchemaValidationErrors(error)) return [];
  const context = error.validationContext ?? "body";
  const where = context === "querystring" ? "query" : context;
  const at = (path: readonly PropertyKey[]) => [where, ...path.map(String)].join(".");
  return error.validation.flatMap((v) => {
    const path = v.instancePath.split("/").filter(Boolean);
    const keys = (v.params as { keys?: unknown }).keys;
    if (v.keyword === "unrecognized_keys" && Array.isArray(keys)) {
      return keys.map((k) => ({ path: at([...path, String(k)]), message: "is not a known field" }));
    }
    return [{ path: at(path), message: v.message ?? "is invalid" }];
  });
}

/**
 * Fastify's answer to a request it refuses before routing it, which neither the error handler nor
 * the not-found handler sees: a path that is not valid percent-encoded UTF-8, or a segment longer
 * than the router takes. Fastify would answer these in a JSON of its own. No hook runs for them,
 * so the headers every answer carries are set here.
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header(CORRELATION_HEADER, request.id).header("x-content-type-options", "nosniff");
  const path = request.url.split("?")[0] ?? "";
  if (error.code === "FST_ERR_MAX_PARAM_LENGTH") {
    return sendProblem(request, reply, "URI_TOO_LONG", "A segment of the path is too long for any route");
  }
  if (error.code === "FST_ERR_BAD_URL") {
    return sendProblem(
      request,
      reply,
      "VALIDATION",
      `The path ${path.length > 200 ? `${path.slice(0, 200)}…` : path} is not valid percent-encoded UTF-8`,
    );
  }
  request.log.error({ err: error }, "unexpected error before routing");
  return sendProblem(
    request,
    reply,
    "INTERNAL",
    "Something went wrong on our side; quote the correlation id",
  );
}

/** How long a client is told to wait before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** One error handler: every failure leaves as problem+json, and only 5xx are logged as errors. */
export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      return sendProblem(request, reply, error.code, error.message, { issues: error.issues });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = issuesOf(error);
      const fields = issues.map((i) => i.path).join(", ");
      return sendProblem(request, reply, "VALIDATION", `Invalid ${fields}`, { issues });
    }
    const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
    if (known) return sendProblem(request, reply, known[0], known[1](error, request));
    if (error instanceof SyntaxError || (error.statusCode === 400 && !error.code)) {
      return sendProblem(request, reply, "VALIDATION", "The body is not valid JSON");
    }
    if (error.statusCode === 429) {
      return sendProblem(request, reply, "RATE_LIMITED", error.message);
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      request.log.info({ err: error }, "client error");
      return sendProblem(request, reply, "VALIDATION", error.message);
    }
    if (isDatabaseUnavailable(error)) {
      // An outage, not a bug: the pool reconnects by itself, so the same request works once it ends.
      request.log.error({ err: error }, "database unavailable");
      reply.header("retry-after", DATABASE_RETRY_AFTER_SECONDS);
      return sendProblem(
        request,
        reply,
        "UNAVAILABLE",
        `The database is not reachable right now; retry in ${DATABASE_RETRY_AFTER_SECONDS} seconds`,
      );
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause.issues }, "response did not match its schema");
    } else {
      request.log.error({ err: error }, "unexpected error");
    }
    return sendProblem(
      request,
      reply,
      "INTERNAL",
      "Something went wrong on our side; quote the correlation id",
    );
  });

  app.setNotFoundHandler((request, reply) => {
    if (app.hasDecorator("spaFallback") && app.spaFallback?.(request, reply)) return reply;
    return sendProblem(
      request,
      reply,
      "NOT_FOUND",
      `No route ${request.method} ${request.url.split("?")[0]}`,
    );
  });
});
