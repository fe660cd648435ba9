import { type AuditLog, type AuditLogPage, type AuditLogQuery, MANAGER_ROLES } from "@switchboard/shared";
import type { Db, Queryable } from "../../db/client";
import type { Clock } from "../../lib/clock";
import { type Actor, actorId, type Origin, type ServiceContext } from "../../lib/context";
import { forbidden } from "../../lib/errors";
import { maskSecrets } from "./mask";
import { type AuditRow, deleteAuditRowsBefore, findAuditPage, insertAuditRow } from "./repo";

export interface AuditEntry {
  tenantId: string;
  actor: Actor;
  /** Dotted verb, e.g. `server.create`, `member.role_update`. */
  action: string;
  target: { type: string; id: string | null };
  /** A diff `{ field: { from, to } }` or a snapshot; secrets are masked here, whatever the caller passes. */
  changes?: Record<string, unknown> | null;
  origin: Origin;
}

/**
 * Writes one audit row. Call it with the transaction that makes the change, so that the change
 * and its record commit or roll back together.
 */
export async function recordAudit(q: Queryable, entry: AuditEntry): Promise<void> {
  await insertAuditRow(q, {
    tenantId: entry.tenantId,
    actorType: entry.actor.type,
    actorId: actorId(entry.actor),
    action: entry.action,
    targetType: entry.target.type,
    targetId: entry.target.id,
    correlationId: entry.origin.correlationId,
    ip: entry.origin.ip,
    userAgent: entry.origin.userAgent,
    changes: entry.changes ? maskSecrets(entry.changes) : null,
  });
}

/** Writes the audit row for a change a service verb makes, in the verb's transaction. */
export function auditChange(
  q: Queryable,
  ctx: ServiceContext,
  entry: Pick<AuditEntry, "action" | "target" | "changes">,
): Promise<void> {
  return recordAudit(q, { tenantId: ctx.tenantId, actor: ctx.actor, origin: ctx, ...entry });
}

/** Field-by-field diff of two snapshots, keeping only what changed. */
export function diff(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      out[key] = { from: before[key] ?? null, to: after[key] ?? null };
    }
  }
  return out;
}

/** The tenant's audit trail, newest first. Owners and admins only. */
export async function listAuditLogs({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: AuditLogQuery;
}): Promise<AuditLogPage> {
  if (!ctx.role || !MANAGER_ROLES.includes(ctx.role)) {
    throw forbidden("Only owners and admins of the organization can read its audit log");
  }
  const { rows, total } = await findAuditPage(ctx.db, ctx.tenantId, input);
  return { items: rows.map(toDto), page: input.page, pageSize: input.pageSize, total };
}

/** Removes audit rows older than the retention period; returns how many went. */
export async function purgeExpiredAuditLogs({
  db,
  clock,
  retentionDays,
}: {
  db: Db;
  clock: Clock;
  retentionDays: number;
}): Promise<number> {
  const cutoff = new Date(clock.now().getTime() - retentionDays * 86_400_000);
  return deleteAuditRowsBefore(db, cutoff);
}

function toDto(row: AuditRow): AuditLog {
  return {
    id: row.id,
    tenantId: row.tenantId,
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    correlationId: row.correlationId,
    ip: row.ip,
    userAgent: row.userAgent,
    changes: row.changes,
    createdAt: row.createdAt.toISOString(),
  };
}
