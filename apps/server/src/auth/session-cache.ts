import type { Role } from "@switchboard/shared";
import { LRUCache } from "lru-cache";

/** What a session resolves to for `/mcp/*`: its user, active organization and role there. */
export interface SessionPrincipal {
  user: { id: string; email: string; name: string };
  tenantId: string;
  role: Role;
}

interface Entry {
  principal: SessionPrincipal;
  /** Until when this entry may answer (the cache's time to live). */
  until: number;
  /** When the session itself runs out. */
  sessionExpiresAt: number;
}

/**
 * Remembers, for a few seconds, who a session cookie belongs to, so that a busy dashboard does not
 * cost three queries and a Better-Auth round trip per request. Anything that changes a session or
 * a membership in this process forgets the entries it touches at once; other instances see the
 * change when their entry runs out (`ttlMs`). A `ttlMs` of 0 turns the cache off.
 */
export function createSessionCache({
  ttlMs,
  max = 10_000,
  now = Date.now,
}: {
  ttlMs: number;
  max?: number;
  now?: () => number;
}) {
  const entries = new LRUCache<string, Entry>({ max });
  const forgetWhere = (match: (p: SessionPrincipal) => boolean) => {
    for (const [cookie, e] of entries.entries()) if (match(e.principal)) entries.delete(cookie);
  };
  return {
    get(cookie: string): SessionPrincipal | undefined {
      const e = entries.get(cookie);
      if (!e) return undefined;
      const t = now();
      if (e.until <= t || e.sessionExpiresAt <= t) {
        entries.delete(cookie);
        return undefined;
      }
      return e.principal;
    },
    set(cookie: string, principal: SessionPrincipal, sessionExpiresAt: Date) {
      if (ttlMs <= 0) return;
      entries.set(cookie, { principal, until: now() + ttlMs, sessionExpiresAt: sessionExpiresAt.getTime() });
    },
    /** Forgets this cookie's entry and every other session of the same user. */
    forgetCookie(cookie: string) {
      const e = entries.get(cookie);
      entries.delete(cookie);
      if (e) forgetWhere((p) => p.user.id === e.principal.user.id);
    },
    forgetUser: (userId: string) => forgetWhere((p) => p.user.id === userId),
    forgetTenant: (tenantId: string) => forgetWhere((p) => p.tenantId === tenantId),
  };
}

export type SessionCache = ReturnType<typeof createSessionCache>;
