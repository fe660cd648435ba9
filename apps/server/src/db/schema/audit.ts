import { AUDIT_ACTIONS } from "@switchboard/shared";
import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Append-only audit trail. tenant_id deliberately has no foreign key: the trail of a deleted
 * organization must outlive it for the retention period.
 */
export const auditLogs = pgTable(
  "audit_logs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id").notNull(),
    actorType: text("actor_type", { enum: ["user", "api_key", "system"] }).notNull(),
    actorId: text("actor_id"),
    // Typed by the shared enum (no CHECK in the database: an action added later needs no migration).
    action: text("action", { enum: AUDIT_ACTIONS }).notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    correlationId: text("correlation_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    /** JSON diff `{ field: { from, to } }` or a snapshot; secret values are masked before writing. */
    changes: jsonb("changes").$type<Record<string, unknown>>(),
    // The clock at insert, not the transaction's start: rows written in one transaction (an
    // organization and its first member) keep the order they happened in.
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().default(sql`clock_timestamp()`),
    /**
     * Insert order, for rows that share a timestamp: PGlite's clock ticks in milliseconds, so an
     * organization and its first member are often written at the same instant.
     */
    seq: bigint("seq", { mode: "number" }).notNull().generatedAlwaysAsIdentity(),
  },
  (t) => [
    index("audit_logs_tenant_created_idx").on(t.tenantId, t.createdAt.desc()),
    index("audit_logs_tenant_action_idx").on(t.tenantId, t.action, t.createdAt.desc()),
    index("audit_logs_tenant_target_idx").on(t.tenantId, t.targetId, t.createdAt.desc()),
    index("audit_logs_tenant_actor_idx").on(t.tenantId, t.actorId, t.createdAt.desc()),
    index("audit_logs_created_idx").on(t.createdAt),
  ],
);
