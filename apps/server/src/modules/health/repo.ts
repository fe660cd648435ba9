import { and, asc, count, desc, eq, gte, inArray, lt, lte, min, sql } from "drizzle-orm";
import { type Db, type Queryable, queryRows } from "../../db/client";
import { preparedPerDb } from "../../db/prepared";
import {
  type AuthChallenge,
  mcpCheckSchedule,
  mcpHealthHours,
  mcpServerHealth,
  mcpServers,
  mcpToolDrift,
  organization,
  type PinnedTool,
  type PromptSummary,
  type ResourceSummary,
  type ServerInfo,
  type ServerRow,
  type ToolDefinition,
} from "../../db/schema";

export type HealthRow = typeof mcpServerHealth.$inferSelect;

/** What a probe that reached a server learned of it; a failed one learns nothing and keeps the last. */
export interface Learned {
  serverInfo: ServerInfo;
  /** What the server listed; null when listing failed, so that the last full listing stands. */
  listing: Listing | null;
}

/** A server's tools, prompts and resources, as one probe listed them in full. */
export interface Listing {
  tools: ToolDefinition[];
  toolsHash: string;
  /** The tool set in pinned form, compared with the server's pin to tell whether it drifted. */
  pin: PinnedTool[];
  prompts: PromptSummary[];
  resources: ResourceSummary[];
}

/** One check as recorded: its history row and the server's health columns after it. */
export interface HealthRecord {
  serverId: string;
  tenantId: string;
  checkedAt: Date;
  /** The server's last check as this one found it when it began (null: never checked). */
  seenLastCheckedAt: Date | null;
  status: HealthRow["status"];
  latencyMs: number;
  error: string | null;
  protocolVersion: string | null;
  era: HealthRow["era"];
  toolsCount: number | null;
  consecutiveFailures: number;
  nextCheckAt: Date | null;
  learned: Learned | null;
  /** Kept while the server asks for OAuth, cleared by any other outcome. */
  authChallenge: AuthChallenge | null;
}

/** A server whose tool definitions a recorded check saw change: what they were before. */
export interface ToolsChanged {
  serverId: string;
  tenantId: string;
  fromHash: string;
  before: ToolDefinition[];
  after: ToolDefinition[];
  toHash: string;
  pinned: boolean;
}

const HOUR_MS = 3_600_000;

/** The UTC hour a check ran in (date_trunc alone would follow the session's time zone). */
const UTC_HOUR = sql.raw(`date_trunc('hour', i.checked_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`);

/**
 * Records checks in one statement, however many: each one's history row, and its outcome on the
 * server (health is not an edit: version and updatedAt stay); what a check learned replaces what
 * was stored, its server info and its listing each on their own; `status_since` moves only when the
 * status does, and each check is added to its server's hour in mcp_health_hours (the rollup that
 * uptime and long series read). The scheduler writes a batch per
 * round trip this way, and one statement is atomic on its own. History is written only for the
 * servers found (and locked), so a server deleted meanwhile is skipped, never a foreign-key error.
 * A check that answered before one recorded since it began (two checks overlapping) is added to
 * the history only. Returns the ids of the servers recorded, those whose state the checks set
 * (`current`), and, for those whose tools changed since the last check that listed them, the
 * definitions before (as the row lock found them).
 */
