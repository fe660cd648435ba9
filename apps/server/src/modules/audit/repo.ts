import type { AuditLogQuery } from "@switchboard/shared";
import { and, count, desc, eq, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import type { Db, Queryable } from "../../db/client";
import { auditLogs } from "../../db/schema";

export type AuditRow = typeof auditLogs.$inferSelect;
export type NewAuditRow = typeof auditLogs.$inferInsert;

export async function insertAuditRow(q: Queryable, row: NewAuditRow): Promise<void> {
  await q.insert(auditLogs).values(row);
}

export async function findAuditPage(
  db: Db,
  tenantId: string,
  query: AuditLogQuery,
): Promise<{ rows: AuditRow[]; total: number }> {
  const where: SQL[] = [eq(auditLogs.tenantId, tenantId)];
  if (query.action) where.push(eq(auditLogs.action, query.action));
  if (query.actorId) where.push(eq(auditLogs.actorId, query.actorId));
  if (query.targetId) where.push(eq(auditLogs.targetId, query.targetId));
  if (query.from) where.push(gte(auditLogs.createdAt, new Date(query.from)));
  if (query.to) where.push(lte(auditLogs.createdAt, new Date(query.to)));
  const filter = and(...where);
  const [rows, totals] = await Promise.all([
    db
      .select()
      .from(auditLogs)
      .where(filter)
      .orderBy(desc(auditLogs.createdAt), desc(auditLogs.seq))
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize),
    db.select({ n: count() }).from(auditLogs).where(filter),
  ]);
  return { rows, total: totals[0]?.n ?? 0 };
}

/**
 * Deletes rows created before `cutoff`; returns how many went. The table refuses deletes
 * (migration 0002) unless the transaction says it is the retention purge.
 */
export async function deleteAuditRowsBefore(db: Db, cutoff: Date): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('switchboard.audit_purge', 'on', true)`);
    const gone = await tx
      .delete(auditLogs)
      .where(lt(auditLogs.createdAt, cutoff))
      .returning({ id: auditLogs.id });
    return gone.length;
  });
}
