import { z } from "zod";
import { httpUrl, line } from "./text";

/*
 * The official MCP Registry's formats, written from its documentation (modelcontextprotocol/registry,
 * docs/reference/server-json/ and docs/reference/api/): `server.json` as of the 2025-12-11 schema,
 * and the `/v0.1` API's answers. Every field, limit and required-ness of the documents is here; the
 * tests check these schemas against the official JSON schema and OpenAPI document with Ajv.
 * Objects are not strict: the format lets publishers add fields, and a reader ignores what it does
 * not know.
 */

/** The schema every document Switchboard writes declares. */
export const SERVER_JSON_SCHEMA_URL =
  "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";
/** Where the official registry keeps what it manages about an entry (status, dates). */
export const OFFICIAL_META_KEY = "io.modelcontextprotocol.registry/official";
export const PUBLISHER_META_KEY = "io.modelcontextprotocol.registry/publisher-provided";
/** Switchboard's own `_meta` namespace: what the format has no field for (the full Markdown description). */
export const SWITCHBOARD_META_KEY = "dev.switchboard/server";

/** Limits the format sets. */
export const SERVER_JSON_LIMITS = {
  nameMin: 3,
  nameMax: 200,
  descriptionMax: 100,
  titleMax: 100,
  versionMax: 255,
  iconSrcMax: 255,
  statusMessageMax: 500,
} as const;

/** `namespace/name`, the namespace in reverse-DNS form: `io.github.user/weather`, `com.acme/crm`. */
export const REGISTRY_NAME_PATTERN = /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/;
/** The namespace half of a registry name. */
export const REGISTRY_NAMESPACE_PATTERN = /^[a-zA-Z0-9.-]+$/;

// "format: uri": an absolute URI with a scheme.
const isUri = (s: string) => {
  try {
    return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(s) && !/\s/.test(s) && Boolean(new URL(s));
  } catch {
    return false;
  }
};
const uri = z.string().refine(isUri, "must be an absolute URI");

// The remote transports' `url`: a URL template, `{variables}` allowed, no whitespace.
const remoteUrl = z.string().regex(/^https?:\/\/[^\s]+$/, "must be an http:// or https:// URL (template)");

// The official date-times are RFC 3339, with `Z` or an offset.
const dateTime = z.iso.datetime({ offset: true });

export const RegistryName = z
  .string()
  .min(SERVER_JSON_LIMITS.nameMin, `must be at least ${SERVER_JSON_LIMITS.nameMin} characters`)
  .max(SERVER_JSON_LIMITS.nameMax, `must be at most ${SERVER_JSON_LIMITS.nameMax} characters`)
  .regex(REGISTRY_NAME_PATTERN, "must be namespace/name in reverse-DNS form, e.g. com.acme/weather");

export const RegistryNamespace = z
  .string()
  .min(1)
  .max(SERVER_JSON_LIMITS.nameMax - 2, "is too long")
  .regex(
    REGISTRY_NAMESPACE_PATTERN,
    "must be a reverse-DNS namespace: letters, digits, '.' and '-', e.g. com.acme",
  );

export const RepositoryJson = z.object({
  url: uri,
  source: z.string(),
  id: z.string().optional(),
  subfolder: z.string().optional(),
});
export type RepositoryJson = z.infer<typeof RepositoryJson>;

export const IconJson = z.object({
  src: z
    .string()
    .max(SERVER_JSON_LIMITS.iconSrcMax, "must be at most 255 characters")
    .refine(isUri, "must be an absolute URI"),
  mimeType: z.enum(["image/png", "image/jpeg", "image/jpg", "image/svg+xml", "image/webp"]).optional(),
  sizes: z.array(z.string().regex(/^(\d+x\d+|any)$/, "must be WxH or any")).optional(),
  theme: z.enum(["light", "dark"]).optional(),
});

