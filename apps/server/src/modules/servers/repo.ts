import type { ServerListQuery, ServerSortField } from "@switchboard/shared";
import {
  and,
  arrayContains,
  asc,
  Column,
  count,
  eq,
  fillPlaceholders,
  getTableColumns,
  inArray,
  is,
  isNull,
  type SQL,
  sql,
} from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db, Queryable } from "../../db/client";
import { preparedPerDb } from "../../db/prepared";
import { mcpCheckSchedule, mcpServers, type ServerRow } from "../../db/schema";

export type NewServerRow = typeof mcpServers.$inferInsert;

// A list reads counts, not definitions: a page of 50 servers with 500 tools each must stay small.
const { tools, prompts, resources, pinnedTools, ...listColumns } = getTableColumns(mcpServers);
const LIST_COLUMNS = {
  ...listColumns,
  toolsCount: sql<number>`jsonb_array_length(${tools})`.mapWith(Number),
  promptsCount: sql<number>`jsonb_array_length(${prompts})`.mapWith(Number),
  resourcesCount: sql<number>`jsonb_array_length(${resources})`.mapWith(Number),
};
export type ListRow = Omit<ServerRow, "tools" | "prompts" | "resources" | "pinnedTools"> & {
  toolsCount: number;
  promptsCount: number;
  resourcesCount: number;
};
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
    | "statusSince"
    | "registryName"
    | "title"
    | "websiteUrl"
    | "repository"
    | "releaseVersion"
    | "declaredHeaders"
    | "needsConfiguration"
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
    drifted: query.drifted,
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
    query.drifted === undefined ? "" : "drifted",
    query.tag ? "tag" : "",
    query.q ? "q" : "",
  ].join(" ");

const value = (name: keyof ReturnType<typeof listValues>) => sql.placeholder(name);

