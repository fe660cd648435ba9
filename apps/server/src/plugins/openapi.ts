import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";

/** Swagger UI styles itself inline; otherwise as strict as the dashboard's policy. */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** OpenAPI 3.1 generated from the routes' Zod schemas, at /openapi.json, with Swagger UI at /docs. */
export const openapiPlugin = fp(async (app: FastifyInstance) => {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Switchboard API",
        version: "0.1.0",
        description:
          "Control plane for MCP servers. Authenticate with the session cookie from `/api/auth/sign-in/email`; " +
          "management routes act in the session's active organization. Errors are RFC 9457 problem+json.",
      },
      components: {
        securitySchemes: {
          session: { type: "apiKey", in: "cookie", name: "better-auth.session_token" },
          apiKey: { type: "http", scheme: "bearer", description: "An MCP API key, mcp_…" },
        },
      },
      security: [{ session: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  // Swagger UI needs inline styles the dashboard's policy forbids: /docs gets a policy of its own.
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    uiConfig: { validatorUrl: null },
    staticCSP: true,
    transformStaticCSP: () => DOCS_CSP,
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
});
