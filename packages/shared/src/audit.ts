import { z } from "zod";
import { PageQuery, pageOf } from "./pagination";

export const ActorType = z.enum(["user", "api_key", "system"]);
export type ActorType = z.infer<typeof ActorType>;

export const AuditLog = z.object({
  id: z.string(),
  tenantId: z.string(),
  actorType: ActorType,
  actorId: z.string().nullable(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
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

export const AuditLogQuery = PageQuery.extend({
  action: token.optional(),
  actorId: token.optional(),
  targetId: token.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
})
  .strict()
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
    message: "from must not be after to",
    path: ["from"],
  });
export type AuditLogQuery = z.infer<typeof AuditLogQuery>;

export const AuditLogPage = pageOf(AuditLog);
export type AuditLogPage = z.infer<typeof AuditLogPage>;
