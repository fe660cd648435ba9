import pg from "pg";
import { type Database, openDatabase, type QueryListener } from "../../apps/server/src/db/client";
import { migrate } from "../../apps/server/src/db/migrate";

export type BenchDbKind = "pglite" | "postgres";

/**
 * Embedded PGlite always; PostgreSQL too when BENCH_DATABASE_URL is set. BENCH_DATABASES
 * (`postgres`, `pglite`) keeps only those of them.
 */
export function benchDatabaseKinds(): BenchDbKind[] {
  const kinds: BenchDbKind[] = process.env.BENCH_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
  const wanted = process.env.BENCH_DATABASES?.split(",").map((k) => k.trim());
  if (!wanted) return kinds;
  const chosen = kinds.filter((k) => wanted.includes(k));
  if (chosen.length < wanted.length)
    throw new Error(
      `BENCH_DATABASES=${process.env.BENCH_DATABASES}: of ${kinds.join(", ")} only` +
        (process.env.BENCH_DATABASE_URL ? "" : " (postgres needs BENCH_DATABASE_URL)"),
    );
  return chosen;
}

async function adminQuery(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The URL of the PostgreSQL database `openBenchDatabase(…, name)` made, for another process to open. */
export function benchDatabaseUrl(name: string): string {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) throw new Error("BENCH_DATABASE_URL is not set");
  return withDatabase(url, `switchboard_bench_${name}`);
}

function withDatabase(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A fresh, migrated database for one benchmark: PGlite in memory, or a PostgreSQL database of its
 * own next to BENCH_DATABASE_URL's, dropped on close.
 */
export async function openBenchDatabase(
  kind: BenchDbKind,
  name: string,
  opts: { poolSize?: number; onQuery?: QueryListener } = {},
): Promise<Database> {
  const onQuery = opts.onQuery ? { onQuery: opts.onQuery } : {};
  if (kind === "pglite") {
    const database = await openDatabase({ kind: "pglite", ...onQuery });
    await migrate(database.db);
    return database;
  }
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) throw new Error("BENCH_DATABASE_URL is not set");
  const dbName = `switchboard_bench_${name}`;
  await adminQuery(url, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await adminQuery(url, `CREATE DATABASE "${dbName}"`);
  const database = await openDatabase({
    kind: "postgres",
    url: benchDatabaseUrl(name),
    poolSize: opts.poolSize ?? 20,
    ...onQuery,
  });
  await migrate(database.db);
  return {
    ...database,
    close: async () => {
      await database.close();
      await adminQuery(url, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    },
  };
}
