-- Reverses 0005_audit_insert_order: audit rows take the transaction's start time again.
ALTER TABLE "audit_logs" ALTER COLUMN "created_at" SET DEFAULT now();