/** An input a client may ask its user for (a variable, a header, an argument, an environment variable). */
export const InputJson = z.object({
  description: z.string().optional(),
  isRequired: z.boolean().optional(),
  format: z.enum(["string", "number", "boolean", "filepath"]).optional(),
  /** A fixed value; `{name}` in it is replaced from `variables`. */
  value: z.string().optional(),
  isSecret: z.boolean().optional(),
  default: z.string().optional(),
  placeholder: z.string().optional(),
  choices: z.array(z.string()).optional(),
});
export type InputJson = z.infer<typeof InputJson>;

export const InputWithVariablesJson = InputJson.extend({
  variables: z.record(z.string(), InputJson).optional(),
});

/** A header or an environment variable. */
export const KeyValueInputJson = InputWithVariablesJson.extend({ name: z.string() });
export type KeyValueInputJson = z.infer<typeof KeyValueInputJson>;

export const PositionalArgumentJson = InputWithVariablesJson.extend({
  type: z.literal("positional"),
  valueHint: z.string().optional(),
  isRepeated: z.boolean().optional(),
}).refine((a) => a.valueHint !== undefined || a.value !== undefined, {
  message: "a positional argument needs a valueHint or a value",
});

export const NamedArgumentJson = InputWithVariablesJson.extend({
  type: z.literal("named"),
  name: z.string(),
  isRepeated: z.boolean().optional(),
});

export const ArgumentJson = z.union([PositionalArgumentJson, NamedArgumentJson]);

export const StdioTransportJson = z.object({ type: z.literal("stdio") });
export const StreamableHttpTransportJson = z.object({
  type: z.literal("streamable-http"),
  url: remoteUrl,
  headers: z.array(KeyValueInputJson).optional(),
});
export const SseTransportJson = z.object({
  type: z.literal("sse"),
  url: remoteUrl,
  headers: z.array(KeyValueInputJson).optional(),
});

export const LocalTransportJson = z.discriminatedUnion("type", [
  StdioTransportJson,
  StreamableHttpTransportJson,
  SseTransportJson,
]);

/** How to reach a server that runs elsewhere: its transport, URL (template) and headers. */
export const RemoteTransportJson = z.discriminatedUnion("type", [
  StreamableHttpTransportJson.extend({ variables: z.record(z.string(), InputJson).optional() }),
  SseTransportJson.extend({ variables: z.record(z.string(), InputJson).optional() }),
]);
export type RemoteTransportJson = z.infer<typeof RemoteTransportJson>;

/** A package a client downloads and runs itself (npm, pypi, nuget, oci, mcpb, …). */
export const PackageJson = z.object({
  registryType: z.string(),
  registryBaseUrl: uri.optional(),
  identifier: z.string(),
  version: z
    .string()
    .min(1)
    .refine((v) => v !== "latest", "must be a specific version, not latest")
    .optional(),
  fileSha256: z
    .string()
    .regex(/^[a-f0-9]{64}$/, "must be 64 lowercase hex characters")
    .optional(),
  runtimeHint: z.string().optional(),
  transport: LocalTransportJson,
  runtimeArguments: z.array(ArgumentJson).optional(),
  packageArguments: z.array(ArgumentJson).optional(),
  environmentVariables: z.array(KeyValueInputJson).optional(),
});

/** `server.json` (schema 2025-12-11): a static description of an MCP server. */
export const ServerJson = z.object({
  $schema: uri.optional(),
  name: RegistryName,
  description: z
    .string()
    .min(1, "must not be empty")
    .max(
      SERVER_JSON_LIMITS.descriptionMax,
      `must be at most ${SERVER_JSON_LIMITS.descriptionMax} characters`,
    ),
  title: z
    .string()
    .min(1, "must not be empty")
    .max(SERVER_JSON_LIMITS.titleMax, `must be at most ${SERVER_JSON_LIMITS.titleMax} characters`)
    .optional(),
  repository: RepositoryJson.optional(),
  version: z.string().max(SERVER_JSON_LIMITS.versionMax, "must be at most 255 characters"),
  websiteUrl: uri.optional(),
  icons: z.array(IconJson).optional(),
  packages: z.array(PackageJson).optional(),
  remotes: z.array(RemoteTransportJson).optional(),
  _meta: z.looseObject({ [PUBLISHER_META_KEY]: z.record(z.string(), z.unknown()).optional() }).optional(),
});
export type ServerJson = z.infer<typeof ServerJson>;

