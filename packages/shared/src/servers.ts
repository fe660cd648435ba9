import { z } from "zod";
import { PageQuery, pageOf } from "./pagination";
import { RegistryName } from "./registry";
import { httpUrl, line, multiline, nameLine, uuidParam } from "./text";

export const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ServerName = z
  .string()
  .regex(SLUG, "must be a slug: lowercase letters, digits and '-', 1-63 characters");

export const Transport = z.enum(["streamable-http", "sse"]);
export type Transport = z.infer<typeof Transport>;

/**
 * `auth_required`: reachable and protected by OAuth, with no credentials stored; not down (it is
 * not backed off) but not checked further either.
 */
export const HealthStatus = z.enum(["unknown", "healthy", "degraded", "unhealthy", "auth_required"]);
export type HealthStatus = z.infer<typeof HealthStatus>;

/** The generation of MCP a server speaks: `modern` (2026-07-28 and later, `server/discover`) or `legacy` (2025, `initialize`). */
export const ProtocolEra = z.enum(["modern", "legacy"]);
export type ProtocolEra = z.infer<typeof ProtocolEra>;

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

export const HEADER_VALUE_MAX = 4096;

export const HeaderName = z
  .string()
  .regex(HEADER_NAME, "must be an HTTP header name")
  .refine((n) => !RESERVED_HEADERS.has(n.toLowerCase()), "is set by Switchboard and cannot be overridden");

/** An upstream header to send to the MCP server, e.g. `Authorization`. Its value is a secret. */
export const UpstreamHeaderInput = z.strictObject({
  name: HeaderName,
  value: line(HEADER_VALUE_MAX).min(1, "must not be empty"),
});

/** On update, a header without a value keeps the value already stored under that name. */
export const UpstreamHeaderUpdate = z.strictObject({
  name: HeaderName,
  value: line(HEADER_VALUE_MAX).min(1, "must not be empty").optional(),
});

const uniqueNames = (headers: { name: string }[]) =>
  new Set(headers.map((h) => h.name.toLowerCase())).size === headers.length;

// Limits of a server definition, exported so that forms show them and check them before sending.
export const MAX_TAGS = 20;
export const MAX_HEADERS = 20;
export const DISPLAY_NAME_MAX = 100;
export const DESCRIPTION_MAX = 2000;
export const CHECK_INTERVAL_MIN = 10;
export const CHECK_INTERVAL_MAX = 86_400;
export const CHECK_INTERVAL_DEFAULT = 60;

export const TITLE_MAX = 100;
export const RELEASE_VERSION_MAX = 255;
export const HEADER_DESCRIPTION_MAX = 500;

/**
 * A header the server expects, with or without a value stored for it: as server.json declares
 * headers. A required one without a value leaves the server "needs configuration".
 */
export const DeclaredHeaderInput = z.strictObject({
  name: HeaderName,
  description: multiline(HEADER_DESCRIPTION_MAX).optional(),
  isRequired: z.boolean().default(false),
  isSecret: z.boolean().default(false),
});
export type DeclaredHeaderInput = z.input<typeof DeclaredHeaderInput>;

/** Where the server's source lives (server.json's `repository`). */
export const RepositoryInput = z.strictObject({
  url: httpUrl,
  source: line(100).trim().min(1, "must not be empty (e.g. github)"),
  id: line(200).trim().min(1).optional(),
  subfolder: line(500).trim().min(1).optional(),
});
export type RepositoryInput = z.infer<typeof RepositoryInput>;

