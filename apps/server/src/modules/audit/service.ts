import {
  AUDIT_EXPORT_COLUMNS,
  type AuditAction,
  type AuditExportFormat,
  type AuditExportQuery,
  type AuditLog,
  type AuditLogPage,
  type AuditLogQuery,
  MANAGER_ROLES,
} from "@switchboard/shared";
import type { Db, Queryable } from "../../db/client";
import type { Clock } from "../../lib/clock";
import { type Actor, actorId, type Origin, type ServiceContext } from "../../lib/context";
import { forbidden } from "../../lib/errors";
import { maskSecrets } from "./mask";
import {
  type AuditCursor,
  type AuditRow,
  deleteAuditRowsBefore,
  findAuditBatch,
  findAuditPage,
  findOrganizationSlug,
  insertAuditRow,
} from "./repo";

export interface AuditEntry {
  tenantId: string;
  actor: Actor;
  /** Dotted verb, e.g. `server.create`, `member.role_update`: one of the shared AuditAction. */
  action: AuditAction;
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

/**
 * Writes the audit row for a change a service verb makes, through the verb's context: inside its
 * `withTransaction`, the row commits or rolls back with the change.
 */
export function auditChange(
  ctx: ServiceContext,
  entry: Pick<AuditEntry, "action" | "target" | "changes">,
): Promise<void> {
  return recordAudit(ctx.db, { tenantId: ctx.tenantId, actor: ctx.actor, origin: ctx, ...entry });
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
  assertManager(ctx);
  const { rows, total } = await findAuditPage(ctx.db, ctx.tenantId, input);
  return { items: rows.map(toDto), page: input.page, pageSize: input.pageSize, total };
}

function assertManager(ctx: ServiceContext): void {
  if (!ctx.role || !MANAGER_ROLES.includes(ctx.role)) {
    throw forbidden("Only owners and admins of the organization can read its audit log");
  }
}

/** Rows read from the database at a time while an export streams. */
export const EXPORT_BATCH_SIZE = 500;

const CONTENT_TYPES: Record<AuditExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson",
};

export interface AuditExport {
  filename: string;
  contentType: string;
  /** The file, a piece at a time: read lazily, one batch of rows from the database per piece. */
  body: AsyncIterable<string>;
}

/**
 * Every row of the tenant's audit trail that matches the list's filters, newest first, as CSV
 * or JSON lines. Owners and admins only. Rows are masked when written, so the file holds no secret.
 */
export async function exportAuditLogs({
  ctx,
  input,
  batchSize = EXPORT_BATCH_SIZE,
}: {
  ctx: ServiceContext;
  input: AuditExportQuery;
  batchSize?: number;
}): Promise<AuditExport> {
  assertManager(ctx);
  const { format, ...filters } = input;
  const slug = (await findOrganizationSlug(ctx.db, ctx.tenantId)) ?? "organization";
  const date = ctx.clock.now().toISOString().slice(0, 10);
  const { db, tenantId } = ctx;
  async function* body(): AsyncGenerator<string> {
    if (format === "csv") yield csvLine(AUDIT_EXPORT_COLUMNS);
    let cursor: AuditCursor | null = null;
    do {
      const batch = await findAuditBatch(db, tenantId, filters, cursor, batchSize);
      const items = batch.rows.map(toDto);
      if (items.length > 0) {
        yield items
          .map((item) =>
            format === "csv"
              ? csvLine(AUDIT_EXPORT_COLUMNS.map((c) => csvValue(item[c])))
              : `${JSON.stringify(item)}\n`,
          )
          .join("");
      }
      cursor = batch.next;
    } while (cursor);
  }
  return {
    filename: `switchboard-audit-${slug.replace(/[^a-z0-9-]/g, "-")}-${date}.${format}`,
    contentType: CONTENT_TYPES[format],
    body: body(),
  };
}

const csvValue = (v: unknown): string =>
  v == null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

/**
 * One CSV record (RFC 4180: CRLF, fields with a quote, comma or line break quoted, quotes
 * doubled). A field a spreadsheet would read as a formula (starting with = + - @, a tab or a
 * carriage return) gets a leading apostrophe, so that opening an export runs nothing an actor wrote.
 */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
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
    actorName: row.actorName,
    actorEmail: row.actorEmail,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    targetName: row.targetName,
    targetExists: row.targetExists,
    correlationId: row.correlationId,
    ip: row.ip,
    userAgent: row.userAgent,
    changes: row.changes,
    createdAt: row.createdAt.toISOString(),
  };
}
