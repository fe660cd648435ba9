-- The scheduler's queue moves to a table of its own, so that a check's update of its server is a
-- HOT update: one that writes no index entry and leaves nothing for vacuum to clean in the indexes.
-- A row whose indexed column changes is indexed again in every index of its table (nine on
-- mcp_servers), and each check changed two indexed columns twice: the claim's lease on
-- next_check_at, then the recorded check's last_checked_at and next_check_at. Here a claim writes
-- only mcp_check_schedule, and a trigger (written by hand: drizzle-kit does not model it) copies
-- next_check_at there whenever it changes; last_checked_at loses its index (a sort by it reads the
-- tenant's rows). mcp_servers keeps room on each page for a row's next version.
CREATE TABLE "mcp_check_schedule" (
	"server_id" uuid PRIMARY KEY NOT NULL,
	"due_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "mcp_check_schedule" ADD CONSTRAINT "mcp_check_schedule_server_id_mcp_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."mcp_servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
INSERT INTO "mcp_check_schedule" ("server_id", "due_at") SELECT "id", "next_check_at" FROM "mcp_servers";
--> statement-breakpoint
CREATE INDEX "mcp_check_schedule_due_idx" ON "mcp_check_schedule" USING btree ("due_at");--> statement-breakpoint
CREATE FUNCTION mcp_check_schedule_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mcp_check_schedule (server_id, due_at) VALUES (NEW.id, NEW.next_check_at)
  ON CONFLICT (server_id) DO UPDATE SET due_at = EXCLUDED.due_at;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER mcp_check_schedule_insert AFTER INSERT ON "mcp_servers"
  FOR EACH ROW EXECUTE FUNCTION mcp_check_schedule_sync();
--> statement-breakpoint
-- Only a change: a check recorded after a newer one keeps next_check_at, and must not cut short
-- the lease of a check still running.
CREATE TRIGGER mcp_check_schedule_update AFTER UPDATE OF "next_check_at" ON "mcp_servers"
  FOR EACH ROW WHEN (OLD.next_check_at IS DISTINCT FROM NEW.next_check_at)
  EXECUTE FUNCTION mcp_check_schedule_sync();
--> statement-breakpoint
DROP INDEX "mcp_servers_tenant_checked_idx";--> statement-breakpoint
DROP INDEX "mcp_servers_next_check_idx";--> statement-breakpoint
ALTER TABLE "mcp_servers" SET (fillfactor = 85);
