import type { AuditLogFilters, AuditLogQuery } from "@switchboard/shared";
import { and, count, desc, eq, getTableColumns, gte, lt, lte, type SQL, sql } from "drizzle-orm";
import { type Db, type Queryable, queryRows } from "../../db/client";
import { auditLogs } from "../../db/schema";

export type AuditRow = typeof auditLogs.$inferSelect & {
  actorName: string | null;
  actorEmail: string | null;
  targetName: string | null;
  targetExists: boolean;
};

// Names for the ids a row keeps, looked up when the page is read (by key, one row each): a name
// may have changed since, and a deleted server or key still has the one its last change recorded.
const asUuid = (column: SQL | typeof auditLogs.actorId) =>
  sql`CASE WHEN ${column} ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN (${column})::uuid END`;
const ACTOR_NAME = sql<string | null>`CASE ${auditLogs.actorType}
  WHEN 'user' THEN (SELECT u.name FROM "user" u WHERE u.id = ${auditLogs.actorId})
  WHEN 'api_key' THEN (SELECT k.name FROM mcp_api_keys k WHERE k.id = ${asUuid(auditLogs.actorId)})
  ELSE ${auditLogs.actorId} END`;
const TARGET_NAME = sql<string | null>`CASE ${auditLogs.targetType}
  WHEN 'server' THEN coalesce(
    (SELECT s.display_name FROM mcp_servers s WHERE s.id = ${asUuid(sql`${auditLogs.targetId}`)} AND s.tenant_id = ${auditLogs.tenantId}),
    ${auditLogs.changes}->>'displayName', ${auditLogs.changes}->>'name')
  WHEN 'api_key' THEN coalesce(
    (SELECT k.name FROM mcp_api_keys k WHERE k.id = ${asUuid(sql`${auditLogs.targetId}`)} AND k.tenant_id = ${auditLogs.tenantId}),
    ${auditLogs.changes}->>'name')
  WHEN 'organization' THEN (SELECT o.name FROM organization o WHERE o.id = ${auditLogs.targetId})
  WHEN 'member' THEN coalesce(
    (SELECT u.name FROM member m JOIN "user" u ON u.id = m.user_id WHERE m.id = ${auditLogs.targetId}),
    ${auditLogs.changes}->>'email')
  WHEN 'invitation' THEN coalesce(
    (SELECT i.email FROM invitation i WHERE i.id = ${auditLogs.targetId}), ${auditLogs.changes}->>'email')
  ELSE NULL END`;
const ACTOR_EMAIL = sql<string | null>`CASE WHEN ${auditLogs.actorType} = 'user'
  THEN (SELECT u.email FROM "user" u WHERE u.id = ${auditLogs.actorId}) END`;
const TARGET_EXISTS = sql<boolean>`CASE ${auditLogs.targetType}
  WHEN 'server' THEN EXISTS (SELECT 1 FROM mcp_servers s WHERE s.id = ${asUuid(sql`${auditLogs.targetId}`)} AND s.tenant_id = ${auditLogs.tenantId})
  WHEN 'api_key' THEN EXISTS (SELECT 1 FROM mcp_api_keys k WHERE k.id = ${asUuid(sql`${auditLogs.targetId}`)} AND k.tenant_id = ${auditLogs.tenantId})
  WHEN 'organization' THEN EXISTS (SELECT 1 FROM organization o WHERE o.id = ${auditLogs.targetId} AND o.id = ${auditLogs.tenantId})
  WHEN 'member' THEN EXISTS (SELECT 1 FROM member m WHERE m.id = ${auditLogs.targetId} AND m.organization_id = ${auditLogs.tenantId})
  WHEN 'invitation' THEN EXISTS (SELECT 1 FROM invitation i WHERE i.id = ${auditLogs.targetId} AND i.organization_id = ${auditLogs.tenantId})
  ELSE false END`;
/** A row as the API shows it: its columns and the names of the ids it keeps. */
const NAMED_ROW = {
  ...getTableColumns(auditLogs),
  actorName: ACTOR_NAME,
  actorEmail: ACTOR_EMAIL,
  targetName: TARGET_NAME,
  targetExists: TARGET_EXISTS,
};
/** Newest first; rows written at one instant in the reverse of the order they were written. */
const NEWEST_FIRST = [desc(auditLogs.createdAt), desc(auditLogs.seq)];

function filterOf(tenantId: string, query: AuditLogFilters): SQL | undefined {
  const where: SQL[] = [eq(auditLogs.tenantId, tenantId)];
  if (query.action) where.push(eq(auditLogs.action, query.action));
  if (query.actorId) where.push(eq(auditLogs.actorId, query.actorId));
  if (query.targetId) where.push(eq(auditLogs.targetId, query.targetId));
  if (query.from) where.push(gte(auditLogs.createdAt, new Date(query.from)));
  if (query.to) where.push(lte(auditLogs.createdAt, new Date(query.to)));
  return and(...where);
}

export type NewAuditRow = typeof auditLogs.$inferInsert;

export async function insertAuditRow(q: Queryable, row: NewAuditRow): Promise<void> {
  await q.insert(auditLogs).values(row);
}

export async function findAuditPage(
  db: Db,
  tenantId: string,
  query: AuditLogQuery,
): Promise<{ rows: AuditRow[]; total: number }> {
  const filter = filterOf(tenantId, query);
  const [rows, totals] = await Promise.all([
    db
      .select(NAMED_ROW)
      .from(auditLogs)
      .where(filter)
      .orderBy(...NEWEST_FIRST)
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize),
    db.select({ n: count() }).from(auditLogs).where(filter),
  ]);
  return { rows, total: totals[0]?.n ?? 0 };
}

/**
 * Where a batch of the export ends: the last row's instant (as the database wrote it, to the
 * microsecond, which a JavaScript Date would round) and its insert order.
 */
export interface AuditCursor {
  at: string;
  seq: number;
}

/**
 * Up to `limit` rows that match `query`, in the list's order, after `cursor` (keyset paging, so a
 * long export reads each row once and costs the same at its end as at its start).
 */
export async function findAuditBatch(
  db: Db,
  tenantId: string,
  query: AuditLogFilters,
  cursor: AuditCursor | null,
  limit: number,
): Promise<{ rows: AuditRow[]; next: AuditCursor | null }> {
  const filter = filterOf(tenantId, query);
  const rows = await db
    .select({ ...NAMED_ROW, cursorAt: sql<string>`${auditLogs.createdAt}::text` })
    .from(auditLogs)
    .where(
      cursor
        ? and(
            filter,
            sql`(${auditLogs.createdAt}, ${auditLogs.seq}) < (${cursor.at}::timestamptz, ${cursor.seq})`,
          )
        : filter,
    )
    .orderBy(...NEWEST_FIRST)
    .limit(limit);
  const last = rows.at(-1);
  return {
    rows: rows.map(({ cursorAt: _, ...row }) => row),
    next: last && rows.length === limit ? { at: last.cursorAt, seq: last.seq } : null,
  };
}

/** The organization's slug (for the export's file name), or null when it is gone. */
export async function findOrganizationSlug(db: Db, tenantId: string): Promise<string | null> {
  const rows = await queryRows<{ slug: string }>(
    db,
    sql`SELECT slug FROM organization WHERE id = ${tenantId}`,
  );
  return rows[0]?.slug ?? null;
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
