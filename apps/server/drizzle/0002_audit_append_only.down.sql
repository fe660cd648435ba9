-- Reverses 0002_audit_append_only: the audit trail can be changed again.
DROP TRIGGER IF EXISTS audit_logs_no_truncate ON "audit_logs";
--> statement-breakpoint
DROP TRIGGER IF EXISTS audit_logs_no_update_delete ON "audit_logs";
--> statement-breakpoint
DROP FUNCTION IF EXISTS audit_logs_append_only();
