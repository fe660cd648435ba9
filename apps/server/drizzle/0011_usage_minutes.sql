CREATE TABLE "mcp_usage_minutes" (
	"server_id" uuid NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"key_id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"calls" integer NOT NULL,
	"errors" integer NOT NULL,
	"latency_ms_sum" bigint NOT NULL,
	"latency_ms_max" integer NOT NULL,
	"bytes_in" bigint NOT NULL,
	"bytes_out" bigint NOT NULL,
	CONSTRAINT "mcp_usage_minutes_pk" PRIMARY KEY("server_id","minute","key_id")
);
--> statement-breakpoint
ALTER TABLE "mcp_usage_minutes" ADD CONSTRAINT "mcp_usage_minutes_server_id_mcp_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."mcp_servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mcp_usage_minutes_minute_idx" ON "mcp_usage_minutes" USING btree ("minute");