import { bigint, index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { mcpServers } from "./servers";

/**
 * Gateway calls rolled up per server, API key and minute (the minute in which each call ended).
 * Written in batches by the gateway's usage recorder, kept USAGE_RETENTION_DAYS.
 */
export const mcpUsageMinutes = pgTable(
  "mcp_usage_minutes",
  {
    serverId: uuid("server_id")
      .notNull()
      .references(() => mcpServers.id, { onDelete: "cascade" }),
    /** The start of the minute, UTC. */
    minute: timestamp("minute", { withTimezone: true }).notNull(),
    // No foreign key on the key or the tenant: their rows go with the server's (a key is only ever
    // deleted with its server), and a cascade by a column without an index would read the table.
    keyId: uuid("key_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    calls: integer("calls").notNull(),
    /** Calls that did not end well: refused by the gateway, or failed or refused upstream. */
    errors: integer("errors").notNull(),
    /** Sum of the calls' durations, from arrival to the end of the answer. */
    latencyMsSum: bigint("latency_ms_sum", { mode: "number" }).notNull(),
    latencyMsMax: integer("latency_ms_max").notNull(),
    /** Request bodies received from the clients. */
    bytesIn: bigint("bytes_in", { mode: "number" }).notNull(),
    /** Answers' bytes sent back to the clients. */
    bytesOut: bigint("bytes_out", { mode: "number" }).notNull(),
  },
  (t) => [
    // A server's usage over a time range, all keys or one: the key's rows sit in the same range.
    primaryKey({ name: "mcp_usage_minutes_pk", columns: [t.serverId, t.minute, t.keyId] }),
    // The retention purge.
    index("mcp_usage_minutes_minute_idx").on(t.minute),
  ],
);
