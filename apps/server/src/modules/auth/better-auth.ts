import { type BetterAuthOptions, betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { organization } from "better-auth/plugins";
import type { Config } from "../../config";
import type { Db } from "../../db/client";
import * as schema from "../../db/schema";
import type { EventBus, InternalEvent } from "../../lib/bus";
import type { Actor } from "../../lib/context";
import type { Logger } from "../../lib/log";
import type { Mailer } from "../../lib/mailer";
import { type AuditEntry, recordAudit } from "../audit/service";
import { findFirstOrganizationId } from "./repo";
import { authRequestStore } from "./request-origin";

/** Members an organization may have. */
export const MEMBERSHIP_LIMIT = 10_000;

export type Auth = ReturnType<typeof createAuth>;

/** The dashboard page where an invitee accepts or declines an invitation. */
export const invitationLink = (baseUrl: string, invitationId: string) =>
  `${baseUrl}/invitations/${encodeURIComponent(invitationId)}`;

/**
 * What of a Better-Auth log argument may be logged: an error's name, code and message without the
 * query parameters a failed query carries (session tokens among them).
 */
export function scrubAuthLog(arg: unknown): unknown {
  if (arg instanceof Error) {
    const { code } = arg as { code?: unknown };
    return { name: arg.name, ...(code !== undefined ? { code } : {}), message: scrubQuery(arg.message) };
  }
  return typeof arg === "string" ? scrubQuery(arg) : "[omitted]";
}
const scrubQuery = (text: string) => text.replace(/\s*params:[\s\S]*$/, " [params redacted]");

/**
 * Better-Auth: email + password accounts, organizations as tenants (roles owner/admin/member),
 * sessions that end after `session.ttlSeconds` without activity and are renewed by activity.
 */
export function createAuth({
  db,
  config,
  log,
  bus,
  mailer,
}: {
  db: Db;
  config: Config;
  log: Logger;
  /** Told when an organization is deleted, so every instance forgets its keys. */
  bus: EventBus;
  /** Sends verification and invitation links (or logs them, without SMTP). */
  mailer: Mailer;
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

  /** Tells every instance (its own first); a lost message costs at most a cache's time to live. */
  const tell = (event: InternalEvent) =>
    bus.publish(event).catch((err: unknown) => log.warn({ err, event: event.type }, "could not publish"));

  const options = {
    baseURL: config.baseUrl,
    basePath: "/api/auth",
    secret: config.authSecret,
    trustedOrigins: config.trustedOrigins,
    database: drizzleAdapter(db, { provider: "pg", schema }),
    emailAndPassword: {
      enabled: true,
      minPasswordLength: 8,
      maxPasswordLength: 128,
      // Sign-up answers the same for a new and a taken address (no session either way), so that
      // it tells nobody which addresses have accounts; the dashboard signs in right after.
      autoSignIn: false,
    },
    emailVerification: {
      sendOnSignUp: true,
      // A link is a bearer of the address, not of the account: without SMTP it sits in the log.
      autoSignInAfterVerification: false,
      sendVerificationEmail: async ({ user, url }) =>
        mailer.send({
          to: user.email,
          subject: "Verify your email address for Switchboard",
          text: `Open this link to verify ${user.email}:\n\n${url}\n\nIf you did not sign up for Switchboard, ignore this mail.`,
          link: url,
        }),
    },
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
        fn.call(log, { auth: args.length ? args.map(scrubAuthLog) : undefined }, scrubQuery(String(message)));
      },
    },
    plugins: [
      organization({
        creatorRole: "owner",
        // An invitation is for an address someone proved is theirs: signing up first with an invited
        // address gets nothing. The invitation link itself proves it too (see modules/auth/routes.ts).
        requireEmailVerificationOnInvitation: true,
        sendInvitationEmail: async ({ id, email, organization: org, inviter, role }) => {
          const link = invitationLink(config.baseUrl, id);
          await mailer.send({
            to: email,
            subject: `${inviter.user.name} invited you to ${org.name} on Switchboard`,
            text: `${inviter.user.name} invited you to join ${org.name} as ${role ?? "member"}.\n\nSign in or sign up with ${email}, then open:\n\n${link}`,
            link,
          });
        },
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
            // The gateway finds servers by the organization's slug: its URLs move with a new one.
            await tell({ type: "tenant.updated", tenantId: org.id });
            await audit({
              tenantId: member.organizationId,
              actor: { type: "user", userId: user.id },
              action: "organization.update",
              target: { type: "organization", id: org.id },
              changes: { name: org.name, slug: org.slug },
            });
          },
          afterDeleteOrganization: async ({ organization: org, user }) => {
            await tell({ type: "sessions.changed", tenantId: org.id });
            await tell({ type: "tenant.deleted", tenantId: org.id });
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
            await tell({ type: "sessions.changed", userId: member.userId });
            await audit({
              tenantId: member.organizationId,
              action: "member.remove",
              target: { type: "member", id: member.id },
              changes: { userId: user.id, email: user.email, role: member.role },
            });
          },
          afterUpdateMemberRole: async ({ member, previousRole, user }) => {
            await tell({ type: "sessions.changed", userId: member.userId });
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
