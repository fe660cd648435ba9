import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { btree_gin } from "@electric-sql/pglite/contrib/btree_gin";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import type { SQL } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import * as schema from "./schema";

/** Extensions the migrations create; an embedded database must load them when it opens. */
export const PGLITE_EXTENSIONS = { pg_trgm, btree_gin };

export type Schema = typeof schema;
/** The one Drizzle type the code sees, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema>;
/** Something a repository can query: the database or an open transaction. */
export type Queryable = Db | Tx;

export interface Database {
  kind: "pglite" | "postgres";
  db: Db;
  close(): Promise<void>;
}

/** Sees every statement the app runs, with its parameters (the benchmarks collect them). */
export type QueryListener = (sql: string, params: unknown[]) => void;

export type DatabaseTarget = (
  | { kind: "postgres"; url: string; poolSize?: number }
  | { kind: "pglite"; dataDir?: string; client?: PGlite }
) & { onQuery?: QueryListener };

/** Opens PostgreSQL (pg pool) or embedded PGlite (a directory, in memory, or a given client). */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  const logger = target.onQuery ? { logQuery: target.onQuery } : false;
  if (target.kind === "postgres") {
    const pool = new pg.Pool({ connectionString: target.url, max: target.poolSize ?? 20 });
    // An idle client losing its connection must not crash the process.
    pool.on("error", () => {});
    const db = drizzlePg(pool, { schema, logger }) as unknown as Db;
    return { kind: "postgres", db, close: () => pool.end() };
  }
  if (target.dataDir) mkdirSync(target.dataDir, { recursive: true });
  const client = target.client ?? (await PGlite.create(target.dataDir, { extensions: PGLITE_EXTENSIONS }));
  const db = drizzlePglite(client, { schema, logger }) as unknown as Db;
  return {
    kind: "pglite",
    db,
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

/** Runs raw SQL and returns its rows; both drivers answer `{ rows }`. */
export async function queryRows<T>(q: Queryable, statement: SQL): Promise<T[]> {
  const result = (await q.execute(statement)) as unknown as { rows: T[] };
  return result.rows;
}
