CREATE TABLE "mcp_registry_settings" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"namespace" text,
	"catalog_public" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "registry_name" text;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "title" text;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "website_url" text;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "repository" jsonb;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "release_version" text;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "declared_headers" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "needs_configuration" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "mcp_registry_settings" ADD CONSTRAINT "mcp_registry_settings_tenant_id_organization_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mcp_servers_tenant_registry_name_uq" ON "mcp_servers" USING btree ("tenant_id","registry_name") WHERE "mcp_servers"."registry_name" IS NOT NULL;