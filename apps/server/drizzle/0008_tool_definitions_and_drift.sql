CREATE TABLE "mcp_tool_drift" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"server_id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL,
	"from_hash" text NOT NULL,
	"to_hash" text NOT NULL,
	"added" jsonb NOT NULL,
	"removed" jsonb NOT NULL,
	"changed" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "mcp_server_health" ADD COLUMN "era" text;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "tools_hash" text;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "prompts" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "resources" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "pinned_tools" jsonb;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "pinned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "tools_drifted" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "auth_challenge" jsonb;--> statement-breakpoint
ALTER TABLE "mcp_tool_drift" ADD CONSTRAINT "mcp_tool_drift_server_id_mcp_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."mcp_servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mcp_tool_drift" ADD CONSTRAINT "mcp_tool_drift_tenant_id_organization_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."organization"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mcp_tool_drift_server_idx" ON "mcp_tool_drift" USING btree ("server_id","detected_at" DESC NULLS LAST);
--> statement-breakpoint
-- Tools were kept as { name, description }; they are now whole definitions. The input schema of a
-- tool listed before is not known: an empty object schema stands in until the next check.
UPDATE "mcp_servers" SET "tools" = (
  SELECT coalesce(jsonb_agg(jsonb_build_object(
    'name', t->>'name', 'title', null, 'description', t->'description',
    'inputSchema', '{"type":"object"}'::jsonb, 'outputSchema', null, 'annotations', null)), '[]'::jsonb)
  FROM jsonb_array_elements("tools") AS t)
WHERE jsonb_array_length("tools") > 0;
