import cors, { type FastifyCorsOptionsDelegateCallback } from "@fastify/cors";
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

/**
 * What to tell whoever's browser is on an origin Switchboard does not trust: most often someone
 * who opened it by another name (127.0.0.1, a LAN name) than BASE_URL's. Said in the answer and
 * in the log alike, so either one leads to the fix.
 */
export function untrustedOriginAdvice(from: string, baseUrl: string): string {
  const expected = new URL(baseUrl).origin;
  return `${from} is not a trusted origin: Switchboard expects ${expected}. Open it there, or set BASE_URL to the address you use in the browser and restart`;
}

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
 * write must come from a trusted Origin (or Referer), and so must a browser's WebSocket handshake.
 * Better-Auth guards `/api/auth/*` itself.
 */
export const securityPlugin = fp(
  async (
    app: FastifyInstance,
    {
      baseUrl,
      corsOrigins,
      gatewayCorsOrigins,
    }: { baseUrl: string; corsOrigins: string[]; gatewayCorsOrigins: string[] },
  ) => {
    const trusted = new Set([new URL(baseUrl).origin, ...corsOrigins.map((o) => new URL(o).origin)]);
    const gatewayTrusted = new Set(gatewayCorsOrigins.map((o) => new URL(o).origin));
    const https = baseUrl.startsWith("https://");

    await app.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: DASHBOARD_CSP },
      referrerPolicy: { policy: "strict-origin-when-cross-origin" },
      strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      crossOriginEmbedderPolicy: false,
    });

    const dashboardCors = {
      origin: (origin: string | undefined, callback: (err: null, allow: boolean) => void) =>
        callback(null, origin !== undefined && trusted.has(origin)),
      credentials: true,
      methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
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
    };
    // Browser MCP clients on the origins GATEWAY_CORS_ORIGINS names; no cookies, a key instead.
    const gatewayCors = {
      origin: (origin: string | undefined, callback: (err: null, allow: boolean) => void) =>
        callback(null, origin !== undefined && gatewayTrusted.has(origin)),
      credentials: false,
      methods: ["GET", "POST", "DELETE", "OPTIONS"],
      allowedHeaders: [
        "authorization",
        "content-type",
        "accept",
        "mcp-session-id",
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
        "last-event-id",
        "x-correlation-id",
        "traceparent",
      ],
      exposedHeaders: ["mcp-session-id", "mcp-protocol-version", "x-correlation-id", "retry-after"],
      maxAge: 600,
    };
    const delegator: FastifyCorsOptionsDelegateCallback = (request, callback) => {
      callback(null, request.url?.startsWith("/gateway/") ? gatewayCors : dashboardCors);
    };
    // An OPTIONS request with an Origin but no Access-Control-Request-Method is no preflight:
    // refused here as problem+json, before @fastify/cors would refuse it in plain text.
    app.addHook("onRequest", async (request, reply) => {
      if (
        request.method !== "OPTIONS" ||
        request.headers.origin === undefined ||
        request.headers["access-control-request-method"] !== undefined
      )
        return;
      return sendProblem(
        request,
        reply,
        "VALIDATION",
        "An OPTIONS request is a CORS preflight: send Access-Control-Request-Method with it",
      );
    });
    await app.register(cors, () => delegator);

    app.addHook("onRequest", async (request, reply) => {
      // A WebSocket handshake is a GET, but what it opens reads the organization's events, so it
      // must come from a trusted page too (browsers always send Origin on one; other clients, which
      // carry no ambient cookie of a victim, may leave it out).
      if (request.headers.upgrade?.toLowerCase() === "websocket" && request.headers.origin !== undefined) {
        const from = originOf(request.headers.origin);
        if (from && trusted.has(from)) return;
        // This runs before @fastify/websocket's own hooks, so nothing else ends the socket it took.
        reply.raw.once("finish", () => request.raw.socket?.destroy());
        return sendProblem(
          request,
          reply,
          "FORBIDDEN",
          `Cross-site WebSocket refused: ${from ?? request.headers.origin.slice(0, 100)} is not a trusted origin`,
        );
      }
      if (!UNSAFE_METHODS.has(request.method) || !request.headers.cookie) return;
      if (request.url.startsWith("/api/auth/")) return;
      // The gateway authenticates by key only and never reads a cookie.
      if (request.url.startsWith("/gateway/")) return;
      // A route that authenticates by API key never reads a cookie either; any other route does,
      // whatever Authorization header comes with it, so sending one does not lift the check.
      if (request.routeOptions.config?.auth === "api_key") return;
      const from = originOf(request.headers.origin) ?? originOf(request.headers.referer);
      if (from && trusted.has(from)) return;
      if (!from) {
        return sendProblem(
          request,
          reply,
          "FORBIDDEN",
          "Cross-site request refused: send an Origin header from a trusted origin with cookie-authenticated writes",
        );
      }
      const advice = untrustedOriginAdvice(from, baseUrl);
      request.log.warn({ origin: from }, `refused a write: ${advice}`);
      return sendProblem(request, reply, "FORBIDDEN", `Cross-site request refused: ${advice}`);
    });
  },
);
