import type { ServerListQuery, ServerSortField } from "@switchboard/shared";
import { and, arrayContains, asc, count, eq, fillPlaceholders, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db, Queryable } from "../../db/client";
import { preparedPerDb } from "../../db/prepared";
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

/** Every value a list's statements take, by the name of its placeholder. */
function listValues(tenantId: string, query: ServerListQuery) {
  return {
    tenantId,
    status: query.status,
    transport: query.transport,
    enabled: query.enabled,
    tags: query.tag ? [query.tag] : undefined,
    pattern: query.q ? `%${likeEscape(query.q)}%` : undefined,
    limit: query.pageSize,
    offset: (query.page - 1) * query.pageSize,
  };
}

/** What a list's statements differ by: its sort and which filters it uses, never their values. */
const listShape = (query: ServerListQuery) =>
  [
    query.sort,
    query.status ? "status" : "",
    query.transport ? "transport" : "",
    query.enabled === undefined ? "" : "enabled",
    query.tag ? "tag" : "",
    query.q ? "q" : "",
  ].join(" ");

const value = (name: keyof ReturnType<typeof listValues>) => sql.placeholder(name);

function listFilter(query: ServerListQuery): SQL | undefined {
  const where: (SQL | undefined)[] = [eq(mcpServers.tenantId, value("tenantId"))];
  if (query.status) where.push(eq(mcpServers.status, value("status")));
  if (query.transport) where.push(eq(mcpServers.transport, value("transport")));
  if (query.enabled !== undefined) where.push(eq(mcpServers.enabled, value("enabled")));
  if (query.tag) where.push(arrayContains(mcpServers.tags, value("tags")));
  if (query.q) {
    // mcp_server_search keeps each server's searchable text in lower case, out of the way of
    // health updates, under a trigram index (migration 0006).
    where.push(
      sql`${mcpServers.id} IN (SELECT server_id FROM mcp_server_search WHERE tenant_id = ${value("tenantId")} AND search LIKE lower(${value("pattern")}))`,
    );
  }
  return and(...where);
}

function pageSelect(db: Db, query: ServerListQuery) {
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
      .where(listFilter(query))
      // Names are unique per tenant, so they make every order total (stable pages).
      .orderBy(order, ...(field === "name" ? [] : [asc(mcpServers.name)]))
      .limit(value("limit"))
      .offset(value("offset"))
  );
}

const countSelect = (db: Db, query: ServerListQuery) =>
  db.select({ n: count() }).from(mcpServers).where(listFilter(query));

// Unnamed: PostgreSQL plans each list for its own values (a search's best plan depends on its text).
const pageStatement = preparedPerDb(listShape, (db, query: ServerListQuery) =>
  pageSelect(db, query).prepare(""),
);
const countStatement = preparedPerDb(listShape, (db, query: ServerListQuery) =>
  countSelect(db, query).prepare(""),
);

/** A statement with its values filled in, as the driver sends it (tests EXPLAIN exactly this). */
const bound = (query: { toSQL(): { sql: string; params: unknown[] } }, values: Record<string, unknown>) => ({
  toSQL: () => {
    const { sql: text, params } = query.toSQL();
    return { sql: text, params: fillPlaceholders(params, values) };
  },
});

/** The statements a list runs, with its values: for tests that EXPLAIN them. */
export const pageQuery = (db: Db, tenantId: string, query: ServerListQuery) =>
  bound(pageSelect(db, query), listValues(tenantId, query));
export const countQuery = (db: Db, tenantId: string, query: ServerListQuery) =>
  bound(countSelect(db, query), listValues(tenantId, query));

/** A page of the tenant's servers that match the query, in its order. */
export function listServerRows(db: Db, tenantId: string, query: ServerListQuery): Promise<ServerRow[]> {
  return pageStatement(db, query).execute(listValues(tenantId, query));
}

/** How many of the tenant's servers match the query's filters. */
export async function countServers(db: Db, tenantId: string, query: ServerListQuery): Promise<number> {
  const [row] = await countStatement(db, query).execute(listValues(tenantId, query));
  return row?.n ?? 0;
}

// Named: a lookup by key has one best plan, so PostgreSQL may keep it for the connection.
const serverById = preparedPerDb(
  () => "",
  (db) =>
    db
      .select()
      .from(mcpServers)
      .where(
        and(eq(mcpServers.tenantId, sql.placeholder("tenantId")), eq(mcpServers.id, sql.placeholder("id"))),
      )
      .limit(1)
      .prepare("server_by_id"),
);

/** One of the tenant's servers, outside a transaction; null for any other id. */
export async function readServer(db: Db, tenantId: string, id: string): Promise<ServerRow | null> {
  const [row] = await serverById(db, undefined).execute({ tenantId, id });
  return row ?? null;
}

/** One of the tenant's servers within a transaction (`forUpdate` locks it); null for any other id. */
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