export const OfficialStatus = z.enum(["active", "deprecated", "deleted"]);
export type OfficialStatus = z.infer<typeof OfficialStatus>;

/** What a registry keeps about an entry, under `_meta["io.modelcontextprotocol.registry/official"]`. */
export const OfficialMeta = z.strictObject({
  status: OfficialStatus.optional(),
  statusMessage: z.string().max(SERVER_JSON_LIMITS.statusMessageMax).optional(),
  statusChangedAt: dateTime.optional(),
  publishedAt: dateTime.optional(),
  updatedAt: dateTime.optional(),
  isLatest: z.boolean().optional(),
});
export type OfficialMeta = z.infer<typeof OfficialMeta>;

/** One entry of a registry's answer: the server, and what the registry says about it. */
export const ServerResponseJson = z.object({
  server: ServerJson,
  _meta: z.looseObject({ [OFFICIAL_META_KEY]: OfficialMeta.optional() }).optional(),
});
export type ServerResponseJson = z.infer<typeof ServerResponseJson>;

/** A page of `/v0.1/servers` (and the answer of `…/versions`). */
export const ServerListJson = z.object({
  servers: z.array(ServerResponseJson),
  metadata: z
    .object({
      /** Absent (or empty) on the last page. */
      nextCursor: z.string().optional(),
      count: z.number().int().optional(),
    })
    .optional(),
});
export type ServerListJson = z.infer<typeof ServerListJson>;

/** What Switchboard writes under its own `_meta` namespace in the documents it exports. */
export const SwitchboardMeta = z.object({
  /** The full Markdown description; `description` holds its first sentence within 100 characters. */
  description: z.string().optional(),
  displayName: z.string().optional(),
  tags: z.array(z.string()).optional(),
});
export type SwitchboardMeta = z.infer<typeof SwitchboardMeta>;

// ---- The organization's catalog: `/registry/{orgSlug}/v0.1/…` --------------------------------

export const CATALOG_LIMIT_DEFAULT = 30;
export const CATALOG_LIMIT_MAX = 100;

const booleanParam = z.enum(["true", "false"], "must be true or false").transform((v) => v === "true");

export const CatalogQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce
    .number()
    .int("must be a whole number")
    .min(1)
    .max(CATALOG_LIMIT_MAX, `must be at most ${CATALOG_LIMIT_MAX}`)
    .default(CATALOG_LIMIT_DEFAULT),
  search: line(200).optional(),
  updated_since: dateTime.optional(),
  version: line(SERVER_JSON_LIMITS.versionMax).optional(),
  include_deleted: booleanParam.optional(),
});
export type CatalogQuery = z.infer<typeof CatalogQuery>;

// Path segments are looked up in the database: one line each, never a control character (a NUL
// fails the query it is bound in).
export const CatalogParams = z.object({ orgSlug: line(63) });
export const CatalogServerParams = CatalogParams.extend({
  serverName: line(SERVER_JSON_LIMITS.nameMax),
});
export const CatalogVersionParams = CatalogServerParams.extend({
  version: line(SERVER_JSON_LIMITS.versionMax),
});
export const CatalogVersionsQuery = z.object({ include_deleted: booleanParam.optional() });

// ---- Organization settings -------------------------------------------------------------------

