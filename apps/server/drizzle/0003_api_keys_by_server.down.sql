-- Reverses 0003_api_keys_by_server: keys are indexed by tenant and server again.
DROP INDEX "mcp_api_keys_server_idx";--> statement-breakpoint
CREATE INDEX "mcp_api_keys_server_idx" ON "mcp_api_keys" USING btree ("tenant_id","server_id");
