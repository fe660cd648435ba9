ALTER TABLE "audit_logs" DROP COLUMN "seq";
