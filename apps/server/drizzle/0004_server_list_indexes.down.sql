-- Reverses 0004_server_list_indexes: the list's order indexes and the search index go.
DROP INDEX IF EXISTS "mcp_servers_search_idx";--> statement-breakpoint
DROP FUNCTION IF EXISTS mcp_server_search_text(text, text, text, text[]);--> statement-breakpoint
DROP EXTENSION IF EXISTS pg_trgm;--> statement-breakpoint
DROP EXTENSION IF EXISTS btree_gin;--> statement-breakpoint
DROP INDEX "mcp_servers_tenant_display_name_idx";--> statement-breakpoint
DROP INDEX "mcp_servers_tenant_created_idx";--> statement-breakpoint
DROP INDEX "mcp_servers_tenant_updated_idx";--> statement-breakpoint
DROP INDEX "mcp_servers_tenant_checked_idx";--> statement-breakpoint
DROP INDEX "mcp_servers_tenant_status_idx";--> statement-breakpoint
CREATE INDEX "mcp_servers_tenant_status_idx" ON "mcp_servers" USING btree ("tenant_id","status");
