import { boolean, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { organization } from "./auth";

/** How an organization appears as a registry: the namespace of its registry names, and who may read its catalog. */
export const mcpRegistrySettings = pgTable("mcp_registry_settings", {
  tenantId: text("tenant_id")
    .primaryKey()
    .references(() => organization.id, { onDelete: "cascade" }),
  /** Null: the organization's slug. */
  namespace: text("namespace"),
  /** Anyone may read `/registry/{slug}/v0.1/…`, without a session or key. */
  catalogPublic: boolean("catalog_public").notNull().default(false),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type RegistrySettingsRow = typeof mcpRegistrySettings.$inferSelect;
