CREATE TABLE "mcp_health_hours" (
	"server_id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"checks" integer NOT NULL,
	"healthy" integer NOT NULL,
	"degraded" integer NOT NULL,
	"unhealthy" integer NOT NULL,
	"auth_required" integer NOT NULL,
	"latency_sum" bigint NOT NULL,
	"latency_count" integer NOT NULL,
	"latency_max" integer,
	CONSTRAINT "mcp_health_hours_pk" PRIMARY KEY("server_id","hour")
);
--> statement-breakpoint
ALTER TABLE "mcp_servers" ADD COLUMN "status_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "mcp_health_hours" ADD CONSTRAINT "mcp_health_hours_server_id_mcp_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."mcp_servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mcp_health_hours_hour_idx" ON "mcp_health_hours" USING btree ("hour");--> statement-breakpoint
-- When each server entered its status: the first check of its latest run of that status that the
-- history still holds, else its last check.
UPDATE "mcp_servers" s SET "status_since" = coalesce(
  (SELECT min(h."checked_at") FROM "mcp_server_health" h
   WHERE h."server_id" = s."id" AND h."status" = s."status"
     AND h."checked_at" > coalesce(
       (SELECT max(o."checked_at") FROM "mcp_server_health" o
        WHERE o."server_id" = s."id" AND o."status" <> s."status"), '-infinity')),
  s."last_checked_at")
WHERE s."last_checked_at" IS NOT NULL;--> statement-breakpoint
-- The hours the history holds (UTC hours, whatever the session's time zone), so that uptime covers
-- the days before this migration.
INSERT INTO "mcp_health_hours" ("server_id", "tenant_id", "hour", "checks", "healthy", "degraded", "unhealthy",
  "auth_required", "latency_sum", "latency_count", "latency_max")
SELECT h."server_id", min(h."tenant_id"), date_trunc('hour', h."checked_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*),
  count(*) FILTER (WHERE h."status" = 'healthy'), count(*) FILTER (WHERE h."status" = 'degraded'),
  count(*) FILTER (WHERE h."status" = 'unhealthy'), count(*) FILTER (WHERE h."status" = 'auth_required'),
  coalesce(sum(h."latency_ms") FILTER (WHERE h."status" <> 'unhealthy'), 0),
  count(h."latency_ms") FILTER (WHERE h."status" <> 'unhealthy'),
  max(h."latency_ms") FILTER (WHERE h."status" <> 'unhealthy')
FROM "mcp_server_health" h
GROUP BY h."server_id", date_trunc('hour', h."checked_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