export async function recordHealth(
  q: Queryable,
  records: HealthRecord[],
): Promise<{ recorded: string[]; current: string[]; changed: ToolsChanged[] }> {
  if (records.length === 0) return { recorded: [], current: [], changed: [] };
  const input = JSON.stringify(
    records.map((r) => ({
      server_id: r.serverId,
      tenant_id: r.tenantId,
      checked_at: r.checkedAt,
      seen_last_checked_at: r.seenLastCheckedAt,
      status: r.status,
      latency_ms: r.latencyMs,
      error: r.error,
      protocol_version: r.protocolVersion,
      era: r.era,
      tools_count: r.toolsCount,
      consecutive_failures: r.consecutiveFailures,
      next_check_at: r.nextCheckAt,
      learned: r.learned !== null,
      listed: (r.learned?.listing ?? null) !== null,
      server_info: r.learned?.serverInfo ?? null,
      tools: r.learned?.listing?.tools ?? null,
      tools_hash: r.learned?.listing?.toolsHash ?? null,
      pin: r.learned?.listing?.pin ?? null,
      prompts: r.learned?.listing?.prompts ?? null,
      resources: r.learned?.listing?.resources ?? null,
      auth_challenge: r.authChallenge,
    })),
  );
  const rows = await queryRows<{
    server_id: string;
    tenant_id: string;
    before_hash: string | null;
    before_tools: ToolDefinition[] | null;
    after_tools: ToolDefinition[] | null;
    after_hash: string | null;
    pinned: boolean;
    newest: boolean;
  }>(
    q,
    sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${input}::jsonb) AS i(
          server_id uuid, tenant_id text, checked_at timestamptz, seen_last_checked_at timestamptz,
          status text, latency_ms integer,
          error text, protocol_version text, era text, tools_count integer, consecutive_failures integer,
          next_check_at timestamptz, learned boolean, listed boolean, server_info jsonb, tools jsonb, tools_hash text,
          pin jsonb, prompts jsonb, resources jsonb, auth_challenge jsonb)
      ), locked AS (
        -- Rows locked in id order, as every other many-row writer (bulk actions) locks them: two
        -- writers that lock in different orders can deadlock. Locking reads each row as it is now,
        -- whatever committed since this statement began: the tools it had, and its last check.
        SELECT s.id, s.last_checked_at, s.tools_hash, s.tools, s.pinned_tools IS NOT NULL AS pinned
        FROM mcp_servers s WHERE s.id IN (SELECT server_id FROM input) ORDER BY s.id FOR UPDATE
      ), updated AS (
        -- Two checks of a server can overlap (one by hand during a scheduled one), and finish in
        -- either order: the one that answered last sets the server's state, the other is history
        -- only. Times are compared only when another check was recorded since this one began, so
        -- that clocks a little apart (instances on several hosts) never set a check aside.
        UPDATE mcp_servers s SET
          status = CASE WHEN n.newest THEN i.status ELSE s.status END,
          -- An older check of the status the server is in dates that status back to it: the
          -- newer check recorded first saw it begin only as late as itself.
          status_since = CASE
            WHEN NOT n.newest THEN CASE WHEN s.status = i.status AND i.checked_at < s.status_since
              THEN i.checked_at ELSE s.status_since END
            WHEN s.status = i.status THEN coalesce(s.status_since, i.checked_at) ELSE i.checked_at END,
          last_checked_at = CASE WHEN n.newest THEN i.checked_at ELSE s.last_checked_at END,
          last_latency_ms = CASE WHEN n.newest THEN i.latency_ms ELSE s.last_latency_ms END,
          consecutive_failures = CASE WHEN n.newest THEN i.consecutive_failures ELSE s.consecutive_failures END,
          next_check_at = CASE WHEN n.newest THEN i.next_check_at ELSE s.next_check_at END,
          last_error = CASE WHEN n.newest THEN i.error ELSE s.last_error END,
          auth_challenge = CASE WHEN n.newest THEN i.auth_challenge ELSE s.auth_challenge END,
          server_info = CASE WHEN n.newest AND i.learned THEN i.server_info ELSE s.server_info END,
          tools_hash = CASE WHEN n.newest AND i.listed THEN i.tools_hash ELSE s.tools_hash END,
          tools_drifted = CASE WHEN n.newest AND i.listed
            THEN s.pinned_tools IS NOT NULL AND s.pinned_tools <> i.pin ELSE s.tools_drifted END,
          -- What was listed is written only where it changed: an unchanged value stays as stored
          -- (a large tool set is stored out of line, and writing it again every check churns it).
          tools = CASE WHEN n.newest AND i.listed AND s.tools_hash IS DISTINCT FROM i.tools_hash
            THEN i.tools ELSE s.tools END,
          prompts = CASE WHEN n.newest AND i.listed AND s.prompts IS DISTINCT FROM i.prompts
            THEN i.prompts ELSE s.prompts END,
          resources = CASE WHEN n.newest AND i.listed AND s.resources IS DISTINCT FROM i.resources
            THEN i.resources ELSE s.resources END
        FROM input i JOIN locked l ON l.id = i.server_id,
        LATERAL (SELECT l.last_checked_at IS NULL OR l.last_checked_at = i.seen_last_checked_at
                   OR l.last_checked_at <= i.checked_at AS newest) n
        WHERE s.id = i.server_id AND s.tenant_id = i.tenant_id
        RETURNING s.id, n.newest
      ), inserted AS (
        INSERT INTO mcp_server_health
          (server_id, tenant_id, checked_at, status, latency_ms, error, protocol_version, era, tools_count)
        SELECT i.server_id, i.tenant_id, i.checked_at, i.status, i.latency_ms, i.error, i.protocol_version,
               i.era, i.tools_count
        FROM input i JOIN updated u ON u.id = i.server_id
        RETURNING server_id
      ), hours AS (
        -- Grouped first, so that no row is touched twice; in key order, so that writers never deadlock.
        INSERT INTO mcp_health_hours AS h
          (server_id, tenant_id, hour, checks, healthy, degraded, unhealthy, auth_required,
           latency_sum, latency_count, latency_max)
        SELECT i.server_id, min(i.tenant_id), ${UTC_HOUR}, count(*),
               count(*) FILTER (WHERE i.status = 'healthy'), count(*) FILTER (WHERE i.status = 'degraded'),
               count(*) FILTER (WHERE i.status = 'unhealthy'), count(*) FILTER (WHERE i.status = 'auth_required'),
               coalesce(sum(i.latency_ms) FILTER (WHERE i.status <> 'unhealthy'), 0),
               count(i.latency_ms) FILTER (WHERE i.status <> 'unhealthy'),
               max(i.latency_ms) FILTER (WHERE i.status <> 'unhealthy')
        FROM input i JOIN updated u ON u.id = i.server_id
        GROUP BY i.server_id, ${UTC_HOUR}
        ORDER BY 1, 3
        ON CONFLICT (server_id, hour) DO UPDATE SET
          checks = h.checks + excluded.checks,
          healthy = h.healthy + excluded.healthy,
          degraded = h.degraded + excluded.degraded,
          unhealthy = h.unhealthy + excluded.unhealthy,
          auth_required = h.auth_required + excluded.auth_required,
          latency_sum = h.latency_sum + excluded.latency_sum,
          latency_count = h.latency_count + excluded.latency_count,
          latency_max = GREATEST(h.latency_max, excluded.latency_max)
      )
      SELECT ins.server_id, i.tenant_id, l.pinned, u.newest,
             l.tools_hash AS before_hash,
             CASE WHEN changed THEN l.tools END AS before_tools,
             CASE WHEN changed THEN i.tools END AS after_tools,
             CASE WHEN changed THEN i.tools_hash END AS after_hash
      FROM inserted ins
      JOIN input i ON i.server_id = ins.server_id
      JOIN updated u ON u.id = ins.server_id
      JOIN locked l ON l.id = ins.server_id,
      LATERAL (SELECT u.newest AND i.listed AND l.tools_hash IS NOT NULL AND l.tools_hash <> i.tools_hash AS changed) c`,
  );
  return {
    recorded: rows.map((r) => r.server_id),
    current: rows.filter((r) => r.newest).map((r) => r.server_id),
    changed: rows.flatMap((r) =>
      r.before_hash && r.before_tools && r.after_tools && r.after_hash
        ? [
            {
              serverId: r.server_id,
              tenantId: r.tenant_id,
              fromHash: r.before_hash,
              before: r.before_tools,
              after: r.after_tools,
              toHash: r.after_hash,
              pinned: r.pinned,
            },
          ]
        : [],
    ),
  };
}

export type DriftRow = typeof mcpToolDrift.$inferSelect;

/** Records a change of a server's tools. */
export async function insertDrift(q: Queryable, row: typeof mcpToolDrift.$inferInsert): Promise<DriftRow> {
  const [created] = await q.insert(mcpToolDrift).values(row).returning();
  if (!created) throw new Error("insert returned no row");
  return created;
}

/** A server's tool changes, newest first. */
export function findDrift(db: Db, tenantId: string, serverId: string, limit: number): Promise<DriftRow[]> {
  return db
    .select()
    .from(mcpToolDrift)
    .where(and(eq(mcpToolDrift.serverId, serverId), eq(mcpToolDrift.tenantId, tenantId)))
    .orderBy(desc(mcpToolDrift.detectedAt), desc(mcpToolDrift.id))
    .limit(limit);
}

/** Approves a tool set (or, with null, unpins): the server is drifted no more. */
export async function setPinnedTools(
  q: Queryable,
  tenantId: string,
  serverId: string,
  pinned: PinnedTool[] | null,
  at: Date | null,
): Promise<ServerRow | null> {
  const [row] = await q
    .update(mcpServers)
    .set({ pinnedTools: pinned, pinnedAt: at, toolsDrifted: false })
    .where(and(eq(mcpServers.tenantId, tenantId), eq(mcpServers.id, serverId)))
    .returning();
  return row ?? null;
}

export function findHistory(db: Db, tenantId: string, serverId: string, limit: number): Promise<HealthRow[]> {
  return db
    .select()
    .from(mcpServerHealth)
    .where(and(eq(mcpServerHealth.serverId, serverId), eq(mcpServerHealth.tenantId, tenantId)))
    .orderBy(desc(mcpServerHealth.checkedAt), desc(mcpServerHealth.id))
    .limit(limit);
}

/** What checking a server needs of it: where to reach it, and what its last check left. */
const CHECKED_COLUMNS = {
  id: mcpServers.id,
  tenantId: mcpServers.tenantId,
  url: mcpServers.url,
  transport: mcpServers.transport,
  headers: mcpServers.headers,
  enabled: mcpServers.enabled,
  checkIntervalSeconds: mcpServers.checkIntervalSeconds,
  status: mcpServers.status,
  consecutiveFailures: mcpServers.consecutiveFailures,
  toolsHash: mcpServers.toolsHash,
  lastCheckedAt: mcpServers.lastCheckedAt,
};
export type CheckedServer = Pick<ServerRow, keyof typeof CHECKED_COLUMNS>;

/**
 * Claims up to `limit` enabled servers whose check is due, pushing their place in the queue to
 * `leaseUntil` so that no other scheduler claims them meanwhile. SKIP LOCKED lets schedulers
 * on several instances claim disjoint batches at the same moment. The lease is written to the
 * queue alone: the server's row is written once per check, when the check is recorded. Returns
 * only what a check needs: a server's definitions can be large, and the scheduler claims every
 * few milliseconds.
 */
export async function claimDueServers(
  db: Db,
  now: Date,
  limit: number,
  leaseUntil: Date,
): Promise<CheckedServer[]> {
  return claimStatement(db, undefined).execute({ now, limit, leaseUntil });
}

// Built once and planned once per connection: the scheduler claims about twenty times a second.
const claimStatement = preparedPerDb(
  () => "",
  (db) => {
    const due = db
      .select({ id: mcpCheckSchedule.serverId })
      .from(mcpCheckSchedule)
      .innerJoin(mcpServers, eq(mcpServers.id, mcpCheckSchedule.serverId))
      // A server that needs configuration is never probed, whatever its next_check_at says.
      .where(
        and(
          lte(mcpCheckSchedule.dueAt, sql.placeholder("now")),
          eq(mcpServers.enabled, true),
          eq(mcpServers.needsConfiguration, false),
        ),
      )
      .orderBy(mcpCheckSchedule.dueAt)
      .limit(sql.placeholder("limit"))
      .for("update", { of: mcpCheckSchedule, skipLocked: true });
    return db
      .update(mcpCheckSchedule)
      .set({ dueAt: sql`${sql.placeholder("leaseUntil")}` })
      .from(mcpServers)
      .where(and(eq(mcpServers.id, mcpCheckSchedule.serverId), sql`${mcpCheckSchedule.serverId} IN (${due})`))
      .returning(CHECKED_COLUMNS)
      .prepare("claim_due_servers");
  },
);

/**
 * Vacuums the queue of due checks. Each check writes two versions of its row there (the lease,
 * then the next check), each with a new entry in the due-time index; the dead ones sit at the
 * front of that index, where every claim starts reading. Autovacuum may be off or lag behind such
 * churn, and the table is small: vacuuming it costs milliseconds. SKIP_LOCKED: while another
 * instance's scheduler vacuums it, this one skips its turn instead of waiting.
 */
export async function vacuumCheckQueue(db: Db): Promise<void> {
  await db.execute(sql`VACUUM (SKIP_LOCKED) mcp_check_schedule`);
}

export async function fleetCheckRate(db: Db): Promise<number> {
  const [row] = await db
    .select({ rate: sql<string>`coalesce(sum(1.0 / ${mcpServers.checkIntervalSeconds}), 0)` })
    .from(mcpServers)
    .where(eq(mcpServers.enabled, true));
  return Number(row?.rate ?? 0);
}

/**
 * Deletes the checks older than `cutoff`, and the hours of the rollup that ended by then (an hour
 * that straddles the cutoff stays whole until it is all past).
 */
export async function deleteHealthBefore(db: Db, cutoff: Date): Promise<{ checks: number; hours: number }> {
  const gone = await db
    .delete(mcpServerHealth)
    .where(lt(mcpServerHealth.checkedAt, cutoff))
    .returning({ id: mcpServerHealth.id });
  const hours = await db
    .delete(mcpHealthHours)
    .where(lte(mcpHealthHours.hour, new Date(cutoff.getTime() - HOUR_MS)))
    .returning({ hour: mcpHealthHours.hour });
  return { checks: gone.length, hours: hours.length };
}

/** Every tenant's servers, counted by status and whether they are enabled (for metrics). */
export function countServersByStatus(db: Db) {
  return db
    .select({ status: mcpServers.status, enabled: mcpServers.enabled, count: count() })
    .from(mcpServers)
    .groupBy(mcpServers.status, mcpServers.enabled);
}

/** When the oldest check that is due now was due; null when none is. */
export async function oldestDueCheck(db: Db, now: Date): Promise<Date | null> {
  const [row] = await db
    .select({ due: min(mcpCheckSchedule.dueAt) })
    .from(mcpCheckSchedule)
    .innerJoin(mcpServers, eq(mcpServers.id, mcpCheckSchedule.serverId))
    .where(and(eq(mcpServers.enabled, true), lte(mcpCheckSchedule.dueAt, now)));
  return row?.due ?? null;
}

/** Enabled servers whose last check found them unhealthy, by organization slug and name. */
export function findDownServers(db: Db, limit: number): Promise<{ org: string; server: string }[]> {
  return db
    .select({ org: organization.slug, server: mcpServers.name })
    .from(mcpServers)
    .innerJoin(organization, eq(organization.id, mcpServers.tenantId))
    .where(and(eq(mcpServers.enabled, true), eq(mcpServers.status, "unhealthy")))
    .orderBy(asc(organization.slug), asc(mcpServers.name))
    .limit(limit);
}

/** A server's checks over a window of hours, from the rollup. */
export interface UptimeRow {
  serverId: string;
  checksDay: number;
  unhealthyDay: number;
  checksWeek: number;
  unhealthyWeek: number;
  /** Mean latency of the answering checks by hour start (epoch seconds); hours without one absent. */
  latencyByHour: Record<string, number> | null;
}

/**
 * Availability of the tenant's servers among `ids` (others are left out) from the hours that
 * start at or after `week` (`day` for the 24-hour figures), up to `now`.
 */
export async function readUptime(
  db: Db,
  tenantId: string,
  ids: string[],
  { day, week, now }: { day: Date; week: Date; now: Date },
): Promise<UptimeRow[]> {
  const h = mcpHealthHours;
  const inDay = sql`${h.hour} >= ${day.toISOString()}::timestamptz`;
  return db
    .select({
      serverId: mcpServers.id,
      checksDay: sql<number>`coalesce(sum(${h.checks}) FILTER (WHERE ${inDay}), 0)::int`.mapWith(Number),
      unhealthyDay: sql<number>`coalesce(sum(${h.unhealthy}) FILTER (WHERE ${inDay}), 0)::int`.mapWith(
        Number,
      ),
      checksWeek: sql<number>`coalesce(sum(${h.checks}), 0)::int`.mapWith(Number),
      unhealthyWeek: sql<number>`coalesce(sum(${h.unhealthy}), 0)::int`.mapWith(Number),
      latencyByHour: sql<Record<string, number> | null>`jsonb_object_agg(
        extract(epoch FROM ${h.hour})::bigint, round(${h.latencySum}::numeric / ${h.latencyCount})::int
      ) FILTER (WHERE ${inDay} AND ${h.latencyCount} > 0)`,
    })
    .from(mcpServers)
    .leftJoin(h, and(eq(h.serverId, mcpServers.id), gte(h.hour, week), lte(h.hour, now)))
    .where(and(eq(mcpServers.tenantId, tenantId), inArray(mcpServers.id, ids)))
    .groupBy(mcpServers.id);
}

/** One bucket of a health series as read: counts by status and latency of the answering checks. */
export interface BucketRow {
  at: Date;
  checks: number;
  healthy: number;
  degraded: number;
  unhealthy: number;
  authRequired: number;
  avgLatencyMs: number | null;
  maxLatencyMs: number | null;
}

type RawBucket = Omit<BucketRow, "at"> & { at: Date | string };
const toBucket = (r: RawBucket): BucketRow => ({ ...r, at: new Date(r.at) });

/**
 * A server's checks from `from` to `to` in buckets of `stepSeconds` (aligned on the epoch), from
 * the raw history; only buckets that hold checks, oldest first.
 */
export async function readHealthBuckets(
  db: Db,
  tenantId: string,
  serverId: string,
  { from, to, stepSeconds }: { from: Date; to: Date; stepSeconds: number },
): Promise<BucketRow[]> {
  if (!Number.isInteger(stepSeconds) || stepSeconds <= 0) throw new Error(`bad step ${stepSeconds}`);
  // Inlined, not a parameter: the grouped expression must read the same in SELECT and GROUP BY.
  const step = sql.raw(String(stepSeconds));
  const rows = await queryRows<RawBucket>(
    db,
    sql`
      SELECT to_timestamp(floor(extract(epoch FROM checked_at) / ${step}) * ${step}) AS "at",
             count(*)::int AS "checks",
             count(*) FILTER (WHERE status = 'healthy')::int AS "healthy",
             count(*) FILTER (WHERE status = 'degraded')::int AS "degraded",
             count(*) FILTER (WHERE status = 'unhealthy')::int AS "unhealthy",
             count(*) FILTER (WHERE status = 'auth_required')::int AS "authRequired",
             round(avg(latency_ms) FILTER (WHERE status <> 'unhealthy'))::int AS "avgLatencyMs",
             max(latency_ms) FILTER (WHERE status <> 'unhealthy') AS "maxLatencyMs"
      FROM mcp_server_health
      WHERE server_id = ${serverId} AND tenant_id = ${tenantId}
        AND checked_at >= ${from.toISOString()}::timestamptz AND checked_at <= ${to.toISOString()}::timestamptz
      GROUP BY 1
      ORDER BY 1`,
  );
  return rows.map(toBucket);
}

/** A server's hours of the rollup from `from` to `to`, as buckets; only hours that hold checks. */
export async function readHourBuckets(
  db: Db,
  tenantId: string,
  serverId: string,
  { from, to }: { from: Date; to: Date },
): Promise<BucketRow[]> {
  const h = mcpHealthHours;
  const rows = await db
    .select({
      at: h.hour,
      checks: h.checks,
      healthy: h.healthy,
      degraded: h.degraded,
      unhealthy: h.unhealthy,
      authRequired: h.authRequired,
      avgLatencyMs: sql<number | null>`CASE WHEN ${h.latencyCount} > 0
        THEN round(${h.latencySum}::numeric / ${h.latencyCount})::int END`,
      maxLatencyMs: h.latencyMax,
    })
    .from(h)
    .where(and(eq(h.serverId, serverId), eq(h.tenantId, tenantId), gte(h.hour, from), lte(h.hour, to)))
    .orderBy(asc(h.hour));
  return rows.map(toBucket);
}
