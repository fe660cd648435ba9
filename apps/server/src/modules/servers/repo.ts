import type { ServerListQuery, ServerSortField } from "@switchboard/shared";
import { and, arrayContains, asc, count, eq, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db, Queryable } from "../../db/client";
import { mcpServers } from "../../db/schema";

export type ServerRow = typeof mcpServers.$inferSelect;
export type NewServerRow = typeof mcpServers.$inferInsert;
export type ServerChanges = Partial<
  Pick<
    NewServerRow,
    | "name"
    | "displayName"
    | "description"
    | "transport"
    | "url"
    | "headers"
    | "tags"
    | "enabled"
    | "checkIntervalSeconds"
    | "nextCheckAt"
  >
>;

const SORT_COLUMNS: Record<ServerSortField, AnyPgColumn> = {
  name: mcpServers.name,
  displayName: mcpServers.displayName,
  status: mcpServers.status,
  createdAt: mcpServers.createdAt,
  updatedAt: mcpServers.updatedAt,
  lastCheckedAt: mcpServers.lastCheckedAt,
};

/** Escapes LIKE wildcards so a search for `50%` finds "50%", not everything. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function listFilter(tenantId: string, query: ServerListQuery): SQL | undefined {
  const where: (SQL | undefined)[] = [eq(mcpServers.tenantId, tenantId)];
  if (query.status) where.push(eq(mcpServers.status, query.status));
  if (query.transport) where.push(eq(mcpServers.transport, query.transport));
  if (query.enabled !== undefined) where.push(eq(mcpServers.enabled, query.enabled));
  if (query.tag) where.push(arrayContains(mcpServers.tags, [query.tag]));
  if (query.q) {
    const pattern = `%${likeEscape(query.q)}%`;
    // mcp_server_search keeps each server's searchable text in lower case, out of the way of
    // health updates, under a trigram index (migration 0006).
    where.push(
      sql`${mcpServers.id} IN (SELECT server_id FROM mcp_server_search WHERE tenant_id = ${tenantId} AND search LIKE lower(${pattern}))`,
    );
  }
  return and(...where);
}

/** The page query, exposed so tests can EXPLAIN exactly what the API runs. */
export function pageQuery(db: Db, tenantId: string, query: ServerListQuery) {
  const descending = query.sort.startsWith("-");
  const field = query.sort.replace(/^-/, "") as ServerSortField;
  const column = SORT_COLUMNS[field];
  // Only lastCheckedAt can be null (never checked): those go last either way. The other columns
  // keep the plain order, so that an index read backwards serves a descending sort.
  const nulls = field === "lastCheckedAt" ? sql` NULLS LAST` : sql``;
  const order = descending ? sql`${column} DESC${nulls}` : sql`${column} ASC${nulls}`;
  return (
    db
      .select()
      .from(mcpServers)
      .where(listFilter(tenantId, query))
      // Names are unique per tenant, so they make every order total (stable pages).
      .orderBy(order, ...(field === "name" ? [] : [asc(mcpServers.name)]))
      .limit(query.pageSize)
      .offset((query.page - 1) * query.pageSize)
  );
}

export function countQuery(db: Db, tenantId: string, query: ServerListQuery) {
  return db.select({ n: count() }).from(mcpServers).where(listFilter(tenantId, query));
}

/** How many of the tenant's servers match the query's filters. */
export async function countServers(db: Db, tenantId: string, query: ServerListQuery): Promise<number> {
  const [row] = await countQuery(db, tenantId, query);
  return row?.n ?? 0;
}

export async function findServer(
  q: Queryable,
  tenantId: string,
  id: string,
  opts: { forUpdate?: boolean } = {},
) {
  const query = q
    .select()
    .from(mcpServers)
    .where(and(eq(mcpServers.tenantId, tenantId), eq(mcpServers.id, id)))
    .limit(1);
  const [row] = opts.forUpdate ? await query.for("update") : await query;
  return row ?? null;
}

export async function insertServer(q: Queryable, row: NewServerRow): Promise<ServerRow> {
  const [created] = await q.insert(mcpServers).values(row).returning();
  if (!created) throw new Error("insert returned no row");
  return created;
}

/** Applies changes and bumps the version; null when the row is not this tenant's. */
export async function updateServer(
  q: Queryable,
  tenantId: string,
  id: string,
  changes: ServerChanges,
  now: Date,
): Promise<ServerRow | null> {
  const [row] = await q
    .update(mcpServers)
    .set({ ...changes, updatedAt: now, version: sql`${mcpServers.version} + 1` })
    .where(and(eq(mcpServers.tenantId, tenantId), eq(mcpServers.id, id)))
    .returning();
  return row ?? null;
}

/** Deletes a server; its keys and health history go with it (ON DELETE CASCADE). */
export async function deleteServer(q: Queryable, tenantId: string, id: string): Promise<boolean> {
  const gone = await q
    .delete(mcpServers)
    .where(and(eq(mcpServers.tenantId, tenantId), eq(mcpServers.id, id)))
    .returning({ id: mcpServers.id });
  return gone.length > 0;
}
