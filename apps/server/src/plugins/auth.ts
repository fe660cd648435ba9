import type { IncomingHttpHeaders } from "node:http";
import type { Role } from "@switchboard/shared";
import { fromNodeHeaders } from "better-auth/node";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Auth } from "../auth/auth";
import { findMemberRole } from "../auth/repo";
import { authRequestStore } from "../auth/request-origin";
import type { SessionCache, SessionPrincipal } from "../auth/session-cache";
import type { Db } from "../db/client";
import type { Clock } from "../lib/clock";
import type { Actor, Origin, ServiceContext, ServiceDeps } from "../lib/context";
import { authenticateApiKey } from "../modules/keys/service";
import { sendProblem } from "./problem";
import type { AuthLimiter } from "./rate-limit";

/** Who the request acts for, resolved once per `/mcp/*` request. */
export interface Principal {
  tenantId: string;
  actor: Actor;
  /** The member's role; null for an API key. */
  role: Role | null;
  user: { id: string; email: string; name: string } | null;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Roles allowed to call the route; any member of the active organization when absent. */
    roles?: readonly Role[];
    /** How `/mcp/*` callers prove who they are: a session cookie (the default) or an API key. */
    auth?: "session" | "api_key";
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const originOf = (request: FastifyRequest): Origin => ({
  correlationId: request.id,
  ip: request.ip,
  userAgent: request.headers["user-agent"]?.slice(0, 512) ?? null,
});

/** Builds the context a service verb gets from an authenticated request. */
export function serviceContext(request: FastifyRequest, deps: ServiceDeps): ServiceContext {
  const p = request.principal;
  if (!p) throw new Error("serviceContext called on a route without a principal");
  return {
    ...originOf(request),
    tenantId: p.tenantId,
    actor: p.actor,
    role: p.role,
    ...deps,
    log: request.log,
  };
}

const ROLE_NAMES: Record<Role, string> = { owner: "owners", admin: "admins", member: "members" };

/**
 * Mounts Better-Auth at `/api/auth/*` and exposes `authenticate`, the onRequest hook that guards
 * every `/mcp/*` route: 401 without a session, 403 without an active organization or role.
 */
const GUARDED_AUTH_PATHS = new Set(["/api/auth/sign-in/email", "/api/auth/sign-up/email"]);

export const authPlugin = fp(
  async (
    app: FastifyInstance,
    {
      auth,
      db,
      clock,
      sessions,
      limiter,
    }: { auth: Auth; db: Db; clock: Clock; sessions: SessionCache; limiter: AuthLimiter },
  ) => {
    app.decorateRequest("principal", null);

    app.route({
      method: ["GET", "POST"],
      url: "/api/auth/*",
      schema: { hide: true },
      handler: async (request, reply) => {
        const url = new URL(request.url, `http://${request.headers.host ?? "localhost"}`);
        if (request.method === "POST" && GUARDED_AUTH_PATHS.has(url.pathname)) {
          const email = (request.body as { email?: unknown } | undefined)?.email;
          const limited = await limiter.check(request, typeof email === "string" ? email : undefined);
          if (limited) {
            reply.header("retry-after", limited.retryAfterSeconds);
            return sendProblem(
              request,
              reply,
              "RATE_LIMITED",
              `Too many sign-in attempts; retry in ${limited.retryAfterSeconds} seconds`,
            );
          }
        }
        const headers = fromNodeHeaders(request.headers);
        const body =
          request.method === "POST" && request.body !== undefined ? JSON.stringify(request.body) : undefined;
        const req = new Request(url, { method: request.method, headers, body });
        const res = await authRequestStore.run({ ...originOf(request), headers }, () => auth.handler(req));
        // A sign-out, an organization switch or a profile change must show on the very next request.
        if (request.method === "POST" && request.headers.cookie)
          sessions.forgetCookie(request.headers.cookie);
        return relay(request, reply, res);
      },
    });

    // Better-Auth lists a user's invitations only once their email is verified, and Switchboard
    // sends no mail yet: the invitee's session email stands in, as it does for accepting.
    app.get("/api/me/invitations", { schema: { hide: true } }, async (request, reply) => {
      const session = await auth.api.getSession({ headers: fromNodeHeaders(request.headers) });
      if (!session)
        return sendProblem(request, reply, "UNAUTHORIZED", "Sign in first: this route needs a session");
      return auth.api.listUserInvitations({ query: { email: session.user.email } });
    });

    /**
     * Who a session cookie belongs to, in its active organization: from the cache, or from
     * Better-Auth and the membership table (then remembered). `setCookie` carries a renewed cookie.
     */
    async function resolveSession(headers: IncomingHttpHeaders): Promise<SessionCheck> {
      const cookie = headers.cookie;
      const known = cookie ? sessions.get(cookie) : undefined;
      if (known) return { principal: known };
      const result = await auth.api.getSession({ headers: fromNodeHeaders(headers), returnHeaders: true });
      const session = result.response;
      // A renewed cookie, or one Better-Auth clears, goes back with whatever the answer is.
      const setCookie = result.headers?.getSetCookie();
      if (!session)
        return { refused: "UNAUTHORIZED", detail: "Sign in first: this route needs a session", setCookie };
      const tenantId = session.session.activeOrganizationId;
      if (!tenantId) {
        return {
          refused: "FORBIDDEN",
          detail:
            "No active organization: create one or set one active (POST /api/auth/organization/set-active)",
          setCookie,
        };
      }
      const role = await findMemberRole(db, tenantId, session.user.id);
      if (!role)
        return { refused: "FORBIDDEN", detail: "You are not a member of the active organization", setCookie };
      const { id, email, name } = session.user;
      const principal = { user: { id, email, name }, tenantId, role };
      if (cookie) sessions.set(cookie, principal, new Date(session.session.expiresAt));
      return { principal, setCookie };
    }
    app.decorate("resolveSession", resolveSession);

    app.decorate("authenticate", async (request: FastifyRequest, reply: FastifyReply) => {
      const config = request.routeOptions.config;
      if (config.auth === "api_key") {
        const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
        const key = bearer ? await authenticateApiKey({ db, clock, key: bearer }) : null;
        if (!key) {
          return sendProblem(
            request,
            reply,
            "UNAUTHORIZED",
            "Send a valid, unrevoked, unexpired API key as Authorization: Bearer mcp_…",
          );
        }
        request.principal = {
          tenantId: key.tenantId,
          role: null,
          actor: { type: "api_key", keyId: key.keyId, serverId: key.serverId },
          user: null,
        };
        return;
      }
      const resolved = await resolveSession(request.headers);
      if (resolved.setCookie?.length) reply.header("set-cookie", resolved.setCookie);
      if ("refused" in resolved) return sendProblem(request, reply, resolved.refused, resolved.detail);
      const { user, tenantId, role } = resolved.principal;
      if (config.roles && !config.roles.includes(role)) {
        const allowed = config.roles.map((r) => ROLE_NAMES[r]).join(" and ");
        return sendProblem(
          request,
          reply,
          "FORBIDDEN",
          `Only ${allowed} of the organization may do this; you are a ${role}`,
        );
      }
      request.principal = {
        tenantId,
        role,
        actor: { type: "user", userId: user.id },
        user,
      };
    });
  },
);

/** A session resolved to its principal, or why it was refused. */
export type SessionCheck = (
  | { principal: SessionPrincipal }
  | { refused: "UNAUTHORIZED" | "FORBIDDEN"; detail: string }
) & { setCookie?: string[] | undefined };

declare module "fastify" {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
    /** Resolves a session cookie again; the events socket re-checks its session with it. */
    resolveSession: (headers: IncomingHttpHeaders) => Promise<SessionCheck>;
  }
}

