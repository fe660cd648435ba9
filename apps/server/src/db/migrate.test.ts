import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { adminQuery, withDatabase } from "../../test/global-setup";
import { type Database, openDatabase, PGLITE_EXTENSIONS, queryRows } from "./client";
import { appliedVersions, loadMigrations, migrate, rollback } from "./migrate";

const tables = async (database: Database) =>
  (
    await queryRows<{ tablename: string }>(
      database.db,
      sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'switchboard_migrations' ORDER BY 1`,
    )
  ).map((r) => r.tablename);

const indexes = async (database: Database) =>
  (
    await queryRows<{ indexname: string }>(
      database.db,
      sql`SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
    )
  ).map((r) => r.indexname);

const ALL_TABLES = [
  "account",
  "audit_logs",
  "invitation",
  "mcp_api_keys",
  "mcp_check_schedule",
  "mcp_health_hours",
  "mcp_registry_settings",
  "mcp_server_health",
  "mcp_server_search",
  "mcp_servers",
  "mcp_tool_drift",
  "mcp_usage_minutes",
  "member",
  "organization",
  "session",
  "user",
  "verification",
];

async function freshDatabase(kind: "pglite" | "postgres"): Promise<Database> {
  if (kind === "pglite")
    return openDatabase({ kind: "pglite", client: await PGlite.create({ extensions: PGLITE_EXTENSIONS }) });
  const url = process.env.TEST_DATABASE_URL as string;
  const name = `sbt_migrate_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(url, `CREATE DATABASE "${name}"`);
  const database = await openDatabase({ kind: "postgres", url: withDatabase(url, name), poolSize: 2 });
  return {
    ...database,
    close: async () => {
      await database.close();
      await adminQuery(url, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

const kinds = process.env.TEST_DATABASE_URL ? (["pglite", "postgres"] as const) : (["pglite"] as const);

describe.each(kinds)("migrations on %s", (kind) => {
  let database: Database;
  afterAll(() => database?.close());

  it("every migration has a down file", () => {
    const migrations = loadMigrations();
    expect(migrations.length).toBeGreaterThanOrEqual(2);
    for (const m of migrations) {
      expect(m.up.length, m.tag).toBeGreaterThan(0);
      expect(m.down.length, m.tag).toBeGreaterThan(0);
    }
  });

  it("applies all, rolls all back, and applies all again", async () => {
    database = await freshDatabase(kind);
    const versions = loadMigrations().map((m) => m.version);

    expect(await migrate(database.db)).toHaveLength(versions.length);
    expect(await appliedVersions(database.db)).toEqual(versions);
    expect(await tables(database)).toEqual(ALL_TABLES);
    const builtIndexes = await indexes(database);
    expect(builtIndexes).toEqual(
      expect.arrayContaining([
        "mcp_servers_tenant_name_uq",
        "mcp_servers_tenant_status_idx",
        "mcp_check_schedule_due_idx",
        "mcp_api_keys_key_hash_uq",
        "mcp_server_health_server_checked_idx",
        "audit_logs_tenant_created_idx",
      ]),
    );
    expect(await migrate(database.db)).toEqual([]);

    expect(await rollback(database.db, { to: null })).toHaveLength(versions.length);
    expect(await appliedVersions(database.db)).toEqual([]);
    expect(await tables(database)).toEqual([]);

    await migrate(database.db);
    expect(await appliedVersions(database.db)).toEqual(versions);
    expect(await tables(database)).toEqual(ALL_TABLES);
    expect(await indexes(database)).toEqual(builtIndexes);
    // Every migration twice over, and each down: slow when the machine is busy.
  }, 90_000);

  it("rolls back one step by default, and down to a version with `to`", async () => {
    const versions = loadMigrations().map((m) => m.version);
    const newest = versions.at(-1);
    expect(await rollback(database.db)).toEqual([loadMigrations().at(-1)?.tag]);
    expect(await appliedVersions(database.db)).toEqual(versions.slice(0, -1));
    expect(await appliedVersions(database.db)).not.toContain(newest);

    await migrate(database.db);
    await rollback(database.db, { to: "0000" });
    expect(await appliedVersions(database.db)).toEqual(["0000"]);
    expect(await tables(database)).toEqual([
      "account",
      "invitation",
      "member",
      "organization",
      "session",
      "user",
      "verification",
    ]);
    await expect(rollback(database.db, { to: "9999" })).rejects.toThrow(/Unknown migration version/);
    await migrate(database.db);
    expect(await appliedVersions(database.db)).toEqual(versions);
  });

  it("enforces the schema's constraints: unique names per tenant and cascading deletes", async () => {
    const db = database.db;
    await db.execute(
      sql`INSERT INTO organization (id, name, slug, created_at) VALUES ('o1', 'O1', 'o1', now()), ('o2', 'O2', 'o2', now())`,
    );
    await db.execute(
      sql`INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url) VALUES ('o1', 'alpha', 'Alpha', 'sse', 'http://127.0.0.1:1/sse'), ('o2', 'alpha', 'Alpha', 'sse', 'http://127.0.0.1:1/sse')`,
    );
    await expect(
      db.execute(
        sql`INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url) VALUES ('o1', 'alpha', 'Again', 'sse', 'http://127.0.0.1:1/sse')`,
      ),
    ).rejects.toThrow();
    await expect(
      db.execute(
        sql`INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url) VALUES ('o1', 'Not A Slug', 'x', 'sse', 'http://127.0.0.1:1/sse')`,
      ),
    ).rejects.toThrow();
    await db.execute(sql`DELETE FROM organization WHERE id = 'o1'`);
    const left = await queryRows<{ tenant_id: string }>(db, sql`SELECT tenant_id FROM mcp_servers`);
    expect(left).toEqual([{ tenant_id: "o2" }]);
  });

  it("0012 backfills statusSince from the history (else the last check) and the hourly rollup from the checks", async () => {
    const db = database.db;
    await rollback(db, { to: "0011" });
    await db.execute(
      sql`INSERT INTO organization (id, name, slug, created_at) VALUES ('o3', 'O3', 'o3', now())`,
    );
    const [a, b] = await queryRows<{ id: string }>(
      db,
      sql`INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url, status, last_checked_at)
          VALUES ('o3', 'flaky', 'Flaky', 'sse', 'http://127.0.0.1:1/sse', 'healthy', '2031-01-01T12:30:00Z'),
                 ('o3', 'quiet', 'Quiet', 'sse', 'http://127.0.0.1:1/sse', 'degraded', '2031-01-01T09:00:00Z')
          RETURNING id`,
    );
    await db.execute(
      sql`INSERT INTO mcp_server_health (server_id, tenant_id, checked_at, status, latency_ms) VALUES
          (${a?.id}, 'o3', '2031-01-01T11:50:00Z', 'healthy', 10),
          (${a?.id}, 'o3', '2031-01-01T11:55:00Z', 'unhealthy', 5000),
          (${a?.id}, 'o3', '2031-01-01T12:10:00Z', 'healthy', 20),
          (${a?.id}, 'o3', '2031-01-01T12:30:00Z', 'healthy', 40)`,
    );
    await migrate(db);
    const since = await queryRows<{ id: string; status_since: string | Date | null }>(
      db,
      sql`SELECT id, status_since FROM mcp_servers WHERE tenant_id = 'o3'`,
    );
    const byId = new Map(since.map((r) => [r.id, r.status_since && new Date(r.status_since).toISOString()]));
    // Healthy again since 12:10, after the failure at 11:55; no history: its last check.
    expect(byId.get(a?.id ?? "")).toBe("2031-01-01T12:10:00.000Z");
    expect(byId.get(b?.id ?? "")).toBe("2031-01-01T09:00:00.000Z");
    const hours = await queryRows<{
      hour: string | Date;
      checks: number;
      unhealthy: number;
      latency_count: number;
    }>(
      db,
      sql`SELECT hour, checks, unhealthy, latency_count FROM mcp_health_hours WHERE tenant_id = 'o3' ORDER BY hour`,
    );
    expect(hours.map((h) => ({ ...h, hour: new Date(h.hour).toISOString() }))).toEqual([
      { hour: "2031-01-01T11:00:00.000Z", checks: 2, unhealthy: 1, latency_count: 1 },
      { hour: "2031-01-01T12:00:00.000Z", checks: 2, unhealthy: 0, latency_count: 2 },
    ]);
  });

  it("0013 moves the scheduler's queue to mcp_check_schedule, which follows next_check_at, and back", async () => {
    const db = database.db;
    await rollback(db, { to: "0012" });
    await db.execute(
      sql`INSERT INTO organization (id, name, slug, created_at) VALUES ('o4', 'O4', 'o4', now()) ON CONFLICT DO NOTHING`,
    );
    const [due, off] = await queryRows<{ id: string }>(
      db,
      sql`INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url, next_check_at)
          VALUES ('o4', 'due', 'Due', 'sse', 'http://127.0.0.1:1/sse', '2031-01-01T12:00:00Z'),
                 ('o4', 'off', 'Off', 'sse', 'http://127.0.0.1:1/sse', NULL)
          RETURNING id`,
    );
    await migrate(db);
    const queue = async () => {
      const rows = await queryRows<{ server_id: string; due_at: string | Date | null }>(
        db,
        sql`SELECT c.server_id, c.due_at FROM mcp_check_schedule c JOIN mcp_servers s ON s.id = c.server_id
            WHERE s.tenant_id = 'o4'`,
      );
      return new Map(rows.map((r) => [r.server_id, r.due_at && new Date(r.due_at).toISOString()]));
    };
    expect(await queue()).toEqual(
      new Map([
        [due?.id, "2031-01-01T12:00:00.000Z"],
        [off?.id, null],
      ]),
    );

    // A change of next_check_at reaches the queue; an update that leaves it alone keeps a lease.
    await db.execute(
      sql`UPDATE mcp_servers SET next_check_at = '2031-01-01T12:01:00Z' WHERE id = ${off?.id}`,
    );
    await db.execute(
      sql`UPDATE mcp_check_schedule SET due_at = '2031-01-01T12:05:00Z' WHERE server_id = ${due?.id}`,
    );
    await db.execute(
      sql`UPDATE mcp_servers SET next_check_at = next_check_at, last_error = 'x' WHERE id = ${due?.id}`,
    );
    const [added] = await queryRows<{ id: string }>(
      db,
      sql`INSERT INTO mcp_servers (tenant_id, name, display_name, transport, url, next_check_at)
          VALUES ('o4', 'added', 'Added', 'sse', 'http://127.0.0.1:1/sse', '2031-01-01T13:00:00Z') RETURNING id`,
    );
    expect(await queue()).toEqual(
      new Map([
        [due?.id, "2031-01-01T12:05:00.000Z"],
        [off?.id, "2031-01-01T12:01:00.000Z"],
        [added?.id, "2031-01-01T13:00:00.000Z"],
      ]),
    );
    await db.execute(sql`DELETE FROM mcp_servers WHERE id = ${added?.id}`);
    expect((await queue()).has(added?.id ?? "")).toBe(false);

    // Rolled back, a server under lease is due at its lease's end, as a claim left it before.
    await rollback(db, { to: "0012" });
    const rows = await queryRows<{ id: string; next_check_at: string | Date | null }>(
      db,
      sql`SELECT id, next_check_at FROM mcp_servers WHERE id = ${due?.id}`,
    );
    expect(rows.map((r) => r.next_check_at && new Date(r.next_check_at).toISOString())).toEqual([
      "2031-01-01T12:05:00.000Z",
    ]);
    await migrate(db);
  });
});
