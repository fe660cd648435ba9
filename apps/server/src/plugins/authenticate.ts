import type { Role } from "@switchboard/shared";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { KeyRefusal, ResolveSession, VerifyKey } from "../lib/principal";
import { sendProblem } from "./problem";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Roles allowed to call the route; any member of the active organization when absent. */
    roles?: readonly Role[];
    /** How callers prove who they are: a session cookie (the default) or an API key. */
    auth?: "session" | "api_key";
  }
  interface FastifyInstance {
    /** The onRequest hook that resolves `request.principal`, or answers 401/403. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  }
}

const ROLE_NAMES: Record<Role, string> = { owner: "owners", admin: "admins", member: "members" };

const KEY_REFUSALS: Record<KeyRefusal, string> = {
  malformed: "Send an API key as Authorization: Bearer mcp_…",
  unknown: "This API key is not known: send a key issued by Switchboard as Authorization: Bearer mcp_…",
  revoked: "This API key has been revoked",
  expired: "This API key has expired",
};

/** The bearer token of an `Authorization: Bearer …` header, if any. */
export const bearerToken = (request: FastifyRequest): string | undefined =>
  /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];

/**
 * Decorates `authenticate`: a session cookie (or, for routes with `config.auth = "api_key"`, an
 * API key) becomes the request's principal; the route's `config.roles` gate it. How a session or
 * a key is resolved is passed in, so this plugin knows no module.
 */
export const authenticatePlugin = fp(
  async (
    app: FastifyInstance,
    { resolveSession, verifyKey }: { resolveSession: ResolveSession; verifyKey: VerifyKey },
  ) => {
    app.decorateRequest("principal", null);

    app.decorate("authenticate", async (request: FastifyRequest, reply: FastifyReply) => {
      const config = request.routeOptions.config;
      if (config.auth === "api_key") {
        const token = bearerToken(request);
        const verdict = token ? await verifyKey(token) : ({ ok: false, reason: "malformed" } as const);
        if (!verdict.ok) return sendProblem(request, reply, "UNAUTHORIZED", KEY_REFUSALS[verdict.reason]);
        const { key } = verdict;
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
      request.principal = { tenantId, role, actor: { type: "user", userId: user.id }, user };
    });
  },
);