const serverFields = {
  name: ServerName,
  displayName: nameLine(DISPLAY_NAME_MAX).trim().min(1, "must not be empty"),
  description: multiline(DESCRIPTION_MAX),
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
    .min(CHECK_INTERVAL_MIN, `must be at least ${CHECK_INTERVAL_MIN} seconds`)
    .max(CHECK_INTERVAL_MAX, "must be at most 1 day"),
  /** The reverse-DNS name registries know the server by; null: `{organization namespace}/{name}`. */
  registryName: RegistryName.nullable(),
  title: nameLine(TITLE_MAX).trim().min(1, "must not be empty").nullable(),
  websiteUrl: httpUrl.nullable(),
  repository: RepositoryInput.nullable(),
  /** The server's own version (server.json's `version`); `version` is Switchboard's edit counter. */
  releaseVersion: line(RELEASE_VERSION_MAX)
    .trim()
    .min(1, "must not be empty")
    .refine((v) => !/\s/.test(v), "must not contain spaces")
    .nullable(),
  declaredHeaders: z
    .array(DeclaredHeaderInput)
    .max(MAX_HEADERS, `at most ${MAX_HEADERS} headers`)
    .refine(uniqueNames, "must not repeat a header name"),
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
  checkIntervalSeconds: serverFields.checkIntervalSeconds.default(CHECK_INTERVAL_DEFAULT),
  registryName: serverFields.registryName.default(null),
  title: serverFields.title.default(null),
  websiteUrl: serverFields.websiteUrl.default(null),
  repository: serverFields.repository.default(null),
  releaseVersion: serverFields.releaseVersion.default(null),
  declaredHeaders: serverFields.declaredHeaders.default([]),
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

/** A declared header, and whether a value is stored for it. */
export const DeclaredHeader = z.object({
  name: z.string(),
  description: z.string().nullable(),
  isRequired: z.boolean(),
  isSecret: z.boolean(),
  /** A value is stored under this name (never shown). */
  isSet: z.boolean(),
});
export type DeclaredHeader = z.infer<typeof DeclaredHeader>;

export const Repository = z.object({
  url: z.string(),
  source: z.string(),
  id: z.string().optional(),
  subfolder: z.string().optional(),
});

export const ServerInfo = z.object({
  name: z.string().nullable(),
  version: z.string().nullable(),
  protocolVersion: z.string().nullable(),
  era: ProtocolEra.nullable(),
  capabilities: z.record(z.string(), z.unknown()),
});
export type ServerInfo = z.infer<typeof ServerInfo>;

const JsonObject = z.record(z.string(), z.unknown());

/** A tool as the server defines it. */
export const ToolDefinition = z.object({
  name: z.string(),
  title: z.string().nullable(),
  description: z.string().nullable(),
  inputSchema: JsonObject,
  outputSchema: JsonObject.nullable(),
  annotations: JsonObject.nullable(),
});
export type ToolDefinition = z.infer<typeof ToolDefinition>;

export const PromptSummary = z.object({
  name: z.string(),
  title: z.string().nullable(),
  description: z.string().nullable(),
});
export const ResourceSummary = z.object({
  uri: z.string(),
  name: z.string(),
  title: z.string().nullable(),
  mimeType: z.string().nullable(),
});

/** What a server that asks for OAuth says of itself: its authorization servers and scopes (RFC 9728). */
export const AuthChallenge = z.object({
  resourceMetadataUrl: z.string().nullable(),
  authorizationServers: z.array(z.string()),
  scopes: z.array(z.string()),
});
export type AuthChallenge = z.infer<typeof AuthChallenge>;

/** A server as a list shows it: everything but its tool, prompt and resource definitions. */
export const ServerSummary = z.object({
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
  /** The name registries know it by, as set; null: the organization's namespace and `name`. */
  registryName: z.string().nullable(),
  title: z.string().nullable(),
  websiteUrl: z.string().nullable(),
  repository: Repository.nullable(),
  releaseVersion: z.string().nullable(),
  declaredHeaders: z.array(DeclaredHeader),
  /**
   * A required header is declared with no value stored: the server is listed, but not checked and
   * not served by the gateway until an admin sets it.
   */
  needsConfiguration: z.boolean(),
  status: HealthStatus,
  /** When the server entered its current status (its first check with it); null until checked. */
  statusSince: z.iso.datetime().nullable(),
  lastCheckedAt: z.iso.datetime().nullable(),
  lastLatencyMs: z.number().int().nullable(),
  consecutiveFailures: z.number().int(),
  nextCheckAt: z.iso.datetime().nullable(),
  lastError: z.string().nullable(),
  serverInfo: ServerInfo.nullable(),
  toolsCount: z.number().int(),
  promptsCount: z.number().int(),
  resourcesCount: z.number().int(),
  /** SHA-256 of the tool definitions last seen; null until a check lists them. */
  toolsHash: z.string().nullable(),
  /** Whether an admin approved (pinned) a tool set: the gateway then serves only those tools. */
  pinned: z.boolean(),
  pinnedAt: z.iso.datetime().nullable(),
  /** Pinned, and the tools seen last differ from the approved set. */
  drifted: z.boolean(),
  /** For `auth_required`: the server's authorization servers and scopes. */
  authChallenge: AuthChallenge.nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int(),
});
export type ServerSummary = z.infer<typeof ServerSummary>;

/** One server, with the tools, prompts and resources its last successful check found. */
export const Server = ServerSummary.extend({
  tools: z.array(ToolDefinition),
  prompts: z.array(PromptSummary),
  resources: z.array(ResourceSummary),
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

/** The list's `enabled` filter, as it appears in a query string. */
export const EnabledFilter = z.enum(["true", "false"], "must be true or false");

export const ServerListQuery = PageQuery.extend({
  sort: ServerSort.default("name"),
  q: line(200).optional(),
  status: HealthStatus.optional(),
  transport: Transport.optional(),
  tag: Tag.optional(),
  enabled: EnabledFilter.transform((v) => v === "true").optional(),
  drifted: EnabledFilter.transform((v) => v === "true").optional(),
}).strict();
export type ServerListQuery = z.infer<typeof ServerListQuery>;

export const ServerPage = pageOf(ServerSummary);
export type ServerPage = z.infer<typeof ServerPage>;

/**
 * The organization's fleet at a glance: servers by health (enabled ones; disabled counted apart),
 * and how far the health checks run behind their schedule (while the scheduler catches up after
 * an outage, a restart or a bulk import).
 */
export const FleetOverview = z.object({
  total: z.number().int(),
  counts: z.object({
    unknown: z.number().int(),
    healthy: z.number().int(),
    degraded: z.number().int(),
    unhealthy: z.number().int(),
    auth_required: z.number().int(),
    disabled: z.number().int(),
  } satisfies Record<HealthStatus | "disabled", z.ZodNumber>),
  checks: z.object({
    /** Enabled servers whose check is due and not yet started. */
    overdue: z.number().int(),
    /** How long the most overdue of them has waited, in seconds (0 when none is). */
    lagSeconds: z.number().int(),
  }),
});
export type FleetOverview = z.infer<typeof FleetOverview>;

export const ServerIdParams = z.object({ id: uuidParam("must be a server id (UUID)") });
