UPDATE "mcp_servers" SET "tools" = (
  SELECT coalesce(jsonb_agg(jsonb_build_object('name', t->>'name', 'description', t->'description')), '[]'::jsonb)
  FROM jsonb_array_elements("tools") AS t)
WHERE jsonb_array_length("tools") > 0;--> statement-breakpoint
UPDATE "mcp_servers" SET "status" = 'unhealthy', "last_error" = 'auth_required' WHERE "status" = 'auth_required';--> statement-breakpoint
UPDATE "mcp_server_health" SET "status" = 'unhealthy', "error" = 'auth_required' WHERE "status" = 'auth_required';--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "auth_challenge";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "tools_drifted";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "pinned_at";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "pinned_tools";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "resources";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "prompts";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "tools_hash";--> statement-breakpoint
ALTER TABLE "mcp_server_health" DROP COLUMN "era";--> statement-breakpoint
DROP TABLE "mcp_tool_drift";
