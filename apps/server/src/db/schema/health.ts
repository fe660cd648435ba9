import { bigint, index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { mcpServers } from "./servers";

/**
 * Checks rolled up per server and hour (the hour each check ran in), written by the same
 * statement that records the checks: uptime and week-long series read 168 rows a server, not
 * 10,000 checks. Kept as long as the raw history (HEALTH_RETENTION_DAYS).
 */
export const mcpHealthHours = pgTable(
  "mcp_health_hours",
  {
    serverId: uuid("server_id")
      .notNull()
      .references(() => mcpServers.id, { onDelete: "cascade" }),
    // No foreign key on the tenant: its rows go with its servers', as usage's do.
    tenantId: text("tenant_id").notNull(),
    /** The start of the hour, UTC. */
    hour: timestamp("hour", { withTimezone: true }).notNull(),
    checks: integer("checks").notNull(),
    healthy: integer("healthy").notNull(),
    degraded: integer("degraded").notNull(),
    unhealthy: integer("unhealthy").notNull(),
    authRequired: integer("auth_required").notNull(),
    /** Latency of the checks that got an answer (any status but unhealthy): their sum and count. */
    latencySum: bigint("latency_sum", { mode: "number" }).notNull(),
    latencyCount: integer("latency_count").notNull(),
    /** The highest of those latencies; null while no check of the hour got an answer. */
    latencyMax: integer("latency_max"),
  },
  (t) => [
    primaryKey({ name: "mcp_health_hours_pk", columns: [t.serverId, t.hour] }),
    // The retention purge.
    index("mcp_health_hours_hour_idx").on(t.hour),
  ],
);
