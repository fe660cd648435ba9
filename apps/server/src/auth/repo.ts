import { Role } from "@switchboard/shared";
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { member } from "../db/schema";

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
