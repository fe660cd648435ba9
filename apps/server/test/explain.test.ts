import { ServerListQuery } from "@switchboard/shared";
import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, queryRows } from "../src/db/client";
import { keyByHashQuery } from "../src/modules/keys/repo";
import { countQuery, pageQuery } from "../src/modules/servers/repo";
import { openTestDatabase } from "./db";

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/**
 * With 10,000 servers over 100 tenants on PostgreSQL, the queries the API runs must reach rows
 * through indexes: a sequential scan here would grow with every tenant's data.
 */
describe.runIf(process.env.TEST_DATABASE_URL)("query plans on PostgreSQL with 10,000 servers", () => {
  let database: Database;

  const plan = async (query: { toSQL(): { sql: string; params: unknown[] } }) => {
    const { sql: text, params } = query.toSQL();
    // Inline the parameters the way the driver would bind them.
    const bound = text.replace(/\$(\d+)/g, (_, i) => {
      const v = params[Number(i) - 1];
      if (Array.isArray(v))
        return `ARRAY[${v.map((x) => `'${String(x).replaceAll("'", "''")}'`).join(",")}]::text[]`;
      return typeof v === "number" ? String(v) : `'${String(v).replaceAll("'", "''")}'`;
    });
    const [row] = await queryRows<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
      database.db,
      sql.raw(`EXPLAIN (FORMAT JSON) ${bound}`) as SQL,
    );
    const root = row?.["QUERY PLAN"][0].Plan;
    if (!root) throw new Error("no plan");
    return nodes(root);
  };

  beforeAll(async () => {
    database = await openTestDatabase("postgres");
    const db = database.db;
    await db.execute(sql`
      INSERT INTO organization (id, name, slug, created_at)
      SELECT 'tenant-' || t, 'Tenant ' || t, 'tenant-' || t, now() FROM generate_series(1, 100) t`);
    await db.execute(sql`
      INSERT INTO mcp_servers (tenant_id, name, display_name, description, transport, url, tags, status)
      SELECT 'tenant-' || (s % 100 + 1), 'server-' || s, 'Server ' || s, 'Serves thing ' || s,
             CASE WHEN s % 2 = 0 THEN 'sse' ELSE 'streamable-http' END,
             'http://127.0.0.1:9/mcp', ARRAY['tag-' || (s % 7)],
             (ARRAY['unknown','healthy','degraded','unhealthy'])[s % 4 + 1]
      FROM generate_series(1, 10000) s`);
    await db.execute(sql`
      INSERT INTO mcp_api_keys (tenant_id, server_id, name, key_hash, prefix)
      SELECT tenant_id, id, 'key', md5(id::text) || md5(name), 'mcp_abcdefgh' FROM mcp_servers`);
    await db.execute(sql`ANALYZE`);
  }, 120_000);
  afterAll(() => database?.close());

  const queries = [
    {},
    { sort: "-updatedAt" },
    { sort: "status", status: "healthy" },
    { q: "thing 42", sort: "-lastCheckedAt" },
    { tag: "tag-3", transport: "sse", enabled: "true" },
    { page: "2", pageSize: "200", sort: "displayName" },
  ];

  it.each(queries)("lists one tenant's servers through an index: %o", async (raw) => {
    const query = ServerListQuery.parse(raw);
    for (const q of [
      pageQuery(database.db, "tenant-42", query),
      countQuery(database.db, "tenant-42", query),
    ]) {
      const steps = await plan(q);
      const scans = steps.filter((n) => n["Relation Name"]?.startsWith("mcp_server"));
      expect(scans.some((n) => n["Relation Name"] === "mcp_servers")).toBe(true);
      if (query.q) expect(scans.some((n) => n["Relation Name"] === "mcp_server_search")).toBe(true);
      for (const scan of scans) expect(scan["Node Type"], JSON.stringify(scan)).not.toBe("Seq Scan");
    }
  });

  it("looks a key up by its hash through the unique index", async () => {
    const steps = await plan(keyByHashQuery(database.db, "0".repeat(64)));
    const scan = steps.find((n) => n["Relation Name"] === "mcp_api_keys");
    expect(scan?.["Node Type"]).toMatch(/Index/);
    expect(scan?.["Index Name"]).toBe("mcp_api_keys_key_hash_uq");
  });
});
