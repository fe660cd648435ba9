ALTER TABLE "mcp_servers" DROP COLUMN "status_since";--> statement-breakpoint
DROP TABLE "mcp_health_hours";
