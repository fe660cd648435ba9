import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { btree_gin } from "@electric-sql/pglite/contrib/btree_gin";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { type SQL, sql } from "drizzle-orm";
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
  /** PostgreSQL's connection string, so that another pool can be opened on the same database. */
  url?: string;
  close(): Promise<void>;
}

/**
 * A connection PostgreSQL has just opened is slow at first: a new backend process loads its
 * catalog caches, and the named statements are prepared again on it. pg closes idle connections
 * after 10 s, so traffic that pauses and comes back paid that for a whole pool at once.
 */
export const POOL_DEFAULTS = { size: 20, idleSeconds: 300 };

/** Sees every statement the app runs, with its parameters (the benchmarks collect them). */
export type QueryListener = (sql: string, params: unknown[]) => void;

export type DatabaseTarget = (
  | { kind: "postgres"; url: string; poolSize?: number; poolIdleSeconds?: number }
  | { kind: "pglite"; dataDir?: string; client?: PGlite }
) & { onQuery?: QueryListener };

const isBegin = (query: unknown) =>
  /^\s*begin\b/i.test(typeof query === "string" ? query : String((query as { text?: unknown })?.text ?? ""));

/**
 * drizzle-orm 0.45's node-postgres `transaction()` sends BEGIN before the try/finally that gives
 * its client back to the pool (drizzle-team/drizzle-orm#6241): when BEGIN fails (the connection
 * died while it sat idle, PostgreSQL restarting), the client is never given back, and a few
 * outages leave a pool with no client to lend, every request then waiting for one for ever. So a
 * client lent by `connect()` (what `transaction()` calls; `pool.query` lends its own way) gives
 * itself back, to be destroyed, when its first statement is a BEGIN that fails; a later
 * `release()` of that loan does nothing.
 */
function lendClientsThatSurviveAFailedBegin(pool: pg.Pool) {
  const connect = pool.connect.bind(pool);
  const guard = (client: pg.PoolClient) => {
    const release = client.release;
    let released = false;
    client.release = (err?: Error | boolean) => {
      if (released) return;
      released = true;
      delete (client as Partial<pg.PoolClient>).query;
      release(err);
    };
    const query = client.query;
    client.query = ((...args: Parameters<typeof query>) => {
      // Only the loan's first statement is watched: the rest run as pg runs them.
      delete (client as Partial<pg.PoolClient>).query;
      const result = (query as (...a: unknown[]) => unknown).apply(client, args);
      if (isBegin(args[0]) && result instanceof Promise) {
        result.catch((err: unknown) => client.release(err instanceof Error ? err : true));
      }
      return result;
    }) as typeof query;
    return client;
  };
  pool.connect = ((callback?: Parameters<typeof connect>[0]) =>
    callback ? connect(callback) : connect().then(guard)) as typeof pool.connect;
}

/** Opens PostgreSQL (pg pool) or embedded PGlite (a directory, in memory, or a given client). */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  const logger = target.onQuery ? { logQuery: target.onQuery } : false;
  if (target.kind === "postgres") {
    // An idle timeout of 0 keeps idle connections for as long as the pool.
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolSize ?? POOL_DEFAULTS.size,
      idleTimeoutMillis: (target.poolIdleSeconds ?? POOL_DEFAULTS.idleSeconds) * 1000,
    });
    // An idle client losing its connection must not crash the process.
    pool.on("error", () => {});
    // Nor may a checked-out one: the pool stops listening to a client it lends, and PostgreSQL
    // ending the connection between two queries (a restart mid-transaction) makes pg emit an
    // error with no listener, an uncaught exception. Heard here, it fails the client's next query
    // instead (a 503), and the pool drops the client when it comes back.
    pool.on("connect", (client) => client.on("error", () => {}));
    lendClientsThatSurviveAFailedBegin(pool);
    const db = drizzlePg(pool, { schema, logger }) as unknown as Db;
    return { kind: "postgres", db, url: target.url, close: () => pool.end() };
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

/** A reader of the pg pool's connections (for metrics); null for PGlite, which has one and no pool. */
export function poolStatsOf(
  database: Database,
): (() => { max: number; size: number; idle: number; waiting: number }) | null {
  if (database.kind !== "postgres") return null;
  const pool = (database.db as unknown as { $client: pg.Pool }).$client;
  return () => ({
    max: pool.options.max ?? 10,
    size: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
  });
}

/** Runs raw SQL and returns its rows; both drivers answer `{ rows }`. */
export async function queryRows<T>(q: Queryable, statement: SQL): Promise<T[]> {
  const result = (await q.execute(statement)) as unknown as { rows: T[] };
  return result.rows;
}

/** Throws when the database does not answer (readiness). */
export async function ping(q: Queryable): Promise<void> {
  await q.execute(sql`SELECT 1`);
}
