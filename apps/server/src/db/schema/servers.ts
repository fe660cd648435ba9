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

/** A header the server expects (server.json's remote headers), whether or not a value is stored. */
export interface DeclaredHeader {
  name: string;
  description: string | null;
  isRequired: boolean;
  isSecret: boolean;
}

/** Where the server's source lives (server.json's `repository`). */
export interface RepositoryInfo {
  url: string;
  source: string;
  id?: string;
  subfolder?: string;
}

/** Which generation of MCP a server speaks: 2026-07-28 and later (`server/discover`), or 2025 (`initialize`). */
export type ProtocolEra = "modern" | "legacy";

export interface ServerInfo {
  name: string | null;
  version: string | null;
  protocolVersion: string | null;
  era: ProtocolEra | null;
  capabilities: Record<string, unknown>;
}

/** A tool as the server defines it (bounded in size when stored). */
export interface ToolDefinition {
  name: string;
  title: string | null;
  description: string | null;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown> | null;
  annotations: Record<string, unknown> | null;
}

export interface PromptSummary {
  name: string;
  title: string | null;
  description: string | null;
}

export interface ResourceSummary {
  uri: string;
  name: string;
  title: string | null;
  mimeType: string | null;
}

/** What a server that asks for OAuth says of itself (RFC 9728 metadata and its challenge). */
export interface AuthChallenge {
  resourceMetadataUrl: string | null;
  authorizationServers: string[];
  scopes: string[];
}

/** A tool in an approved (pinned) set: its name and the hash of its whole definition. */
export interface PinnedTool {
  name: string;
  hash: string;
}

