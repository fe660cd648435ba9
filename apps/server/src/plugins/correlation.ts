import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

const SANE = /^[A-Za-z0-9._:-]{8,128}$/;
export const CORRELATION_HEADER = "x-correlation-id";

/** Fastify's genReqId: the caller's X-Correlation-ID when it is a sane token, else a new UUID. */
export function correlationId(req: IncomingMessage): string {
  const given = req.headers[CORRELATION_HEADER];
  return typeof given === "string" && SANE.test(given) ? given : randomUUID();
}

/** Returns the correlation id on every response, errors and 404s included. */
export const correlationPlugin = fp(async (app: FastifyInstance) => {
  app.addHook("onRequest", async (request, reply) => {
    reply.header("X-Correlation-ID", request.id);
  });
});
