import { and, desc, eq, lt, lte, sql } from "drizzle-orm";
import type { Db, Queryable } from "../../db/client";
import { mcpServerHealth, mcpServers } from "../../db/schema";
import type { ServerRow } from "../servers/repo";

export type HealthRow = typeof mcpServerHealth.$inferSelect;
export type NewHealthRow = typeof mcpServerHealth.$inferInsert;
export type HealthFields = Pick<
  typeof mcpServers.$inferInsert,
  | "status"
  | "lastCheckedAt"
  | "lastLatencyMs"
  | "consecutiveFailures"
  | "nextCheckAt"
  | "lastError"
  | "serverInfo"
  | "tools"
>;

export async function insertHealthRow(q: Queryable, row: NewHealthRow): Promise<HealthRow> {
  const [created] = await q.insert(mcpServerHealth).values(row).returning();
  if (!created) throw new Error("insert returned no row");
  return created;
}

/** Writes a check's outcome onto the server. Health is not an edit: version and updatedAt stay. */
export async function setServerHealth(q: Queryable, tenantId: string, id: string, fields: HealthFields) {
  const [row] = await q
    .update(mcpServers)
    .set(fields)
    .where(and(eq(mcpServers.tenantId, tenantId), eq(mcpServers.id, id)))
    .returning();
  return row ?? null;
}

export function findHistory(db: Db, tenantId: string, serverId: string, limit: number): Promise<HealthRow[]> {
  return db
    .select()
    .from(mcpServerHealth)
    .where(and(eq(mcpServerHealth.serverId, serverId), eq(mcpServerHealth.tenantId, tenantId)))
    .orderBy(desc(mcpServerHealth.checkedAt), desc(mcpServerHealth.id))
    .limit(limit);
}

/**
 * Claims up to `limit` enabled servers whose check is due, pushing their next check to
 * `leaseUntil` so that no other scheduler claims them meanwhile. SKIP LOCKED lets schedulers
 * on several instances claim disjoint batches at the same moment.
 */
export async function claimDueServers(
  db: Db,
  now: Date,
  limit: number,
  leaseUntil: Date,
): Promise<ServerRow[]> {
  const due = db
    .select({ id: mcpServers.id })
    .from(mcpServers)
    .where(and(eq(mcpServers.enabled, true), lte(mcpServers.nextCheckAt, now)))
    .orderBy(mcpServers.nextCheckAt)
    .limit(limit)
    .for("update", { skipLocked: true });
  return db
    .update(mcpServers)
    .set({ nextCheckAt: leaseUntil })
    .where(sql`${mcpServers.id} IN (${due})`)
    .returning();
}

export async function deleteHealthBefore(db: Db, cutoff: Date): Promise<number> {
  const gone = await db
    .delete(mcpServerHealth)
    .where(lt(mcpServerHealth.checkedAt, cutoff))
    .returning({ id: mcpServerHealth.id });
  return gone.length;
}