/** One changed tool, before and after. */
export interface ChangedTool {
  name: string;
  before: ToolDefinition;
  after: ToolDefinition;
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
    status: text("status", { enum: ["unknown", "healthy", "degraded", "unhealthy", "auth_required"] })
      .notNull()
      .default("unknown"),
    /** When the server entered its current status: the first check that found it so; null until checked. */
    statusSince: timestamp("status_since", { withTimezone: true }),
    lastCheckedAt: timestamp("last_checked_at", { withTimezone: true }),
    lastLatencyMs: integer("last_latency_ms"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    /**
     * When the scheduler should probe next; NULL never (disabled). Not indexed, so that a check's
     * update of the row writes no index entry (a HOT update): the scheduler's queue is
     * mcp_check_schedule, which a trigger keeps in step with this column.
     */
    nextCheckAt: timestamp("next_check_at", { withTimezone: true }).defaultNow(),
    lastError: text("last_error"),
    serverInfo: jsonb("server_info").$type<ServerInfo>(),
    tools: jsonb("tools").$type<ToolDefinition[]>().notNull().default([]),
    /** SHA-256 of the tool definitions as last seen (canonical JSON); null until a probe lists them. */
    toolsHash: text("tools_hash"),
    prompts: jsonb("prompts").$type<PromptSummary[]>().notNull().default([]),
    resources: jsonb("resources").$type<ResourceSummary[]>().notNull().default([]),
    /** The approved tool set; null when the server is not pinned. */
    pinnedTools: jsonb("pinned_tools").$type<PinnedTool[]>(),
    pinnedAt: timestamp("pinned_at", { withTimezone: true }),
    /** Pinned, and the tools seen last differ from the approved set: the gateway refuses the difference. */
    toolsDrifted: boolean("tools_drifted").notNull().default(false),
    /** For a server that answers "auth required": where its authorization servers are. */
    authChallenge: jsonb("auth_challenge").$type<AuthChallenge>(),
    createdBy: text("created_by").references(() => user.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    /** Optimistic concurrency: bumped on every update, compared with If-Match. */
    version: integer("version").notNull().default(1),
    /** The reverse-DNS name registries know it by; null: the organization's namespace and `name`. */
    registryName: text("registry_name"),
    title: text("title"),
    websiteUrl: text("website_url"),
    repository: jsonb("repository").$type<RepositoryInfo>(),
    /** The server's own version (server.json's `version`), unlike `version` above. */
    releaseVersion: text("release_version"),
    declaredHeaders: jsonb("declared_headers").$type<DeclaredHeader[]>().notNull().default([]),
    /**
     * A required declared header has no stored value: the scheduler skips the server and the
     * gateway refuses it. Kept by the servers service on every write of the headers.
     */
    needsConfiguration: boolean("needs_configuration").notNull().default(false),
  },
  (t) => [
    uniqueIndex("mcp_servers_tenant_name_uq").on(t.tenantId, t.name),
    uniqueIndex("mcp_servers_tenant_registry_name_uq")
      .on(t.tenantId, t.registryName)
      .where(sql`${t.registryName} IS NOT NULL`),
    // The list's filters and orders, so that a page is read in order and stops at its last row.
    index("mcp_servers_tenant_status_idx").on(t.tenantId, t.status, t.name),
    index("mcp_servers_tenant_display_name_idx").on(t.tenantId, t.displayName, t.name),
    index("mcp_servers_tenant_created_idx").on(t.tenantId, t.createdAt),
    index("mcp_servers_tenant_updated_idx").on(t.tenantId, t.updatedAt),
    // lastCheckedAt has no index: every check sets it, and an indexed column would make every
    // check's update write an entry in every index of the table.
    check("mcp_servers_name_slug", sql`${t.name} ~ '^[a-z0-9][a-z0-9-]{0,62}$'`),
    check("mcp_servers_description_len", sql`char_length(${t.description}) <= 2000`),
    check("mcp_servers_interval_positive", sql`${t.checkIntervalSeconds} > 0`),
  ],
);

/**
 * The scheduler's queue: when each server is due. A trigger on mcp_servers (migration 0013) writes
 * it whenever a server's next_check_at changes; a claim writes only here (its lease), so that the
 * server's own row is untouched until the check is recorded.
 */
export const mcpCheckSchedule = pgTable(
  "mcp_check_schedule",
  {
    serverId: uuid("server_id")
      .primaryKey()
      .references(() => mcpServers.id, { onDelete: "cascade" }),
    /** Due at; a claimed server's lease while its check runs; NULL never. */
    dueAt: timestamp("due_at", { withTimezone: true }),
  },
  (t) => [index("mcp_check_schedule_due_idx").on(t.dueAt)],
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
    /** The tools this key may call through the gateway; null: every tool the server offers. */
    tools: text("tools").array(),
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
    status: text("status", { enum: ["healthy", "degraded", "unhealthy", "auth_required"] }).notNull(),
    latencyMs: integer("latency_ms"),
    error: text("error"),
    protocolVersion: text("protocol_version"),
    era: text("era", { enum: ["modern", "legacy"] }),
    toolsCount: integer("tools_count"),
  },
  (t) => [
    index("mcp_server_health_server_checked_idx").on(t.serverId, t.checkedAt.desc()),
    index("mcp_server_health_checked_idx").on(t.checkedAt),
  ],
);

/** A change in a server's tool definitions, as one check saw it. */
export const mcpToolDrift = pgTable(
  "mcp_tool_drift",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    serverId: uuid("server_id")
      .notNull()
      .references(() => mcpServers.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => organization.id, { onDelete: "cascade" }),
    detectedAt: timestamp("detected_at", { withTimezone: true }).notNull().defaultNow(),
    fromHash: text("from_hash").notNull(),
    toHash: text("to_hash").notNull(),
    added: jsonb("added").$type<ToolDefinition[]>().notNull(),
    removed: jsonb("removed").$type<ToolDefinition[]>().notNull(),
    changed: jsonb("changed").$type<ChangedTool[]>().notNull(),
  },
  (t) => [index("mcp_tool_drift_server_idx").on(t.serverId, t.detectedAt.desc())],
);

export type ServerRow = typeof mcpServers.$inferSelect;
