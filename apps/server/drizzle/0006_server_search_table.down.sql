-- Reverses 0006_server_search_table: the trigram index returns to mcp_servers.
CREATE INDEX "mcp_servers_search_idx" ON "mcp_servers" USING gin ("tenant_id", mcp_server_search_text("name", "display_name", "description", "tags") gin_trgm_ops);
--> statement-breakpoint
DROP TRIGGER mcp_server_search_sync ON "mcp_servers";
--> statement-breakpoint
DROP FUNCTION mcp_server_search_sync();
--> statement-breakpoint
DROP TABLE "mcp_server_search";
