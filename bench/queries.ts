import { sql } from "drizzle-orm";
import type { Db } from "../apps/server/src/db/client";
import { createMemoryBus } from "../apps/server/src/lib/bus";
import { systemClock } from "../apps/server/src/lib/clock";
import { recordChecks } from "../apps/server/src/modules/health/record";
import { claimDueServers, purgeHealthHistory } from "../apps/server/src/modules/health/service";
import { RECORD_BATCH } from "../apps/server/src/worker/scheduler";
import { headersFor, seedServers, seedTenant, startBenchApp } from "./lib/app";
import { type BenchDbKind, openBenchDatabase } from "./lib/database";
import { largeSeqScans, type PlanNode, seqScans } from "./lib/plans";
import { median, round } from "./lib/stats";

export interface QueryRow {
  query: string;
  /** Execution time, which the target bounds. */
  medianMs: number;
  p99Ms: number;
  /** Planning time, which comes on top for a statement that is not prepared. */
  planningMedianMs: number;
  /** Relations the plan reads with a sequential scan. */
  seqScans: string[];
  /** Sequential scans of tables with more than LARGE_TABLE rows: what fails the benchmark. */
  largeSeqScans: string[];
}

export interface QueryOptions {
  tenants: number;
  serversPerTenant: number;
  healthPerServer: number;
  runs: number;
}

type RawClient = { query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };

/** Seeds the other tenants, their servers, keys, health history and audit trail in bulk. */
async function seedBulk(db: Db, realTenant: string, opts: QueryOptions) {
  await db.execute(sql`
    INSERT INTO organization (id, name, slug, created_at)
    SELECT 'bench-tenant-' || t, 'Tenant ' || t, 'bench-tenant-' || t, now()
    FROM generate_series(2, ${opts.tenants}) t`);
  await seedServers(db, realTenant, opts.serversPerTenant);
  for (let t = 2; t <= opts.tenants; t++) await seedServers(db, `bench-tenant-${t}`, opts.serversPerTenant);
  await db.execute(sql`
    INSERT INTO mcp_api_keys (tenant_id, server_id, name, key_hash, prefix)
    SELECT tenant_id, id, 'key', encode(sha256(id::text::bytea), 'hex'), 'mcp_abcdefgh' FROM mcp_servers`);
  await db.execute(sql`
    INSERT INTO mcp_server_health (server_id, tenant_id, checked_at, status, latency_ms, error)
    SELECT s.id, s.tenant_id, now() - (g || ' minutes')::interval,
           (ARRAY['healthy','degraded','unhealthy'])[g % 3 + 1], 5 + g % 300,
           CASE WHEN g % 3 = 2 THEN 'timeout' END
    FROM mcp_servers s CROSS JOIN generate_series(1, ${opts.healthPerServer}) g`);
  await db.execute(sql`
    INSERT INTO audit_logs (tenant_id, actor_type, actor_id, action, target_type, target_id, changes, created_at)
    SELECT s.tenant_id, 'user', 'user-' || (g % 5), (ARRAY['server.create','server.update','key.create'])[g % 3 + 1],
           'server', s.id::text, '{"after":{"name":"x"}}'::jsonb, now() - (g || ' hours')::interval
    FROM mcp_servers s CROSS JOIN generate_series(1, 2) g`);
  await db.execute(sql`ANALYZE`);
}

/**
 * Every statement the API and the scheduler run, collected while a script walks every endpoint,
 * then timed with EXPLAIN (ANALYZE, BUFFERS) over repeated runs. Writes run inside a transaction
 * that is rolled back, so every run sees the same data.
 */
