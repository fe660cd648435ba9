import { and, desc, eq, isNull, lt, or, type Placeholder, sql } from "drizzle-orm";
import type { Db, Queryable } from "../../db/client";
import { preparedPerDb } from "../../db/prepared";
import { mcpApiKeys } from "../../db/schema";

export type KeyRow = typeof mcpApiKeys.$inferSelect;
export type NewKeyRow = typeof mcpApiKeys.$inferInsert;

export async function insertKey(q: Queryable, row: NewKeyRow): Promise<KeyRow> {
  const [created] = await q.insert(mcpApiKeys).values(row).returning();
  if (!created) throw new Error("insert returned no row");
  return created;
}

export function findKeys(db: Db, tenantId: string, serverId: string): Promise<KeyRow[]> {
  return db
    .select()
    .from(mcpApiKeys)
    .where(and(eq(mcpApiKeys.tenantId, tenantId), eq(mcpApiKeys.serverId, serverId)))
    .orderBy(desc(mcpApiKeys.createdAt), desc(mcpApiKeys.id));
}

export async function findKey(q: Queryable, tenantId: string, serverId: string, keyId: string) {
  const [row] = await q
    .select()
    .from(mcpApiKeys)
    .where(
      and(eq(mcpApiKeys.tenantId, tenantId), eq(mcpApiKeys.serverId, serverId), eq(mcpApiKeys.id, keyId)),
    )
    .limit(1)
    .for("update");
  return row ?? null;
}

export async function setRevoked(q: Queryable, id: string, at: Date): Promise<KeyRow | null> {
  const [row] = await q.update(mcpApiKeys).set({ revokedAt: at }).where(eq(mcpApiKeys.id, id)).returning();
  return row ?? null;
}

/** The lookup by hash, exposed so tests can EXPLAIN exactly what authentication runs. */
export const keyByHashQuery = (db: Db, keyHash: string | Placeholder) =>
  db.select().from(mcpApiKeys).where(eq(mcpApiKeys.keyHash, keyHash)).limit(1);

// Every API call with a key runs these two: built once, planned once per connection.
const keyByHash = preparedPerDb(
  () => "",
  (db) => keyByHashQuery(db, sql.placeholder("keyHash")).prepare("api_key_by_hash"),
);
const touch = preparedPerDb(
  () => "",
  (db) =>
    db
      .update(mcpApiKeys)
      .set({ lastUsedAt: sql`${sql.placeholder("now")}` })
      .where(
        and(
          eq(mcpApiKeys.id, sql.placeholder("id")),
          or(isNull(mcpApiKeys.lastUsedAt), lt(mcpApiKeys.lastUsedAt, sql.placeholder("before"))),
        ),
      )
      .prepare("api_key_touch"),
);

/** The key with this hash, through the unique index on key_hash. */
export async function findKeyByHash(db: Db, keyHash: string): Promise<KeyRow | null> {
  const [row] = await keyByHash(db, undefined).execute({ keyHash });
  return row ?? null;
}

/** Records use, writing at most once per `minGapMs` per key so hot keys do not hammer the row. */
export async function touchLastUsed(db: Db, id: string, now: Date, minGapMs: number): Promise<void> {
  await touch(db, undefined).execute({ id, now, before: new Date(now.getTime() - minGapMs) });
}
