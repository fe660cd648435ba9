import { and, desc, eq, lt, lte, sql } from "drizzle-orm";
import { type Db, type Queryable, queryRows } from "../../db/client";
import { mcpServerHealth, mcpServers, type ServerInfo, type ToolSummary } from "../../db/schema";
import type { ServerRow } from "../servers/repo";

export type HealthRow = typeof mcpServerHealth.$inferSelect;

/** One check as recorded: its history row and the server's health columns after it. */
export interface HealthRecord {
  serverId: string;
  tenantId: string;
  checkedAt: Date;
  status: HealthRow["status"];
  latencyMs: number;
  error: string | null;
  protocolVersion: string | null;
  toolsCount: number | null;
  consecutiveFailures: number;
  nextCheckAt: Date | null;
  /** What a successful probe learned; null keeps what the last one found. */
  learned: { serverInfo: ServerInfo; tools: ToolSummary[] } | null;
}

/**
 * Records checks in one statement, however many: each one's history row, and its outcome on the
 * server (health is not an edit: version and updatedAt stay). The scheduler writes a batch per
 * round trip this way, and one statement is atomic on its own. History is written only for the
 * servers the UPDATE found (and locked), so a server deleted meanwhile is skipped, never a
 * foreign-key error. Returns the ids of the servers recorded.
 */
export async function recordHealth(q: Queryable, records: HealthRecord[]): Promise<string[]> {
  if (records.length === 0) return [];
  const input = JSON.stringify(
    records.map((r) => ({
      server_id: r.serverId,
      tenant_id: r.tenantId,
      checked_at: r.checkedAt,
      status: r.status,
      latency_ms: r.latencyMs,
      error: r.error,
      protocol_version: r.protocolVersion,
      tools_count: r.toolsCount,
      consecutive_failures: r.consecutiveFailures,
      next_check_at: r.nextCheckAt,
      learned: r.learned !== null,
      server_info: r.learned?.serverInfo ?? null,
      tools: r.learned?.tools ?? null,
    })),
  );
  const rows = await queryRows<{ server_id: string }>(
    q,
    sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${input}::jsonb) AS i(
          server_id uuid, tenant_id text, checked_at timestamptz, status text, latency_ms integer,
          error text, protocol_version text, tools_count integer, consecutive_failures integer,
          next_check_at timestamptz, learned boolean, server_info jsonb, tools jsonb)
      ), updated AS (
        UPDATE mcp_servers s SET
          status = i.status,
          last_checked_at = i.checked_at,
          last_latency_ms = i.latency_ms,
          consecutive_failures = i.consecutive_failures,
          next_check_at = i.next_check_at,
          last_error = i.error,
          server_info = CASE WHEN i.learned THEN i.server_info ELSE s.server_info END,
          tools = CASE WHEN i.learned THEN i.tools ELSE s.tools END
        FROM input i
        WHERE s.id = i.server_id AND s.tenant_id = i.tenant_id
        RETURNING s.id
      )
      INSERT INTO mcp_server_health
        (server_id, tenant_id, checked_at, status, latency_ms, error, protocol_version, tools_count)
      SELECT i.server_id, i.tenant_id, i.checked_at, i.status, i.latency_ms, i.error, i.protocol_version, i.tools_count
      FROM input i JOIN updated u ON u.id = i.server_id
      RETURNING server_id`,
  );
  return rows.map((r) => r.server_id);
}

export function findHistory(db: Db, tenantId: string, serverId: string, limit: number): Promise<HealthRow[]> {
  return db
    .select()
    .from(mcpServerHealth)
    .where(and(eq(mcpServerHealth.serverId, serverId), eq(mcpServerHealth.tenantId, tenantId)))
    .orderBy(desc(mcpServerHealth.checkedAt), desc(mcpServerHealth.id))
    .limit(limit);
}

/**
 * Claims up to `limit` enabled servers whose check is due, pushing their next check to
 * `leaseUntil` so that no other scheduler claims them meanwhile. SKIP LOCKED lets schedulers
 * on several instances claim disjoint batches at the same moment.
 */
export async function claimDueServers(
  db: Db,
  now: Date,
  limit: number,
  leaseUntil: Date,
): Promise<ServerRow[]> {
  const due = db
    .select({ id: mcpServers.id })
    .from(mcpServers)
    .where(and(eq(mcpServers.enabled, true), lte(mcpServers.nextCheckAt, now)))
    .orderBy(mcpServers.nextCheckAt)
    .limit(limit)
    .for("update", { skipLocked: true });
  return db
    .update(mcpServers)
    .set({ nextCheckAt: leaseUntil })
    .where(sql`${mcpServers.id} IN (${due})`)
    .returning();
}

export async function deleteHealthBefore(db: Db, cutoff: Date): Promise<number> {
  const gone = await db
    .delete(mcpServerHealth)
    .where(lt(mcpServerHealth.checkedAt, cutoff))
    .returning({ id: mcpServerHealth.id });
  return gone.length;
}
