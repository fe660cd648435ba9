-- Audit rows that share a timestamp keep their insert order: PGlite's clock_timestamp() ticks in
-- milliseconds, so rows written in one request (an organization and its first member) often tie,
-- and the random id used to break ties shuffled them. Existing rows are numbered in table order.
ALTER TABLE "audit_logs" ADD COLUMN "seq" bigint NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "audit_logs_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);