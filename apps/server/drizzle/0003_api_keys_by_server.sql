DROP INDEX "mcp_api_keys_server_idx";--> statement-breakpoint
CREATE INDEX "mcp_api_keys_server_idx" ON "mcp_api_keys" USING btree ("server_id");