import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, queryRows } from "../../apps/server/src/db/client";
import { openTestDatabase } from "../../apps/server/test/db";
import { LARGE_TABLE, largeSeqScans, type PlanNode, seqScans } from "./plans";

describe("the query benchmark's scan check", () => {
  let database: Database;
  const sizes = new Map<string, number>();

  const planOf = async (statement: string) => {
    const [row] = await queryRows<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
      database.db,
      sql.raw(`EXPLAIN (FORMAT JSON) ${statement}`),
    );
    if (!row) throw new Error("no plan");
    return row["QUERY PLAN"][0].Plan;
  };
  const flagged = async (statement: string) => largeSeqScans(seqScans(await planOf(statement)), sizes);

  beforeAll(async () => {
    database = await openTestDatabase("pglite");
    for (const statement of [
      "CREATE TABLE big (id int PRIMARY KEY, tenant int NOT NULL, note text)",
      `INSERT INTO big SELECT g, g % 100, 'row ' || g FROM generate_series(1, ${LARGE_TABLE * 2}) g`,
      "CREATE TABLE small (id int PRIMARY KEY, tenant int NOT NULL)",
      "INSERT INTO small SELECT g, g FROM generate_series(1, 50) g",
      "ANALYZE big, small",
    ])
      await database.db.execute(sql.raw(statement));
    const rows = await queryRows<{ relname: string; n: number }>(
      database.db,
      sql`SELECT relname, reltuples::int AS n FROM pg_class WHERE relname IN ('big', 'small')`,
    );
    for (const r of rows) sizes.set(r.relname, r.n);
  });
  afterAll(() => database?.close());

  it("fails a large table read from end to end, and passes it once an index serves the filter", async () => {
    expect(await flagged("SELECT * FROM big WHERE tenant = 7")).toEqual(["big"]);
    await database.db.execute(sql`CREATE INDEX big_tenant ON big (tenant)`);
    await database.db.execute(sql`ANALYZE big`);
    expect(await flagged("SELECT * FROM big WHERE tenant = 7")).toEqual([]);
    expect(await flagged("SELECT * FROM big WHERE id = 42")).toEqual([]);
  });

  it("finds a scan nested under joins, and lets a small table be scanned", async () => {
    const plan = await planOf("SELECT * FROM small s JOIN big b ON b.note = 'row ' || s.id");
    expect(seqScans(plan).sort()).toEqual(["big", "small"]);
    expect(largeSeqScans(seqScans(plan), sizes)).toEqual(["big"]);
    expect(await flagged("SELECT * FROM small WHERE tenant = 3")).toEqual([]);
  });
});
