import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { type Db, type Queryable, queryRows } from "./client";

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../drizzle");
const LOCK_ID = 7_300_411; // pg_advisory lock shared by every instance migrating one database

export interface Migration {
  /** Zero-padded index, e.g. "0001". */
  version: string;
  tag: string;
  up: string[];
  down: string[];
}

/** The migrations drizzle-kit generated, each with its hand-written `.down.sql`, in order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as {
    entries: { idx: number; tag: string }[];
  };
  return journal.entries
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => ({
      version: tag.slice(0, 4),
      tag,
      up: statements(readFileSync(join(dir, `${tag}.sql`), "utf8")),
      down: statements(readFileSync(join(dir, `${tag}.down.sql`), "utf8")),
    }));
}

function statements(file: string): string[] {
  return file
    .split("--> statement-breakpoint")
    .map((s) => s.trim())
    .filter((s) => s.replace(/--.*$/gm, "").trim() !== "");
}

async function ensureTable(db: Queryable) {
  await db.execute(sql`
    CREATE TABLE IF NOT EXISTS switchboard_migrations (
      version text PRIMARY KEY,
      tag text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
}

/** Versions applied to this database, oldest first. */
export async function appliedVersions(db: Db): Promise<string[]> {
  await ensureTable(db);
  const rows = await queryRows<{ version: string }>(
    db,
    sql`SELECT version FROM switchboard_migrations ORDER BY version`,
  );
  return rows.map((r) => r.version);
}

/**
 * Applies every pending migration, each in its own transaction. An advisory lock makes
 * instances that start together take turns instead of racing.
 */
export async function migrate(db: Db, migrations = loadMigrations()): Promise<string[]> {
  const applied: string[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_ID})`);
      await ensureTable(tx);
      const seen = await queryRows(
        tx,
        sql`SELECT 1 FROM switchboard_migrations WHERE version = ${m.version}`,
      );
      if (seen.length > 0) return false;
      for (const stmt of m.up) await tx.execute(sql.raw(stmt));
      await tx.execute(
        sql`INSERT INTO switchboard_migrations (version, tag) VALUES (${m.version}, ${m.tag})`,
      );
      return true;
    });
    if (done) applied.push(m.tag);
  }
  return applied;
}

/**
 * Rolls back applied migrations newest first: one step by default, or every migration newer
 * than `to` (use "0000"-style versions; `to: null` rolls back everything).
 */
export async function rollback(
  db: Db,
  opts: { to?: string | null } = {},
  migrations = loadMigrations(),
): Promise<string[]> {
  const applied = await appliedVersions(db);
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  if (opts.to && !byVersion.has(opts.to)) throw new Error(`Unknown migration version "${opts.to}"`);
  const undo =
    opts.to === undefined
      ? applied.slice(-1)
      : applied.filter((v) => opts.to === null || v > (opts.to as string));
  const rolled: string[] = [];
  for (const version of undo.reverse()) {
    const m = byVersion.get(version);
    if (!m) throw new Error(`Migration ${version} is applied but missing from ${MIGRATIONS_DIR}`);
    await db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_ID})`);
      for (const stmt of m.down) await tx.execute(sql.raw(stmt));
      await tx.execute(sql`DELETE FROM switchboard_migrations WHERE version = ${m.version}`);
    });
    rolled.push(m.tag);
  }
  return rolled;
}
