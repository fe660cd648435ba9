-- Reverses 0001_mcp_core: drops Switchboard's tables (children first).
DROP TABLE IF EXISTS "mcp_server_health";
--> statement-breakpoint
DROP TABLE IF EXISTS "mcp_api_keys";
--> statement-breakpoint
DROP TABLE IF EXISTS "mcp_servers";
--> statement-breakpoint
DROP TABLE IF EXISTS "audit_logs";
