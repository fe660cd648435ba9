import { z } from "zod";
import { PageQuery, pageOf } from "./pagination";
import { httpUrl, line, multiline } from "./text";

export const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ServerName = z
  .string()
  .regex(SLUG, "must be a slug: lowercase letters, digits and '-', 1-63 characters");

export const Transport = z.enum(["streamable-http", "sse"]);
export type Transport = z.infer<typeof Transport>;

export const HealthStatus = z.enum(["unknown", "healthy", "degraded", "unhealthy"]);
export type HealthStatus = z.infer<typeof HealthStatus>;

export const Tag = z
  .string()
  .min(1)
  .max(40, "must be at most 40 characters")
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "must be lowercase letters, digits, '.', '_' or '-'");

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "keep-alive",
]);

export const HeaderName = z
  .string()
  .regex(HEADER_NAME, "must be an HTTP header name")
  .refine((n) => !RESERVED_HEADERS.has(n.toLowerCase()), "is set by Switchboard and cannot be overridden");

/** An upstream header to send to the MCP server, e.g. `Authorization`. Its value is a secret. */
export const UpstreamHeaderInput = z.strictObject({
  name: HeaderName,
  value: line(4096).min(1, "must not be empty"),
});

/** On update, a header without a value keeps the value already stored under that name. */
export const UpstreamHeaderUpdate = z.strictObject({
  name: HeaderName,
  value: line(4096).min(1, "must not be empty").optional(),
});

const uniqueNames = (headers: { name: string }[]) =>
  new Set(headers.map((h) => h.name.toLowerCase())).size === headers.length;

export const MAX_TAGS = 20;
export const MAX_HEADERS = 20;

const serverFields = {
  name: ServerName,
  displayName: line(100).trim().min(1, "must not be empty"),
  description: multiline(2000),
  transport: Transport,
  url: httpUrl,
  tags: z
    .array(Tag)
    .max(MAX_TAGS, `at most ${MAX_TAGS} tags`)
    .refine((t) => new Set(t).size === t.length, "must not repeat a tag"),
  enabled: z.boolean(),
  checkIntervalSeconds: z
    .number()
    .int()
    .min(10, "must be at least 10 seconds")
    .max(86_400, "must be at most 1 day"),
};

export const CreateServerInput = z.strictObject({
  ...serverFields,
  displayName: serverFields.displayName.optional(),
  description: serverFields.description.default(""),
  transport: serverFields.transport.default("streamable-http"),
  headers: z
    .array(UpstreamHeaderInput)
    .max(MAX_HEADERS, `at most ${MAX_HEADERS} headers`)
    .refine(uniqueNames, "must not repeat a header name")
    .default([]),
  tags: serverFields.tags.default([]),
  enabled: serverFields.enabled.default(true),
  checkIntervalSeconds: serverFields.checkIntervalSeconds.default(60),
});
export type CreateServerInput = z.input<typeof CreateServerInput>;

export const UpdateServerInput = z
  .strictObject({
    ...serverFields,
    headers: z
      .array(UpstreamHeaderUpdate)
      .max(MAX_HEADERS, `at most ${MAX_HEADERS} headers`)
      .refine(uniqueNames, "must not repeat a header name"),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, "send at least one field to change");
export type UpdateServerInput = z.input<typeof UpdateServerInput>;

export const MaskedHeader = z.object({ name: z.string(), value: z.string() });

export const ServerInfo = z.object({
  name: z.string().nullable(),
  version: z.string().nullable(),
  protocolVersion: z.string().nullable(),
  capabilities: z.record(z.string(), z.unknown()),
});

export const ToolSummary = z.object({ name: z.string(), description: z.string().nullable() });

export const Server = z.object({
  id: z.uuid(),
  name: z.string(),
  displayName: z.string(),
  description: z.string(),
  transport: Transport,
  url: z.string(),
  /** Header names with masked values: stored values are never returned. */
  headers: z.array(MaskedHeader),
  tags: z.array(z.string()),
  enabled: z.boolean(),
  checkIntervalSeconds: z.number().int(),
  status: HealthStatus,
  lastCheckedAt: z.iso.datetime().nullable(),
  lastLatencyMs: z.number().int().nullable(),
  consecutiveFailures: z.number().int(),
  nextCheckAt: z.iso.datetime().nullable(),
  lastError: z.string().nullable(),
  serverInfo: ServerInfo.nullable(),
  tools: z.array(ToolSummary),
  createdBy: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int(),
});
export type Server = z.infer<typeof Server>;

export const SERVER_SORT_FIELDS = [
  "name",
  "displayName",
  "status",
  "createdAt",
  "updatedAt",
  "lastCheckedAt",
] as const;
export const ServerSortField = z.enum(SERVER_SORT_FIELDS);
export type ServerSortField = z.infer<typeof ServerSortField>;
export const ServerSort = z
  .string()
  .regex(
    new RegExp(`^-?(${SERVER_SORT_FIELDS.join("|")})$`),
    `must be one of ${SERVER_SORT_FIELDS.join(", ")}, optionally prefixed with '-' for descending`,
  );

export const ServerListQuery = PageQuery.extend({
  sort: ServerSort.default("name"),
  q: line(200).optional(),
  status: HealthStatus.optional(),
  transport: Transport.optional(),
  tag: Tag.optional(),
  enabled: z
    .enum(["true", "false"], "must be true or false")
    .transform((v) => v === "true")
    .optional(),
}).strict();
export type ServerListQuery = z.infer<typeof ServerListQuery>;

export const ServerPage = pageOf(Server);
export type ServerPage = z.infer<typeof ServerPage>;

export const ServerIdParams = z.object({ id: z.uuid("must be a server id (UUID)") });
