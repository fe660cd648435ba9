import type { IncomingHttpHeaders } from "node:http";
import type { Role } from "@switchboard/shared";
import type { Actor } from "./context";

/** Who a request acts for, resolved once per authenticated request. */
export interface Principal {
  tenantId: string;
  actor: Actor;
  /** The member's role; null for an API key. */
  role: Role | null;
  user: { id: string; email: string; name: string } | null;
}

/** What a session resolves to: its user, active organization and role there. */
export interface SessionPrincipal {
  user: { id: string; email: string; name: string };
  tenantId: string;
  role: Role;
}

/** A session resolved to its principal, or why it was refused; `setCookie` carries a renewed cookie. */
export type SessionCheck = (
  | { principal: SessionPrincipal }
  | { refused: "UNAUTHORIZED" | "FORBIDDEN"; detail: string }
) & { setCookie?: string[] | undefined };

export type ResolveSession = (headers: IncomingHttpHeaders) => Promise<SessionCheck>;

/** A key that opens something: which organization's server it was issued for. */
export interface VerifiedKey {
  keyId: string;
  tenantId: string;
  serverId: string;
  /** The only tools the key may use through the gateway; null for every tool. */
  tools: string[] | null;
}

export type KeyRefusal = "malformed" | "unknown" | "revoked" | "expired";

/** A presented API key's verdict: the key, or why it opens nothing. */
export type KeyVerification = { ok: true; key: VerifiedKey } | { ok: false; reason: KeyRefusal };

export type VerifyKey = (token: string) => Promise<KeyVerification>;

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the authenticate hook on the routes that need one. */
    principal: Principal | null;
  }
}