export async function benchQueries(kind: BenchDbKind, opts: QueryOptions): Promise<QueryRow[]> {
  const seen = new Map<string, unknown[]>();
  let capturing = false;
  const database = await openBenchDatabase(kind, "queries", {
    poolSize: 1,
    onQuery: (text, params) => {
      // The last parameters of a statement are kept: the scheduler, last to run, records a whole
      // batch of checks with the statement a single manual check uses.
      if (capturing) seen.set(text, params);
    },
  });
  const server = await startBenchApp(database);
  try {
    const tenant = await seedTenant(server.app, 1);
    console.error(`  queries ${kind}: seeding ${opts.tenants * opts.serversPerTenant} servers…`);
    await seedBulk(database.db, tenant.orgId, opts);

    capturing = true;
    const walked = await walkTheApi(server.app, headersFor(tenant.admins[0] ?? tenant.owner), database.db);
    capturing = false;
    // The walk deleted its server; put one back under the same id, so that the captured writes
    // that refer to it (keys, health rows) can run again under EXPLAIN ANALYZE.
    await database.db.execute(sql`
      INSERT INTO mcp_servers (id, tenant_id, name, display_name, transport, url)
      VALUES (${walked}, ${tenant.orgId}, 'bench-walk-again', 'Again', 'streamable-http', 'http://127.0.0.1:9/mcp')`);

    const client = (database.db as unknown as { $client: RawClient }).$client;
    const sizes = new Map(
      (
        await client.query(
          "SELECT relname, reltuples::bigint AS n FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace",
        )
      ).rows.map((r) => [String(r.relname), Number(r.n)]),
    );
    const rows: QueryRow[] = [];
    for (const [text, params] of seen) {
      if (/^\s*(begin|commit|rollback|set|select pg_advisory)/i.test(text)) continue;
      const times: number[] = [];
      const planning: number[] = [];
      let scans: string[] = [];
      for (let i = 0; i < opts.runs + 1; i++) {
        await client.query("BEGIN");
        try {
          const res = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, params);
          const [row] = res.rows as {
            "QUERY PLAN": [{ Plan: PlanNode; "Execution Time": number; "Planning Time": number }];
          }[];
          if (!row) throw new Error(`EXPLAIN returned nothing for ${text}`);
          const [plan] = row["QUERY PLAN"];
          if (i > 0) {
            times.push(plan["Execution Time"]);
            planning.push(plan["Planning Time"]);
          }
          scans = seqScans(plan.Plan);
        } finally {
          await client.query("ROLLBACK");
        }
      }
      rows.push({
        query: text.replace(/\s+/g, " ").slice(0, 160),
        medianMs: round(median(times), 3),
        p99Ms: round(Math.max(...times), 3),
        planningMedianMs: round(median(planning), 3),
        seqScans: scans,
        largeSeqScans: largeSeqScans(scans, sizes),
      });
    }
    console.error(`  queries ${kind}: ${rows.length} distinct statements timed`);
    return rows;
  } finally {
    await server.close();
    await database.close();
  }
}

/** Calls every endpoint once, and runs a scheduler round's statements. */
async function walkTheApi(
  app: Awaited<ReturnType<typeof startBenchApp>>["app"],
  headers: Record<string, string>,
  db: Db,
): Promise<string> {
  const call = async (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object) => {
    const res = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
    if (res.statusCode >= 400 && res.statusCode !== 404)
      throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  };
  for (const q of [
    "",
    "?sort=-updatedAt",
    "?sort=status&status=healthy",
    "?q=thing%2042&sort=-lastCheckedAt",
    "?tag=tag-3&transport=sse&enabled=true",
    "?page=2&pageSize=200&sort=displayName",
  ])
    await call("GET", `/mcp/servers${q}`);
  const created = await call("POST", "/mcp/servers", {
    name: "bench-walk",
    url: "http://127.0.0.1:9/mcp",
    transport: "streamable-http",
    headers: [{ name: "x-token", value: "secret" }],
  });
  const server = created.json() as { id: string };
  const got = await call("GET", `/mcp/servers/${server.id}`);
  await app.inject({
    method: "PATCH",
    url: `/mcp/servers/${server.id}`,
    headers: { ...headers, "if-match": String(got.headers.etag) },
    payload: { description: "Walked" },
  });
  const key = (await call("POST", `/mcp/servers/${server.id}/keys`, { name: "walk" })).json() as {
    id: string;
    key: string;
  };
  await call("GET", `/mcp/servers/${server.id}/keys`);
  await app.inject({ method: "GET", url: "/mcp/whoami", headers: { authorization: `Bearer ${key.key}` } });
  await call("DELETE", `/mcp/servers/${server.id}/keys/${key.id}`);
  await call("GET", `/mcp/servers/${server.id}/health?limit=100`);
  await call("POST", `/mcp/servers/${server.id}/check`);
  await call("GET", "/mcp/audit-logs");
  await call("GET", "/mcp/audit-logs?action=server.create&pageSize=50");
  await call("GET", `/mcp/audit-logs?targetId=${server.id}`);
  await call("GET", `/mcp/audit-logs?actorId=user-1&from=${new Date(Date.now() - 86_400_000).toISOString()}`);
  await call("DELETE", `/mcp/servers/${server.id}`);

  // The scheduler's statements: claim what is due, record a check, purge old history.
  const deps = { db, clock: systemClock, bus: createMemoryBus(), log: app.log };
  // A batch of checks recorded as the scheduler records them.
  const due = await claimDueServers(db, new Date(), RECORD_BATCH, new Date(Date.now() + 60_000));
  await recordChecks(
    deps,
    due.map((server) => ({
      server,
      checkedAt: new Date(),
      result: {
        status: "healthy",
        latencyMs: 12,
        error: null,
        serverInfo: {
          name: "x",
          version: "1",
          protocolVersion: "2025-06-18",
          era: "legacy",
          capabilities: {},
        },
        tools: [],
        prompts: [],
        resources: [],
        authChallenge: null,
      },
    })),
  );
  await purgeHealthHistory({ ...deps, retentionDays: 30 });
  return server.id;
}
