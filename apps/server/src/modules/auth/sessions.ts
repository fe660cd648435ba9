import type { IncomingHttpHeaders } from "node:http";
import { fromNodeHeaders } from "better-auth/node";
import type { Db } from "../../db/client";
import type { ResolveSession, SessionCheck } from "../../lib/principal";
import type { Auth } from "./better-auth";
import { findMemberRole } from "./repo";
import type { SessionCache } from "./session-cache";

/**
 * Who a session cookie belongs to, in its active organization: from the cache, or from
 * Better-Auth and the membership table (then remembered).
 */
export function createSessionResolver({
  auth,
  db,
  sessions,
}: {
  auth: Auth;
  db: Db;
  sessions: SessionCache;
}): ResolveSession {
  return async (headers: IncomingHttpHeaders): Promise<SessionCheck> => {
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
  };
}
