import { fromNodeHeaders } from "better-auth/node";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type Db, ping } from "../../db/client";
import type { EventBus } from "../../lib/bus";
import { originOf } from "../../lib/service-context";
import { DATABASE_RETRY_AFTER_SECONDS } from "../../plugins/errors";
import { sendProblem } from "../../plugins/problem";
import type { AuthLimiter } from "../../plugins/rate-limit";
import { untrustedOriginAdvice } from "../../plugins/security";
import { type Auth, invitationLink } from "./better-auth";
import { authBodyIssues, authInputIssues, authQueryIssues } from "./input";
import {
  findInvitation,
  findMemberRole,
  findOrganizationId,
  findSessionUserId,
  markEmailVerified,
} from "./repo";
import { authRequestStore } from "./request-origin";
import { type SessionCache, sessionTokenOf, storedToken } from "./session-cache";

/** Endpoints that check a credential or send mail: limited per address and per account. */
const CREDENTIAL_PATHS = new Set(
  [
    "sign-in/email",
    "sign-up/email",
    "change-password",
    "change-email",
    "set-password",
    "delete-user",
    "request-password-reset",
    "reset-password",
    "send-verification-email",
  ].map((p) => `/api/auth/${p}`),
);
/** Answers that hold session tokens: the cookie is the only place a token goes after sign-in. */
const TOKEN_ANSWERS = new Set(["/api/auth/get-session", "/api/auth/list-sessions"]);

interface AuthRouteDeps {
  auth: Auth;
  sessions: SessionCache;
  limiter: AuthLimiter;
  db: Db;
  bus: EventBus;
  baseUrl: string;
  trustedOrigins: string[];
}

/**
 * Better-Auth at `/api/auth/*` (accounts, sessions, organizations, members, invitations), relayed
 * between Fastify and its Web `Request`/`Response` handler, with what Switchboard adds around it:
 * input bounded before it reaches Better-Auth, credential endpoints limited, every session change
 * told to every instance, session tokens kept out of answers; and the invitee's own routes.
 */
