DROP INDEX "mcp_servers_tenant_status_idx";--> statement-breakpoint
CREATE INDEX "mcp_servers_tenant_display_name_idx" ON "mcp_servers" USING btree ("tenant_id","display_name","name");--> statement-breakpoint
CREATE INDEX "mcp_servers_tenant_created_idx" ON "mcp_servers" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "mcp_servers_tenant_updated_idx" ON "mcp_servers" USING btree ("tenant_id","updated_at");--> statement-breakpoint
CREATE INDEX "mcp_servers_tenant_checked_idx" ON "mcp_servers" USING btree ("tenant_id","last_checked_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "mcp_servers_tenant_status_idx" ON "mcp_servers" USING btree ("tenant_id","status","name");--> statement-breakpoint
-- Search looks for a substring in a server's name, display name, description and tags, within one
-- tenant: one GIN index over the tenant and the trigrams of all four serves it (written by hand:
-- drizzle-kit does not model it). btree_gin lets a GIN index hold the tenant id too.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS btree_gin;
--> statement-breakpoint
CREATE FUNCTION mcp_server_search_text(name text, display_name text, description text, tags text[])
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT coalesce(name, '') || ' ' || coalesce(display_name, '') || ' ' || coalesce(description, '') || ' ' || coalesce(array_to_string(tags, ' '), '') $$;
--> statement-breakpoint
CREATE INDEX "mcp_servers_search_idx" ON "mcp_servers" USING gin ("tenant_id", mcp_server_search_text("name", "display_name", "description", "tags") gin_trgm_ops);
