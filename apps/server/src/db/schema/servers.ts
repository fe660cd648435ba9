import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { organization, user } from "./auth";

/** Upstream header as stored: the value is AES-256-GCM ciphertext, never plaintext. */
export interface StoredHeader {
  name: string;
  value: string;
}

export interface ServerInfo {
  name: string | null;
  version: string | null;
  protocolVersion: string | null;
  capabilities: Record<string, unknown>;
}

export interface ToolSummary {
  name: string;
  description: string | null;
}

export const mcpServers = pgTable(
  "mcp_servers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => organization.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    displayName: text("display_name").notNull(),
    description: text("description").notNull().default(""),
    transport: text("transport", { enum: ["streamable-http", "sse"] }).notNull(),
    url: text("url").notNull(),
    headers: jsonb("headers").$type<StoredHeader[]>().notNull().default([]),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    enabled: boolean("enabled").notNull().default(true),
    checkIntervalSeconds: integer("check_interval_seconds").notNull().default(60),
    status: text("status", { enum: ["unknown", "healthy", "degraded", "unhealthy"] })
      .notNull()
      .default("unknown"),
    lastCheckedAt: timestamp("last_checked_at", { withTimezone: true }),
    lastLatencyMs: integer("last_latency_ms"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    /** When the scheduler should probe next; NULL never (disabled). */
    nextCheckAt: timestamp("next_check_at", { withTimezone: true }).defaultNow(),
    lastError: text("last_error"),
    serverInfo: jsonb("server_info").$type<ServerInfo>(),
    tools: jsonb("tools").$type<ToolSummary[]>().notNull().default([]),
    createdBy: text("created_by").references(() => user.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    /** Optimistic concurrency: bumped on every update, compared with If-Match. */
    version: integer("version").notNull().default(1),
  },
  (t) => [
    uniqueIndex("mcp_servers_tenant_name_uq").on(t.tenantId, t.name),
    // The list's filters and orders, so that a page is read in order and stops at its last row.
    index("mcp_servers_tenant_status_idx").on(t.tenantId, t.status, t.name),
    index("mcp_servers_tenant_display_name_idx").on(t.tenantId, t.displayName, t.name),
    index("mcp_servers_tenant_created_idx").on(t.tenantId, t.createdAt),
    index("mcp_servers_tenant_updated_idx").on(t.tenantId, t.updatedAt),
    index("mcp_servers_tenant_checked_idx").on(t.tenantId, t.lastCheckedAt.desc().nullsLast()),
    index("mcp_servers_next_check_idx").on(t.nextCheckAt),
    check("mcp_servers_name_slug", sql`${t.name} ~ '^[a-z0-9][a-z0-9-]{0,62}$'`),
    check("mcp_servers_description_len", sql`char_length(${t.description}) <= 2000`),
    check("mcp_servers_interval_positive", sql`${t.checkIntervalSeconds} > 0`),
  ],
);

export const mcpApiKeys = pgTable(
  "mcp_api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => organization.id, { onDelete: "cascade" }),
    serverId: uuid("server_id")
      .notNull()
      .references(() => mcpServers.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** SHA-256 of the key, hex; the key itself is never stored. */
    keyHash: text("key_hash").notNull(),
    /** First 12 characters of the key, for recognising it in lists. */
    prefix: text("prefix").notNull(),
    createdBy: text("created_by").references(() => user.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("mcp_api_keys_key_hash_uq").on(t.keyHash),
    // By server alone: deleting a server cascades to its keys by server_id.
    index("mcp_api_keys_server_idx").on(t.serverId),
  ],
);

export const mcpServerHealth = pgTable(
  "mcp_server_health",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => mcpServers.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => organization.id, { onDelete: "cascade" }),
    checkedAt: timestamp("checked_at", { withTimezone: true }).notNull().defaultNow(),
    status: text("status", { enum: ["healthy", "degraded", "unhealthy"] }).notNull(),
    latencyMs: integer("latency_ms"),
    error: text("error"),
    protocolVersion: text("protocol_version"),
    toolsCount: integer("tools_count"),
  },
  (t) => [
    index("mcp_server_health_server_checked_idx").on(t.serverId, t.checkedAt.desc()),
    index("mcp_server_health_checked_idx").on(t.checkedAt),
  ],
);