export async function authRoutes(app: FastifyInstance, deps: AuthRouteDeps) {
  const { auth, sessions, limiter, db, bus } = deps;

  app.route({
    method: ["GET", "POST"],
    url: "/api/auth/*",
    schema: { hide: true },
    handler: async (request, reply) => {
      const url = new URL(request.url, `http://${request.headers.host ?? "localhost"}`);
      const issues = [
        ...authInputIssues(request.body, "body"),
        ...authInputIssues(Object.fromEntries(url.searchParams), "query"),
        ...(request.method === "GET"
          ? authQueryIssues(url.pathname, url.searchParams)
          : authBodyIssues(url.pathname, request.body)),
      ];
      if (issues.length) {
        return sendProblem(request, reply, "VALIDATION", `Invalid ${issues.map((i) => i.path).join(", ")}`, {
          issues,
        });
      }
      const token = sessionTokenOf(request.headers.cookie);
      if (request.method === "POST" && CREDENTIAL_PATHS.has(url.pathname)) {
        const email = (request.body as { email?: unknown } | undefined)?.email;
        const account =
          typeof email === "string" ? email : token ? `session:${storedToken(token)}` : undefined;
        const limited = await limiter.check(request, account);
        if (limited) {
          reply.header("retry-after", limited.retryAfterSeconds);
          return sendProblem(
            request,
            reply,
            "RATE_LIMITED",
            `Too many attempts; retry in ${limited.retryAfterSeconds} seconds`,
          );
        }
      }
      // Better-Auth clears the active organization of a user who asks for one they are not in, and
      // then refuses: a cross-site GET, or a refused switch, must not change a session, so that
      // question is answered here.
      const named =
        request.method === "GET" && url.pathname.startsWith("/api/auth/organization/")
          ? Object.fromEntries(url.searchParams)
          : request.method === "POST" && url.pathname === "/api/auth/organization/set-active"
            ? request.body
            : undefined;
      if (named && token) {
        const refused = await notAMember(named, token);
        if (refused) return sendProblem(request, reply, "FORBIDDEN", refused);
      }
      // Whose sessions a write may change, found before it runs (a sign-out deletes the session).
      const userId =
        request.method === "POST" && token
          ? (sessions.userOf(token) ?? (await findSessionUserId(db, storedToken(token))))
          : null;
      const headers = forwardedHeaders(request);
      const body =
        request.method === "POST" && request.body !== undefined ? JSON.stringify(request.body) : undefined;
      const req = new Request(url, { method: request.method, headers, body });
      const res = await authRequestStore.run({ ...originOf(request), headers }, () => auth.handler(req));
      // Better-Auth answers a database outage with its own 500: say it is an outage, and when to retry.
      if (
        res.status >= 500 &&
        !(await ping(db).then(
          () => true,
          () => false,
        ))
      ) {
        reply.header("retry-after", DATABASE_RETRY_AFTER_SECONDS);
        return sendProblem(request, reply, "UNAVAILABLE", "The database is not reachable; retry shortly");
      }
      // A sign-out, an organization switch or a profile change must show on the very next request,
      // on every instance.
      if (request.method === "POST" && token) {
        await bus
          .publish({ type: "sessions.changed", token, ...(userId ? { userId } : {}) })
          .catch((err: unknown) => request.log.warn({ err }, "could not publish sessions.changed"));
      }
      return relay(request, reply, res, { stripTokens: TOKEN_ANSWERS.has(url.pathname), ...deps });
    },
  });

  /**
   * Why a signed-in user may not read, or switch to, the organization a query or body names; null
   * when they may. Better-Auth's endpoints differ in which of `organizationId` and
   * `organizationSlug` wins when both are sent, so each one sent must name an organization of the
   * user's.
   */
  async function notAMember(names: unknown, token: string): Promise<string | null> {
    const { organizationId, organizationSlug } = (names ?? {}) as Record<string, unknown>;
    const ids: (string | null)[] = [];
    if (typeof organizationId === "string" && organizationId) ids.push(organizationId);
    if (typeof organizationSlug === "string" && organizationSlug)
      ids.push(await findOrganizationId(db, organizationSlug));
    if (!ids.length) return null;
    const userId = sessions.userOf(token) ?? (await findSessionUserId(db, storedToken(token)));
    if (!userId) return null; // no session: Better-Auth answers 401 itself
    for (const id of ids) {
      if (!id || !(await findMemberRole(db, id, userId))) return "You are not a member of that organization";
    }
    return null;
  }

  const signedIn = async (request: FastifyRequest) =>
    auth.api.getSession({ headers: fromNodeHeaders(request.headers), query: { disableRefresh: true } });

  // The invitee's pending invitations, for an address they have verified (else anyone who signed
  // up first with an invited address would see its invitations), each with its link.
  app.get("/api/me/invitations", { schema: { hide: true } }, async (request, reply) => {
    const session = await signedIn(request);
    if (!session)
      return sendProblem(request, reply, "UNAUTHORIZED", "Sign in first: this route needs a session");
    if (!session.user.emailVerified) {
      return sendProblem(
        request,
        reply,
        "FORBIDDEN",
        "Verify your email address first (the link was mailed to you), or open the invitation link you were given",
      );
    }
    const invitations = await auth.api.listUserInvitations({ query: { email: session.user.email } });
    return invitations.map((i) => ({ ...i, link: invitationLink(deps.baseUrl, i.id) }));
  });

  /**
   * Accepts or declines an invitation from its link. The link carries the invitation's id, which
   * only the invited mailbox (or whoever the inviting admin handed it to) has: opening it signed in
   * with the invited address proves the address, so it is marked verified, then Better-Auth's own
   * accept or reject runs, which requires a verified address.
   */
  const answerInvitation =
    (verb: "accept" | "reject") => async (request: FastifyRequest, reply: FastifyReply) => {
      const { id } = request.params as { id: string };
      const session = await signedIn(request);
      if (!session)
        return sendProblem(request, reply, "UNAUTHORIZED", "Sign in with the invited address first");
      const found = /^[\w-]{1,100}$/.test(id) ? await findInvitation(db, id) : null;
      if (found?.status !== "pending" || found.expiresAt <= new Date()) {
        return sendProblem(
          request,
          reply,
          "NOT_FOUND",
          "This invitation does not exist, was answered, or has expired",
        );
      }
      if (found.email.toLowerCase() !== session.user.email.toLowerCase()) {
        return sendProblem(
          request,
          reply,
          "FORBIDDEN",
          `This invitation is for another address: sign in with the address it was sent to`,
        );
      }
      if (!session.user.emailVerified) {
        await markEmailVerified(db, session.user.id);
        await bus.publish({ type: "sessions.changed", userId: session.user.id }).catch(() => {});
      }
      const url = new URL(`/api/auth/organization/${verb}-invitation`, deps.baseUrl);
      const headers = fromNodeHeaders(request.headers);
      headers.set("content-type", "application/json");
      const req = new Request(url, { method: "POST", headers, body: JSON.stringify({ invitationId: id }) });
      const res = await authRequestStore.run({ ...originOf(request), headers }, () => auth.handler(req));
      if (res.ok) {
        await bus.publish({ type: "sessions.changed", userId: session.user.id }).catch(() => {});
      }
      return relay(request, reply, res, { stripTokens: false, ...deps });
    };
  app.post("/api/invitations/:id/accept", { schema: { hide: true } }, answerInvitation("accept"));
  app.post("/api/invitations/:id/reject", { schema: { hide: true } }, answerInvitation("reject"));
}

