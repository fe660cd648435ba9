import { LRUCache } from "lru-cache";
import type { EventBus } from "../../lib/bus";
import type { SessionPrincipal } from "../../lib/principal";

interface Entry {
  principal: SessionPrincipal;
  /** Until when this entry may answer (the cache's time to live). */
  until: number;
  /** When the session itself runs out. */
  sessionExpiresAt: number;
}

const SESSION_COOKIE = /(?:^|;\s*)(?:__Secure-)?better-auth\.session_token=([^;]+)/;
/**
 * A signed session token as Better-Auth issues it: the token, a dot, and the HMAC-SHA256 of it in
 * base64 (44 characters, the last `=`), which is all Better-Auth verifies a cookie against.
 */
const SIGNED_TOKEN = /^[A-Za-z0-9_-]{1,255}\.[A-Za-z0-9+/]{43}=$/;

/**
 * The session a Cookie header carries (Better-Auth's signed token), whatever other cookies come
 * with it; undefined for a value of any other shape, which no session has (and which must not
 * reach a query: a NUL in it would fail the statement).
 */
export function sessionTokenOf(cookie: string | undefined): string | undefined {
  const value = cookie ? SESSION_COOKIE.exec(cookie)?.[1] : undefined;
  if (!value) return undefined;
  let token: string;
  try {
    token = decodeURIComponent(value);
  } catch {
    return undefined;
  }
  return SIGNED_TOKEN.test(token) ? token : undefined;
}

/** The token as the session table keeps it: the signed cookie value without its signature. */
export const storedToken = (signed: string) => signed.split(".")[0] ?? signed;

/**
 * Remembers, for a few seconds, who a session belongs to, so that a busy dashboard does not cost
 * three queries and a Better-Auth round trip per request. Entries are keyed by the session, not
 * the Cookie header, so a change to one session is found however its cookies are sent. Whatever
 * changes a session or a membership is published as `sessions.changed` on the bus, and every
 * instance forgets the entries it touches at once (`ttlMs` only bounds what a lost message can
 * cost). A `ttlMs` of 0 turns the cache off.
 */
export function createSessionCache({
  ttlMs,
  max = 10_000,
  now = Date.now,
  bus,
}: {
  ttlMs: number;
  max?: number;
  now?: () => number;
  bus?: EventBus;
}) {
  const entries = new LRUCache<string, Entry>({ max });
  const forgetWhere = (match: (p: SessionPrincipal) => boolean) => {
    for (const [token, e] of entries.entries()) if (match(e.principal)) entries.delete(token);
  };
  const cache = {
    /** Who the session of this Cookie header is, if remembered and still valid. */
    get(cookie: string | undefined): SessionPrincipal | undefined {
      const token = sessionTokenOf(cookie);
      const e = token ? entries.get(token) : undefined;
      if (!token || !e) return undefined;
      const t = now();
      if (e.until <= t || e.sessionExpiresAt <= t) {
        entries.delete(token);
        return undefined;
      }
      return e.principal;
    },
    set(cookie: string | undefined, principal: SessionPrincipal, sessionExpiresAt: Date) {
      const token = sessionTokenOf(cookie);
      if (ttlMs <= 0 || !token) return;
      entries.set(token, { principal, until: now() + ttlMs, sessionExpiresAt: sessionExpiresAt.getTime() });
    },
    /** The user of a remembered session, for telling the other instances whose sessions changed. */
    userOf: (token: string) => entries.get(token)?.principal.user.id,
    forgetToken: (token: string) => entries.delete(token),
    forgetUser: (userId: string) => forgetWhere((p) => p.user.id === userId),
    forgetTenant: (tenantId: string) => forgetWhere((p) => p.tenantId === tenantId),
  };
  bus?.subscribe((e) => {
    if (e.type !== "sessions.changed") return;
    if (e.token) cache.forgetToken(e.token);
    if (e.userId) cache.forgetUser(e.userId);
    if (e.tenantId) cache.forgetTenant(e.tenantId);
  });
  return cache;
}

export type SessionCache = ReturnType<typeof createSessionCache>;