/** Copies a Better-Auth response onto the reply; its errors become problem+json. */
async function relay(request: FastifyRequest, reply: FastifyReply, res: Response) {
  const cookies = res.headers.getSetCookie();
  if (cookies.length) reply.header("set-cookie", cookies);
  for (const [name, value] of res.headers) {
    if (name !== "set-cookie" && name !== "content-length") reply.header(name, value);
  }
  const text = await res.text();
  if (res.status < 400) return reply.code(res.status).send(text || null);
  let parsed: { code?: string; message?: string } = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // Better-Auth answered with plain text; use it as the detail below.
  }
  const code =
    res.status === 401
      ? "UNAUTHORIZED"
      : res.status === 403
        ? "FORBIDDEN"
        : res.status === 404
          ? "NOT_FOUND"
          : res.status === 405
            ? "METHOD_NOT_ALLOWED"
            : res.status === 429
              ? "RATE_LIMITED"
              : res.status >= 500
                ? "INTERNAL"
                : res.status === 409 || res.status === 422
                  ? "CONFLICT"
                  : "VALIDATION";
  const message = parsed.message ?? (text || res.statusText);
  return sendProblem(request, reply, code, message, {
    members: { message, ...(parsed.code ? { authCode: parsed.code } : {}) },
  });
}