function listFilter(query: ServerListQuery): SQL | undefined {
  const where: (SQL | undefined)[] = [eq(mcpServers.tenantId, value("tenantId"))];
  if (query.status) where.push(eq(mcpServers.status, value("status")));
  if (query.transport) where.push(eq(mcpServers.transport, value("transport")));
  if (query.enabled !== undefined) where.push(eq(mcpServers.enabled, value("enabled")));
  if (query.drifted !== undefined) where.push(eq(mcpServers.toolsDrifted, value("drifted")));
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

function pageOrder(query: ServerListQuery): SQL[] {
  const descending = query.sort.startsWith("-");
  const field = query.sort.replace(/^-/, "") as ServerSortField;
  const column = SORT_COLUMNS[field];
  // Only lastCheckedAt can be null (never checked): those go last either way. The other columns
  // keep the plain order, so that an index read backwards serves a descending sort.
  const nulls = field === "lastCheckedAt" ? sql` NULLS LAST` : sql``;
  const order = descending ? sql`${column} DESC${nulls}` : sql`${column} ASC${nulls}`;
  // Names are unique per tenant, so they make every order total (stable pages).
  return [order, ...(field === "name" ? [] : [sql`${mcpServers.name} ASC`])];
}

/**
 * A page as one JSON array the database builds, `[[stamp, { id, name, … } | null], …]` in the
 * page's order (a sorted subquery feeds the aggregate in its order). The driver then decodes one
 * value instead of a field per column per row: decoding fields one by one was most of a list's
 * CPU on PGlite, and a large share on PostgreSQL. A row's stamp is its id and the transaction that
 * wrote its version (`xmin`), so it changes with every write. A row whose stamp is in `known` comes
 * as null, since the caller already holds it; the others are read by id, in the statement's
 * snapshot: rows that did not change are neither built nor decoded, and their tool sets (stored
 * out of line when large) are not read to be counted.
 */
function pageJsonSelect(db: Db, query: ServerListQuery) {
  const page = db
    .select({
      id: sql<string>`${mcpServers.id}`.as("id"),
      stamp: sql<string>`${mcpServers.id}::text || ':' || ${mcpServers}.xmin::text`.as("stamp"),
    })
    .from(mcpServers)
    .where(listFilter(query))
    .orderBy(...pageOrder(query))
    .limit(value("limit"))
    .offset(value("offset"))
    .as("page");
  // Each field named as the row names it, so that the database's JSON needs no renaming.
  const named = Object.fromEntries(
    Object.entries(LIST_COLUMNS).map(([key, column]) => [key, sql`${column}`.as(key)]),
  );
  const row = db.select(named).from(mcpServers).where(eq(mcpServers.id, sql`"page"."id"`));
  const known = sql`${sql.placeholder("known")}::text[]`;
  return db
    .select({
      rows: sql<[string, Record<string, unknown> | null][]>`coalesce(json_agg(json_build_array("page"."stamp",
        CASE WHEN "page"."stamp" = ANY(${known}) THEN NULL ELSE (SELECT to_json("row") FROM (${row}) "row") END
      )), '[]')`,
    })
    .from(page);
}

/** The list's timestamp fields: JSON carries them as text, and a row holds them as dates. */
const LIST_TIMESTAMPS = Object.entries(LIST_COLUMNS)
  .filter(([, column]) => is(column, Column) && column.columnType === "PgTimestamp")
  .map(([key]) => key);

/** A row of `pageJsonSelect` as Drizzle would have read it: JSON has the rest in its own types. */
function fromJson(json: Record<string, unknown>): ListRow {
  for (const key of LIST_TIMESTAMPS) {
    const v = json[key];
    if (typeof v === "string") json[key] = new Date(v);
  }
  return json as ListRow;
}

const countSelect = (db: Db, query: ServerListQuery) =>
  db.select({ n: count() }).from(mcpServers).where(listFilter(query));

// Unnamed: PostgreSQL plans each list for its own values (a search's best plan depends on its text).
const pageStatement = preparedPerDb(listShape, (db, query: ServerListQuery) =>
  pageJsonSelect(db, query).prepare(""),
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

/** The statements a list runs, with its values (no row known: all read in full): for tests that EXPLAIN them. */
export const pageQuery = (db: Db, tenantId: string, query: ServerListQuery) =>
  bound(pageJsonSelect(db, query), { ...listValues(tenantId, query), known: [] });
export const countQuery = (db: Db, tenantId: string, query: ServerListQuery) =>
  bound(countSelect(db, query), listValues(tenantId, query));

/** A row of a page with its stamp (see pageJsonSelect); null when the stamp was known. */
export interface StampedRow {
  stamp: string;
  row: ListRow | null;
}

/**
 * A page of the tenant's servers that match the query, in its order: each row with its stamp, and
 * in full only where its stamp is not among `known` (the row changed, or was never read).
 */
export async function listStampedRows(
  db: Db,
  tenantId: string,
  query: ServerListQuery,
  known: readonly string[],
): Promise<StampedRow[]> {
  const [page] = await pageStatement(db, query).execute({ ...listValues(tenantId, query), known });
  return (page?.rows ?? []).map(([stamp, json]) => ({ stamp, row: json ? fromJson(json) : null }));
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

/** Lateness a check may have before it counts as overdue: a round's claim takes a moment. */
const OVERDUE_GRACE_MS = 5_000;

/** The tenant's servers counted by health (disabled apart) and its checks running late. */
export async function fleetOverview(db: Db, tenantId: string, now: Date) {
  const late = new Date(now.getTime() - OVERDUE_GRACE_MS);
  // The queue's time, not the row's: a server whose check is running is due at its lease's end.
  const overdue = sql`${mcpServers.enabled} AND ${mcpCheckSchedule.dueAt} < ${late}`;
  const [row] = await db
    .select({
      status: sql<Record<string, number> | null>`jsonb_object_agg(status, n) FILTER (WHERE enabled)`,
      total: sql<number>`coalesce(sum(n), 0)::int`,
      disabled: sql<number>`coalesce(sum(n) FILTER (WHERE NOT enabled), 0)::int`,
      overdue: sql<number>`coalesce(sum(overdue), 0)::int`,
      oldest: sql<string | null>`min(oldest)`,
    })
    .from(
      db
        .select({
          status: mcpServers.status,
          enabled: mcpServers.enabled,
          n: sql<number>`count(*)`.as("n"),
          overdue: sql<number>`count(*) FILTER (WHERE ${overdue})`.as("overdue"),
          oldest: sql<Date | null>`min(${mcpCheckSchedule.dueAt}) FILTER (WHERE ${overdue})`.as("oldest"),
        })
        .from(mcpServers)
        .leftJoin(mcpCheckSchedule, eq(mcpCheckSchedule.serverId, mcpServers.id))
        .where(eq(mcpServers.tenantId, tenantId))
        .groupBy(mcpServers.status, mcpServers.enabled)
        .as("by_status"),
    );
  return {
    byStatus: row?.status ?? {},
    total: Number(row?.total ?? 0),
    disabled: Number(row?.disabled ?? 0),
    overdue: Number(row?.overdue ?? 0),
    oldestDue: row?.oldest ? new Date(row.oldest) : null,
  };
}

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

/** The tenant's server that registries know by `registryName`, as set on it; null when none. */
export async function findServerByRegistryName(
  q: Queryable,
  tenantId: string,
  registryName: string,
): Promise<ServerRow | null> {
  const [row] = await q
    .select()
    .from(mcpServers)
    .where(and(eq(mcpServers.tenantId, tenantId), eq(mcpServers.registryName, registryName)))
    .limit(1);
  return row ?? null;
}

/** The tenant's server named `name` that has no registry name of its own; null when none. */
export async function findServerByNameWithoutRegistryName(
  q: Queryable,
  tenantId: string,
  name: string,
): Promise<ServerRow | null> {
  const [row] = await q
    .select()
    .from(mcpServers)
    .where(and(eq(mcpServers.tenantId, tenantId), eq(mcpServers.name, name), isNull(mcpServers.registryName)))
    .limit(1);
  return row ?? null;
}

/** Which of these names the tenant's servers already use. */
export async function takenNames(q: Queryable, tenantId: string, names: string[]): Promise<Set<string>> {
  if (!names.length) return new Set();
  const rows = await q
    .select({ name: mcpServers.name })
    .from(mcpServers)
    .where(and(eq(mcpServers.tenantId, tenantId), inArray(mcpServers.name, names)));
  return new Set(rows.map((r) => r.name));
}

/** The tenant's servers among `ids`, locked until the transaction ends (in id order, so that two bulk writers never deadlock). */
export function lockServers(q: Queryable, tenantId: string, ids: string[]): Promise<ServerRow[]> {
  return q
    .select()
    .from(mcpServers)
    .where(and(eq(mcpServers.tenantId, tenantId), inArray(mcpServers.id, ids)))
    .orderBy(asc(mcpServers.id))
    .for("update");
}

/** Makes the tenant's servers among `ids` due now: the scheduler checks them in its next round. */
export async function scheduleChecks(
  q: Queryable,
  tenantId: string,
  ids: string[],
  now: Date,
): Promise<void> {
  if (ids.length === 0) return;
  await q
    .update(mcpServers)
    // Never later than it was: an overdue server keeps its place in the queue (a trigger copies
    // the change to mcp_check_schedule; a server whose check is running keeps its lease).
    .set({ nextCheckAt: sql`LEAST(${mcpServers.nextCheckAt}, ${now})` })
    .where(and(eq(mcpServers.tenantId, tenantId), inArray(mcpServers.id, ids)));
}
