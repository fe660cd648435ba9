import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { sendProblem } from "./problem";

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The dashboard's policy: nothing inline, nothing evaluated, nothing from elsewhere, never framed. */
export const DASHBOARD_CSP = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'"],
  "connect-src": ["'self'"],
  "object-src": ["'none'"],
  "base-uri": ["'self'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
};

const originOf = (value: string | undefined): string | null => {
  if (!value) return null;
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
};

/**
 * Security headers, CORS for the configured origins only, and CSRF protection: a cookie-authenticated
 * write must come from a trusted Origin (or Referer). Better-Auth guards `/api/auth/*` itself.
 */
export const securityPlugin = fp(
  async (app: FastifyInstance, { baseUrl, corsOrigins }: { baseUrl: string; corsOrigins: string[] }) => {
    const trusted = new Set([new URL(baseUrl).origin, ...corsOrigins.map((o) => new URL(o).origin)]);
    const https = baseUrl.startsWith("https://");

    await app.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: DASHBOARD_CSP },
      referrerPolicy: { policy: "strict-origin-when-cross-origin" },
      strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      crossOriginEmbedderPolicy: false,
    });

    await app.register(cors, {
      origin: (origin, callback) => callback(null, origin !== undefined && trusted.has(origin)),
      credentials: true,
      methods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
      allowedHeaders: ["content-type", "if-match", "x-correlation-id", "authorization"],
      exposedHeaders: [
        "x-correlation-id",
        "etag",
        "location",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "retry-after",
      ],
      maxAge: 600,
    });

    app.addHook("onRequest", async (request, reply) => {
      if (!UNSAFE_METHODS.has(request.method) || !request.headers.cookie) return;
      if (request.url.startsWith("/api/auth/")) return;
      if (/^Bearer\s/i.test(request.headers.authorization ?? "")) return;
      const from = originOf(request.headers.origin) ?? originOf(request.headers.referer);
      if (from && trusted.has(from)) return;
      return sendProblem(
        request,
        reply,
        "FORBIDDEN",
        from
          ? `Cross-site request refused: ${from} is not a trusted origin`
          : "Cross-site request refused: send an Origin header from a trusted origin with cookie-authenticated writes",
      );
    });
  },
);
