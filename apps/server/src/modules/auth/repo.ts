import { Role } from "@switchboard/shared";
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { invitation, member, organization, session, user } from "../../db/schema";

/** The user's role in the organization, or null when they are not a member of it. */
export async function findMemberRole(db: Db, organizationId: string, userId: string): Promise<Role | null> {
  const [row] = await db
    .select({ role: member.role })
    .from(member)
    .where(and(eq(member.organizationId, organizationId), eq(member.userId, userId)))
    .limit(1);
  if (!row) return null;
  const role = Role.safeParse(row.role);
  return role.success ? role.data : null;
}

/** The organization the user joined first, or null when they belong to none. */
export async function findFirstOrganizationId(db: Db, userId: string): Promise<string | null> {
  const [row] = await db
    .select({ id: member.organizationId })
    .from(member)
    .where(eq(member.userId, userId))
    .orderBy(asc(member.createdAt))
    .limit(1);
  return row?.id ?? null;
}

/** Who a session (its stored token) belongs to, or null when there is no such session. */
export async function findSessionUserId(db: Db, token: string): Promise<string | null> {
  const [row] = await db
    .select({ userId: session.userId })
    .from(session)
    .where(eq(session.token, token))
    .limit(1);
  return row?.userId ?? null;
}

/** A pending invitation, as an invitee opening its link needs it. */
export async function findInvitation(db: Db, id: string) {
  const [row] = await db
    .select({
      id: invitation.id,
      email: invitation.email,
      status: invitation.status,
      expiresAt: invitation.expiresAt,
      organizationId: invitation.organizationId,
    })
    .from(invitation)
    .where(eq(invitation.id, id))
    .limit(1);
  return row ?? null;
}

/** Records that the user has shown the address is theirs. */
export async function markEmailVerified(db: Db, userId: string): Promise<void> {
  await db.update(user).set({ emailVerified: true, updatedAt: new Date() }).where(eq(user.id, userId));
}

/** The id of the organization with this slug, or null. */
export async function findOrganizationId(db: Db, slug: string): Promise<string | null> {
  const [row] = await db
    .select({ id: organization.id })
    .from(organization)
    .where(eq(organization.slug, slug))
    .limit(1);
  return row?.id ?? null;
}
