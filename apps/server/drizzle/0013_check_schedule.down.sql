ALTER TABLE "mcp_servers" RESET (fillfactor);--> statement-breakpoint
CREATE INDEX "mcp_servers_next_check_idx" ON "mcp_servers" USING btree ("next_check_at");--> statement-breakpoint
CREATE INDEX "mcp_servers_tenant_checked_idx" ON "mcp_servers" USING btree ("tenant_id","last_checked_at" DESC NULLS LAST);--> statement-breakpoint
-- A server under lease has its lease as next_check_at again, as claims set it before.
UPDATE "mcp_servers" s SET "next_check_at" = c."due_at" FROM "mcp_check_schedule" c
  WHERE c."server_id" = s."id" AND c."due_at" IS DISTINCT FROM s."next_check_at";--> statement-breakpoint
DROP TRIGGER mcp_check_schedule_update ON "mcp_servers";--> statement-breakpoint
DROP TRIGGER mcp_check_schedule_insert ON "mcp_servers";--> statement-breakpoint
DROP FUNCTION mcp_check_schedule_sync();--> statement-breakpoint
DROP TABLE "mcp_check_schedule";