/**
 * The request's headers as Better-Auth gets them, with the client's address as Switchboard judged
 * it (X-Forwarded-For only from the proxies TRUST_PROXY names): Better-Auth records it on sessions.
 */
function forwardedHeaders(request: FastifyRequest): Headers {
  const headers = fromNodeHeaders(request.headers);
  headers.delete("x-real-ip");
  headers.set("x-forwarded-for", request.ip);
  return headers;
}

/** Session answers with their tokens taken out (the cookie holds the session; no answer needs it). */
function withoutTokens(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTokens);
  if (!value || typeof value !== "object") return value;
  const { token: _token, ...rest } = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [k, k === "session" ? withoutTokens(v) : v]),
  );
}

/** Copies a Better-Auth response onto the reply; its errors become problem+json. */
async function relay(
  request: FastifyRequest,
  reply: FastifyReply,
  res: Response,
  {
    stripTokens,
    baseUrl,
    trustedOrigins,
  }: { stripTokens: boolean; baseUrl: string; trustedOrigins: string[] },
) {
  const cookies = res.headers.getSetCookie();
  if (cookies.length) reply.header("set-cookie", cookies);
  for (const [name, value] of res.headers) {
    if (name !== "set-cookie" && name !== "content-length") reply.header(name, value);
  }
  const text = await res.text();
  if (res.status < 400) {
    if (stripTokens && text) {
      try {
        return reply.code(res.status).send(JSON.stringify(withoutTokens(JSON.parse(text))));
      } catch {
        // Not JSON after all: nothing to strip.
      }
    }
    return reply.code(res.status).send(text || null);
  }
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
  let message = parsed.message ?? (text || res.statusText);
  if (parsed.code === "INVALID_ORIGIN") {
    // The first thing a new user meets when the page's address is not BASE_URL's: say what to do.
    const from = request.headers.origin?.slice(0, 200) ?? "(no Origin header)";
    message = untrustedOriginAdvice(from, baseUrl);
    request.log.warn({ origin: from, trusted: trustedOrigins }, `refused an account request: ${message}`);
  }
  return sendProblem(request, reply, code, message, {
    members: { message, ...(parsed.code ? { authCode: parsed.code } : {}) },
  });
}
