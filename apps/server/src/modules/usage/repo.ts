import { and, eq, gte, lt, sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";
import { mcpUsageMinutes } from "../../db/schema";

/** One server's, key's and minute's calls, as a batch adds them. */
export interface UsageRow {
  tenantId: string;
  serverId: string;
  keyId: string;
  minute: Date;
  calls: number;
  errors: number;
  latencyMsSum: number;
  latencyMsMax: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * Adds rows to the rollup in one statement: counts and sums add up, the maximum stays the
 * largest. Only rows whose key still belongs to that server (and tenant) are written, so that a
 * batch is never lost to a server deleted meanwhile; rows go in key order, so that instances
 * writing the same minutes at once never deadlock. Rows must be unique per server, minute and key.
 */
export async function addUsage(db: Db, rows: UsageRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const input = JSON.stringify(
    rows.map((r) => ({
      server_id: r.serverId,
      minute: r.minute.toISOString(),
      key_id: r.keyId,
      tenant_id: r.tenantId,
      calls: r.calls,
      errors: r.errors,
      latency_ms_sum: r.latencyMsSum,
      latency_ms_max: r.latencyMsMax,
      bytes_in: r.bytesIn,
      bytes_out: r.bytesOut,
    })),
  );
  const written = await queryRows<{ server_id: string }>(
    db,
    sql`
      INSERT INTO mcp_usage_minutes AS u
        (server_id, minute, key_id, tenant_id, calls, errors, latency_ms_sum, latency_ms_max, bytes_in, bytes_out)
      SELECT i.server_id, i.minute, i.key_id, i.tenant_id, i.calls, i.errors, i.latency_ms_sum,
             i.latency_ms_max, i.bytes_in, i.bytes_out
      FROM jsonb_to_recordset(${input}::jsonb) AS i(
        server_id uuid, minute timestamptz, key_id uuid, tenant_id text, calls integer, errors integer,
        latency_ms_sum bigint, latency_ms_max integer, bytes_in bigint, bytes_out bigint)
      JOIN mcp_api_keys k ON k.id = i.key_id AND k.server_id = i.server_id AND k.tenant_id = i.tenant_id
      ORDER BY i.server_id, i.minute, i.key_id
      ON CONFLICT (server_id, minute, key_id) DO UPDATE SET
        calls = u.calls + excluded.calls,
        errors = u.errors + excluded.errors,
        latency_ms_sum = u.latency_ms_sum + excluded.latency_ms_sum,
        latency_ms_max = GREATEST(u.latency_ms_max, excluded.latency_ms_max),
        bytes_in = u.bytes_in + excluded.bytes_in,
        bytes_out = u.bytes_out + excluded.bytes_out
      RETURNING u.server_id`,
  );
  return written.length;
}

/** Sums over a bucket of time (or over a key). */
export interface UsageTotals {
  calls: number;
  errors: number;
  latencyMsSum: number;
  latencyMsMax: number | null;
  bytesIn: number;
  bytesOut: number;
}

const totals = {
  calls: sql<string>`coalesce(sum(${mcpUsageMinutes.calls}), 0)`,
  errors: sql<string>`coalesce(sum(${mcpUsageMinutes.errors}), 0)`,
  latencyMsSum: sql<string>`coalesce(sum(${mcpUsageMinutes.latencyMsSum}), 0)`,
  latencyMsMax: sql<number | null>`max(${mcpUsageMinutes.latencyMsMax})`,
  bytesIn: sql<string>`coalesce(sum(${mcpUsageMinutes.bytesIn}), 0)`,
  bytesOut: sql<string>`coalesce(sum(${mcpUsageMinutes.bytesOut}), 0)`,
};

// Sums of bigints come back as strings from both drivers.
const toTotals = (r: {
  calls: string;
  errors: string;
  latencyMsSum: string;
  latencyMsMax: number | null;
  bytesIn: string;
  bytesOut: string;
}): UsageTotals => ({
  calls: Number(r.calls),
  errors: Number(r.errors),
  latencyMsSum: Number(r.latencyMsSum),
  latencyMsMax: r.latencyMsMax === null ? null : Number(r.latencyMsMax),
  bytesIn: Number(r.bytesIn),
  bytesOut: Number(r.bytesOut),
});

/**
 * A server's usage in [from, to), summed per bucket of `stepSeconds` (buckets start at multiples
 * of the step since the epoch), for all its keys or one; only buckets with calls are returned.
 */
export async function usageSeries(
  db: Db,
  q: { tenantId: string; serverId: string; keyId: string | null; from: Date; to: Date; stepSeconds: number },
): Promise<(UsageTotals & { bucket: number })[]> {
  // The step is written into the statement, not sent as a parameter: PostgreSQL groups by an
  // expression only when it is the same text in the select list and the GROUP BY.
  if (!Number.isInteger(q.stepSeconds) || q.stepSeconds <= 0) throw new Error("step must be a whole number");
  const bucket = sql<string>`floor(extract(epoch from ${mcpUsageMinutes.minute}) / ${sql.raw(String(q.stepSeconds))})`;
  const rows = await db
    .select({ bucket, ...totals })
    .from(mcpUsageMinutes)
    .where(
      and(
        eq(mcpUsageMinutes.tenantId, q.tenantId),
        eq(mcpUsageMinutes.serverId, q.serverId),
        gte(mcpUsageMinutes.minute, q.from),
        lt(mcpUsageMinutes.minute, q.to),
        q.keyId ? eq(mcpUsageMinutes.keyId, q.keyId) : undefined,
      ),
    )
    .groupBy(bucket)
    .orderBy(bucket);
  return rows.map((r) => ({ ...toTotals(r), bucket: Number(r.bucket) * q.stepSeconds }));
}

/** A server's usage in [from, to), summed per key; only keys with calls are returned. */
export async function usageByKey(
  db: Db,
  q: { tenantId: string; serverId: string; from: Date; to: Date },
): Promise<(UsageTotals & { keyId: string; lastMinute: Date })[]> {
  const rows = await db
    .select({
      keyId: mcpUsageMinutes.keyId,
      lastMinute: sql<Date>`max(${mcpUsageMinutes.minute})`.mapWith(mcpUsageMinutes.minute),
      ...totals,
    })
    .from(mcpUsageMinutes)
    .where(
      and(
        eq(mcpUsageMinutes.tenantId, q.tenantId),
        eq(mcpUsageMinutes.serverId, q.serverId),
        gte(mcpUsageMinutes.minute, q.from),
        lt(mcpUsageMinutes.minute, q.to),
      ),
    )
    .groupBy(mcpUsageMinutes.keyId);
  return rows.map((r) => ({ ...toTotals(r), keyId: r.keyId, lastMinute: r.lastMinute }));
}

/** Deletes the rollup's minutes before `cutoff`; returns how many rows went. */
export async function deleteUsageBefore(db: Db, cutoff: Date): Promise<number> {
  const gone = await db
    .delete(mcpUsageMinutes)
    .where(lt(mcpUsageMinutes.minute, cutoff))
    .returning({ minute: mcpUsageMinutes.minute });
  return gone.length;
}
