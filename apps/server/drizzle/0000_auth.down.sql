-- Reverses 0000_auth: drops Better-Auth's tables (children first).
DROP TABLE IF EXISTS "invitation";
--> statement-breakpoint
DROP TABLE IF EXISTS "member";
--> statement-breakpoint
DROP TABLE IF EXISTS "session";
--> statement-breakpoint
DROP TABLE IF EXISTS "account";
--> statement-breakpoint
DROP TABLE IF EXISTS "verification";
--> statement-breakpoint
DROP TABLE IF EXISTS "organization";
--> statement-breakpoint
DROP TABLE IF EXISTS "user";
