import type { ErrorCode, ProblemIssue } from "@switchboard/shared";
import type { FastifyError, FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { AppError } from "../lib/errors";
import { sendProblem } from "./problem";

/** Fastify's own error codes, translated into ours with a sentence a user can act on. */
const FASTIFY_ERRORS: Record<string, [ErrorCode, (e: FastifyError) => string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ["PAYLOAD_TOO_LARGE", () => "The request body is larger than 1 MiB"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    "UNSUPPORTED_MEDIA_TYPE",
    () => "Send the request body as application/json",
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["VALIDATION", () => "Content-Length does not match the body"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["VALIDATION", () => "The body is empty but Content-Type is application/json"],
  FST_ERR_CTP_INVALID_JSON_BODY: ["VALIDATION", () => "The body is not valid JSON"],
};

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
    if (known) return sendProblem(request, reply, known[0], known[1](error));
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
