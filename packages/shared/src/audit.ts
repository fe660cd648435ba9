import { z } from "zod";
import { PageQuery, pageOf } from "./pagination";

/**
 * Every action the audit trail records. The server writes only these (its audit writer is typed by
 * this enum), and the dashboard's action filter lists exactly these.
 */
export const AUDIT_ACTIONS = [
  "server.create",
  "server.update",
  "server.delete",
  "server.check",
  "server.probe",
  "server.tools_drift",
  "server.tools_pin",
  "server.tools_unpin",
  "server.import",
  "key.create",
  "key.revoke",
  "organization.create",
  "organization.update",
  "organization.delete",
  "registry.settings_update",
  "member.add",
  "member.remove",
  "member.role_update",
  "invitation.create",
  "invitation.accept",
  "invitation.reject",
  "invitation.cancel",
] as const;
export const AuditAction = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditAction>;

export const ActorType = z.enum(["user", "api_key", "system"]);
export type ActorType = z.infer<typeof ActorType>;

export const AuditLog = z.object({
  id: z.string(),
  tenantId: z.string(),
  actorType: ActorType,
  actorId: z.string().nullable(),
  /** Who the actor is by name: a user's name, a key's name, or what Switchboard itself calls the work. */
  actorName: z.string().nullable(),
  /** A user actor's email address (null for a key or Switchboard itself, or a user since deleted). */
  actorEmail: z.string().nullable(),
  action: AuditAction,
  targetType: z.string(),
  targetId: z.string().nullable(),
  /** The target's name now (a server's display name, a key's name, a member's name, an invited email). */
  targetName: z.string().nullable(),
  /**
   * Whether the target is still there (a server or key not deleted, a member not removed…): only
   * a target that exists can be linked to. False for a target of a kind Switchboard does not look up.
   */
  targetExists: z.boolean(),
  correlationId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  changes: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.iso.datetime(),
});
export type AuditLog = z.infer<typeof AuditLog>;

const token = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w.:-]+$/, "letters, digits and . _ : - only");

/** What narrows the audit trail, in the list and in the export alike. */
const auditFilters = {
  action: AuditAction.optional(),
  actorId: token.optional(),
  targetId: token.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
};
const fromNotAfterTo = (q: { from?: string | undefined; to?: string | undefined }) =>
  !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to);
const fromNotAfterToIssue = { message: "from must not be after to", path: ["from"] };

export const AuditLogQuery = PageQuery.extend(auditFilters)
  .strict()
  .refine(fromNotAfterTo, fromNotAfterToIssue);
export type AuditLogQuery = z.infer<typeof AuditLogQuery>;

export const AuditLogPage = pageOf(AuditLog);
export type AuditLogPage = z.infer<typeof AuditLogPage>;

export const AUDIT_EXPORT_FORMATS = ["csv", "jsonl"] as const;
export const AuditExportFormat = z.enum(AUDIT_EXPORT_FORMATS);
export type AuditExportFormat = z.infer<typeof AuditExportFormat>;

/** The audit list's filters, and the file's format: CSV (the default) or JSON lines. */
export const AuditExportQuery = z
  .object({ format: AuditExportFormat.default("csv"), ...auditFilters })
  .strict()
  .refine(fromNotAfterTo, fromNotAfterToIssue);
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;
export type AuditLogFilters = Omit<AuditExportQuery, "format">;

/** The CSV export's columns, in order: every field of an audit row, `changes` as JSON. */
export const AUDIT_EXPORT_COLUMNS = [
  "createdAt",
  "id",
  "action",
  "actorType",
  "actorId",
  "actorName",
  "actorEmail",
  "targetType",
  "targetId",
  "targetName",
  "targetExists",
  "correlationId",
  "ip",
  "userAgent",
  "changes",
  "tenantId",
] as const satisfies readonly (keyof AuditLog)[];
