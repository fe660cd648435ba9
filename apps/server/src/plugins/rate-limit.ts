import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { AppError } from "../lib/errors";
import type { Metrics } from "../lib/metrics";
import type { RateLimitStore } from "./rate-limit-store";

export interface RateLimits {
  /** Requests a minute for an organization's owners and admins. */
  admin: number;
  /** Requests a minute for members. */
  member: number;
  /** Requests a minute for one API key. */
  apiKey: number;
  /** Sign-in and sign-up attempts a minute from one IP address. */
  authPerIp: number;
  /** Sign-in and sign-up attempts a minute for one email address. */
  authPerEmail: number;
}

const WINDOW_MS = 60_000;

/** Who a request counts against: its user or API key, never only its IP once authenticated. */
function keyOf(request: FastifyRequest): string {
  const actor = request.principal?.actor;
  if (actor?.type === "user") return `user:${actor.userId}`;
  if (actor?.type === "api_key") return `key:${actor.keyId}`;
  return `ip:${request.ip}`;
}

function limitOf(request: FastifyRequest, limits: RateLimits): number {
  const p = request.principal;
  if (p?.actor.type === "api_key") return limits.apiKey;
  if (p?.role === "owner" || p?.role === "admin") return limits.admin;
  return limits.member;
}

const tooMany = (max: number, after: string) =>
  new AppError("RATE_LIMITED", `Rate limit of ${max} requests a minute reached; retry in ${after}`);

/**
 * Role-based limits on `/mcp/*` (registered inside that scope, after authentication) with the
 * draft-standard RateLimit-* headers, and `authLimiter` for sign-in and sign-up.
 */
export const mcpRateLimitPlugin = fp(
  async (
    app: FastifyInstance,
    { limits, store, metrics }: { limits: RateLimits; store: RateLimitStore; metrics: Metrics },
  ) => {
    await app.register(rateLimit, {
      global: true,
      // After the onRequest authentication, before the body is read.
      hook: "preParsing",
      timeWindow: WINDOW_MS,
      max: (request) => limitOf(request, limits),
      keyGenerator: keyOf,
      store: function Store() {
        return store;
      } as unknown as new () => RateLimitStore,
      enableDraftSpec: true,
      onExceeded: () => metrics.rateLimited("api"),
      errorResponseBuilder: (_request, ctx) => tooMany(ctx.max, ctx.after),
    });
  },
  { encapsulate: false },
);

/**
 * A limit per IP address for routes anyone may call (a public registry catalog), in the same store
 * as the others under keys of its own.
 */
export const ipRateLimitPlugin = fp(
  async (
    app: FastifyInstance,
    { max, prefix, store }: { max: number; prefix: string; store: RateLimitStore },
  ) => {
    await app.register(rateLimit, {
      global: true,
      hook: "onRequest",
      timeWindow: WINDOW_MS,
      max,
      keyGenerator: (request) => `${prefix}:${request.ip}`,
      store: function Store() {
        return store;
      } as unknown as new () => RateLimitStore,
      enableDraftSpec: true,
      errorResponseBuilder: (_request, ctx) => tooMany(ctx.max, ctx.after),
    });
  },
  { encapsulate: false },
);

export interface AuthLimiter {
  /** Throws 429 when this IP or this email has tried too often; counts the attempt otherwise. */
  check(request: FastifyRequest, email: string | undefined): Promise<{ retryAfterSeconds: number } | null>;
}

/**
 * Limits password guessing: sign-in and sign-up attempts per IP and per email address. The IP is
 * counted first, and an address already over its limit is refused without counting the email, so
 * one address cannot create per-email windows at will (and fill the store with them).
 */
export function createAuthLimiter(store: RateLimitStore, limits: RateLimits, metrics: Metrics): AuthLimiter {
  const hit = (key: string) =>
    new Promise<{ current: number; ttl: number }>((resolve, reject) =>
      store.incr(key, (err, res) => (err || !res ? reject(err) : resolve(res)), WINDOW_MS, 0),
    );
  const refusal = (ttl: number) => ({ retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) });
  return {
    async check(request, email) {
      const ip = await hit(`auth-ip:${request.ip}`);
      if (ip.current > limits.authPerIp) {
        metrics.rateLimited("auth_ip");
        return refusal(ip.ttl);
      }
      if (!email) return null;
      const byEmail = await hit(`auth-email:${email.trim().toLowerCase()}`);
      if (byEmail.current <= limits.authPerEmail) return null;
      metrics.rateLimited("auth_email");
      return refusal(byEmail.ttl);
    },
  };
}
