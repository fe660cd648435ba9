DROP INDEX IF EXISTS "mcp_servers_tenant_registry_name_uq";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "needs_configuration";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "declared_headers";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "release_version";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "repository";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "website_url";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "title";--> statement-breakpoint
ALTER TABLE "mcp_servers" DROP COLUMN "registry_name";--> statement-breakpoint
DROP TABLE "mcp_registry_settings";
