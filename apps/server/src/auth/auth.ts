import { type BetterAuthOptions, betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { organization } from "better-auth/plugins";
import type { FastifyBaseLogger } from "fastify";
import type { Config } from "../config";
import type { Db } from "../db/client";
import * as schema from "../db/schema";
import type { Actor } from "../lib/context";
import { type AuditEntry, recordAudit } from "../modules/audit/service";
import { findFirstOrganizationId } from "./repo";
import { authRequestStore } from "./request-origin";
import type { SessionCache } from "./session-cache";

/** Members an organization may have. */
export const MEMBERSHIP_LIMIT = 10_000;

export type Auth = ReturnType<typeof createAuth>;

/**
 * Better-Auth: email + password accounts, organizations as tenants (roles owner/admin/member),
 * sessions that end after `session.ttlSeconds` without activity and are renewed by activity.
 */
export function createAuth({
  db,
  config,
  log,
  sessions,
}: {
  db: Db;
  config: Config;
  log: FastifyBaseLogger;
  /** Forgotten where a membership changes, so that a removed member is refused at once. */
  sessions: SessionCache;
}) {
  const audit = async (entry: Omit<AuditEntry, "origin" | "actor"> & { actor?: Actor }) => {
    const req = authRequestStore.getStore();
    const actor = entry.actor ?? (req ? await sessionActor(req.headers) : null);
    try {
      await recordAudit(db, {
        ...entry,
        actor: actor ?? { type: "system", name: "auth" },
        origin: {
          correlationId: req?.correlationId ?? null,
          ip: req?.ip ?? null,
          userAgent: req?.userAgent ?? null,
        },
      });
    } catch (err) {
      log.error({ err, action: entry.action }, "could not write audit row for an auth event");
      throw err;
    }
  };

  const options = {
    baseURL: config.baseUrl,
    basePath: "/api/auth",
    secret: config.authSecret,
    trustedOrigins: [config.baseUrl, ...config.corsOrigins],
    database: drizzleAdapter(db, { provider: "pg", schema }),
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 128 },
    session: {
      // Idle timeout: a session lives `ttlSeconds` past its last renewal, and any use renews it
      // once `refreshSeconds` have passed since the previous renewal.
      expiresIn: config.session.ttlSeconds,
      updateAge: config.session.refreshSeconds,
    },
    advanced: {
      useSecureCookies: config.secureCookies,
      // Better-Auth skips its Origin check when NODE_ENV=test; tests must see production behaviour.
      disableOriginCheck: false,
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax" },
      database: { generateId: () => crypto.randomUUID() },
    },
    databaseHooks: {
      session: {
        create: {
          // A new session starts in the user's oldest organization, so signing in is all it takes.
          before: async (session) => ({
            data: { ...session, activeOrganizationId: await findFirstOrganizationId(db, session.userId) },
          }),
        },
      },
    },
    telemetry: { enabled: false },
    logger: {
      log: (level, message, ...args) => {
        const fn = level === "error" ? log.error : level === "warn" ? log.warn : log.debug;
        fn.call(log, { auth: args.length ? args : undefined }, message);
      },
    },
    plugins: [
      organization({
        creatorRole: "owner",
        // Switchboard sends no mail: an invitee proves who they are by signing in with the invited address.
        requireEmailVerificationOnInvitation: false,
        // Better-Auth stops at 100 members by default; a tenant may have far more people than that.
        membershipLimit: MEMBERSHIP_LIMIT,
        organizationHooks: {
          afterCreateOrganization: async ({ organization: org, user }) =>
            audit({
              tenantId: org.id,
              actor: { type: "user", userId: user.id },
              action: "organization.create",
              target: { type: "organization", id: org.id },
              changes: { name: org.name, slug: org.slug },
            }),
          afterUpdateOrganization: async ({ organization: org, user, member }) => {
            if (!org) return;
            await audit({
              tenantId: member.organizationId,
              actor: { type: "user", userId: user.id },
              action: "organization.update",
              target: { type: "organization", id: org.id },
              changes: { name: org.name, slug: org.slug },
            });
          },
          afterDeleteOrganization: async ({ organization: org, user }) => {
            sessions.forgetTenant(org.id);
            await audit({
              tenantId: org.id,
              actor: { type: "user", userId: user.id },
              action: "organization.delete",
              target: { type: "organization", id: org.id },
              changes: { name: org.name, slug: org.slug },
            });
          },
          afterAddMember: async ({ member, user }) =>
            audit({
              tenantId: member.organizationId,
              action: "member.add",
              target: { type: "member", id: member.id },
              changes: { userId: user.id, email: user.email, role: member.role },
            }),
          afterRemoveMember: async ({ member, user }) => {
            sessions.forgetUser(member.userId);
            await audit({
              tenantId: member.organizationId,
              action: "member.remove",
              target: { type: "member", id: member.id },
              changes: { userId: user.id, email: user.email, role: member.role },
            });
          },
          afterUpdateMemberRole: async ({ member, previousRole, user }) => {
            sessions.forgetUser(member.userId);
            await audit({
              tenantId: member.organizationId,
              action: "member.role_update",
              target: { type: "member", id: member.id },
              changes: { userId: user.id, email: user.email, role: { from: previousRole, to: member.role } },
            });
          },
          afterCreateInvitation: async ({ invitation, inviter }) =>
            audit({
              tenantId: invitation.organizationId,
              actor: { type: "user", userId: inviter.id },
              action: "invitation.create",
              target: { type: "invitation", id: invitation.id },
              changes: { email: invitation.email, role: invitation.role },
            }),
          afterAcceptInvitation: async ({ invitation, member, user }) =>
            audit({
              tenantId: invitation.organizationId,
              actor: { type: "user", userId: user.id },
              action: "invitation.accept",
              target: { type: "invitation", id: invitation.id },
              changes: { email: user.email, role: member.role, memberId: member.id },
            }),
          afterRejectInvitation: async ({ invitation, user }) =>
            audit({
              tenantId: invitation.organizationId,
              actor: { type: "user", userId: user.id },
              action: "invitation.reject",
              target: { type: "invitation", id: invitation.id },
              changes: { email: invitation.email },
            }),
          afterCancelInvitation: async ({ invitation, cancelledBy }) =>
            audit({
              tenantId: invitation.organizationId,
              actor: { type: "user", userId: cancelledBy.id },
              action: "invitation.cancel",
              target: { type: "invitation", id: invitation.id },
              changes: { email: invitation.email },
            }),
        },
      }),
    ],
  } satisfies BetterAuthOptions;

  const auth = betterAuth(options);

  async function sessionActor(headers: Headers): Promise<Actor | null> {
    const s = await auth.api.getSession({ headers, query: { disableRefresh: true } });
    return s ? { type: "user", userId: s.user.id } : null;
  }

  return auth;
}
