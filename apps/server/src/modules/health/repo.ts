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

/**
 * Records a check in one statement: its history row, and its outcome on the server (health is not
 * an edit: version and updatedAt stay). One statement is atomic on its own and costs the
 * scheduler one round trip per check instead of four. Null when the server is not the tenant's.
 */
export async function recordHealth(
  q: Queryable,
  history: NewHealthRow,
  fields: HealthFields,
): Promise<ServerRow | null> {
  const inserted = q
    .$with("history")
    .as(q.insert(mcpServerHealth).values(history).returning({ id: mcpServerHealth.id }));
  const [row] = await q
    .with(inserted)
    .update(mcpServers)
    .set(fields)
    .where(and(eq(mcpServers.tenantId, history.tenantId), eq(mcpServers.id, history.serverId)))
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