export const RegistrySettings = z.object({
  /** The namespace of the organization's registry names (`namespace/server`). */
  namespace: z.string(),
  /** True while the organization has not chosen one: the namespace is then its slug. */
  namespaceIsDefault: z.boolean(),
  /** Whether anyone may read the catalog, without a session or key. */
  catalogPublic: z.boolean(),
  /** The catalog's base URL, as a registry client (VS Code's gallery) takes it. */
  catalogUrl: z.string(),
});
export type RegistrySettings = z.infer<typeof RegistrySettings>;

export const UpdateRegistrySettingsInput = z
  .strictObject({
    /** null goes back to the default (the organization's slug). */
    namespace: RegistryNamespace.nullable(),
    catalogPublic: z.boolean(),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, "send at least one field to change");
export type UpdateRegistrySettingsInput = z.input<typeof UpdateRegistrySettingsInput>;

// ---- Import and export -----------------------------------------------------------------------

export const MAX_IMPORT_ITEMS = 500;
export const REGISTRY_IMPORT_LIMIT_DEFAULT = 100;

/** Values for `{variables}` in remote URLs and header values, by variable name. */
export const ImportVariables = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "must be a variable name"),
  line(2048),
);

export const ImportQuery = z.object({ dryRun: booleanParam.default(false) }).strict();

export const ImportResultKind = z.enum(["created", "updated", "unchanged", "skipped"]);
export type ImportResultKind = z.infer<typeof ImportResultKind>;

/** What became of one document of an import (or, in a dry run, what would). */
export const ImportItemResult = z.object({
  /** The document's position in what was sent (or fetched). */
  index: z.number().int(),
  registryName: z.string().nullable(),
  result: ImportResultKind,
  /** The server created or updated (null when skipped, or in a dry run of a new one). */
  serverId: z.uuid().nullable(),
  /** The server's name in Switchboard (its slug). */
  name: z.string().nullable(),
  /** Why it was skipped. */
  reason: z.string().nullable(),
  /** URL or header variables that no value was given for. */
  missingVariables: z.array(z.string()),
  /** A required header is declared but has no value yet: listed, not checked, not served. */
  needsConfiguration: z.boolean(),
});
export type ImportItemResult = z.infer<typeof ImportItemResult>;

export const ImportResult = z.object({
  dryRun: z.boolean(),
  items: z.array(ImportItemResult),
  counts: z.object({
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    skipped: z.number().int(),
  }),
});
export type ImportResult = z.infer<typeof ImportResult>;

/**
 * `POST /mcp/servers/import`: one server.json, an array of them, a registry page
 * (`{ servers: [{ server }] }`), or any of those as `source` beside `variables`.
 */
export const ImportBody = z.union([
  z.strictObject({ source: z.unknown(), variables: ImportVariables.optional() }),
  ServerListJson,
  z.array(ServerJson),
  ServerJson,
]);

export const RegistryImportInput = z.strictObject({
  /** The registry's base URL (`https://registry.example.com`), or its `/v0.1/servers` URL. */
  url: httpUrl,
  search: line(200).optional(),
  /** How many servers to read at most. */
  limit: z.number().int().min(1).max(MAX_IMPORT_ITEMS).default(REGISTRY_IMPORT_LIMIT_DEFAULT),
  variables: ImportVariables.optional(),
});
export type RegistryImportInput = z.input<typeof RegistryImportInput>;

export const RegistryImportResult = ImportResult.extend({
  /** Pages read from the registry. */
  pages: z.number().int(),
  /** The registry had more than was read (the limit, or the page bound, was reached). */
  truncated: z.boolean(),
});
export type RegistryImportResult = z.infer<typeof RegistryImportResult>;

export const ExportQuery = z
  .object({
    q: line(200).optional(),
    tag: z.string().max(40).optional(),
    transport: z.enum(["streamable-http", "sse"]).optional(),
    enabled: booleanParam.optional(),
  })
  .strict();
export type ExportQuery = z.infer<typeof ExportQuery>;
