import {
  type CreateServerInput,
  HeaderName,
  httpUrl,
  type InputJson,
  type KeyValueInputJson,
  type RemoteTransportJson,
  RepositoryInput,
  SERVER_JSON_LIMITS,
  SERVER_JSON_SCHEMA_URL,
  type ServerJson,
  SWITCHBOARD_META_KEY,
  SwitchboardMeta,
  Tag,
} from "@switchboard/shared";

/*
 * server.json ↔ Switchboard's servers, as pure functions: what a server exports as, and what a
 * document imports as (or why it cannot be).
 */

/** The version a server exports with when it has no release version and never said one. */
export const UNKNOWN_VERSION = "0.0.0";

/** What the mapping reads of a server (a server DTO has all of it). */
export interface ServerShape {
  name: string;
  displayName: string;
  description: string;
  transport: "streamable-http" | "sse";
  url: string;
  headers: { name: string }[];
  declaredHeaders: { name: string; description: string | null; isRequired: boolean; isSecret: boolean }[];
  tags: string[];
  registryName: string | null;
  title: string | null;
  websiteUrl: string | null;
  repository: { url: string; source: string; id?: string | undefined; subfolder?: string | undefined } | null;
  releaseVersion: string | null;
  serverInfo: { version: string | null } | null;
}

/** The name registries know a server by: its own, or `{namespace}/{name}`. */
export const effectiveRegistryName = (s: Pick<ServerShape, "registryName" | "name">, namespace: string) =>
  s.registryName ?? `${namespace}/${s.name}`;

/** The server's version for a registry: its release version, else what it reports, else 0.0.0. */
export function effectiveVersion(s: Pick<ServerShape, "releaseVersion" | "serverInfo">): string {
  const reported = s.serverInfo?.version?.trim();
  return (s.releaseVersion ?? (reported || UNKNOWN_VERSION)).slice(0, SERVER_JSON_LIMITS.versionMax);
}

const clip = (text: string, max: number) => {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
};

/**
 * server.json's `description` (at most 100 characters) from a Markdown description: its first
 * sentence, as plain text, trimmed; `fallback` (the title or name) when there is no text.
 */
export function shortDescription(markdown: string, fallback: string): string {
  const paragraph =
    markdown
      .replace(/```[\s\S]*?```/g, " ")
      .split(/\n\s*\n/)
      .map((p) =>
        p
          .split("\n")
          // Headings, quotes and list markers open lines; they are not words.
          .map((l) => l.replace(/^\s*(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)/, ""))
          .join(" ")
          .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
          .replace(/<[^>]+>/g, "")
          .replace(/(\*\*|__|\*|`|~~)/g, "")
          .replace(/\s+/g, " ")
          .trim(),
      )
      .find((p) => p.length > 0) ?? "";
  const sentence = /^(.+?[.!?])(?:\s|$)/.exec(paragraph)?.[1] ?? paragraph;
  const text = sentence || fallback.trim() || "MCP server";
  return clip(text, SERVER_JSON_LIMITS.descriptionMax);
}

/** The headers a server's remote declares: the declared ones, then stored ones nobody declared (as secrets). */
function exportedHeaders(server: ServerShape): KeyValueInputJson[] {
  const declared = new Set(server.declaredHeaders.map((d) => d.name.toLowerCase()));
  return [
    ...server.declaredHeaders.map((d) => ({
      name: d.name,
      ...(d.description ? { description: d.description } : {}),
      isRequired: d.isRequired,
      isSecret: d.isSecret,
    })),
    // A stored value is sealed and never shown: it may be a credential, so it is declared as one.
    ...server.headers
      .filter((h) => !declared.has(h.name.toLowerCase()))
      .map((h) => ({ name: h.name, isRequired: true, isSecret: true })),
  ];
}

/** The fields a server's document has whatever its remote: name, description, version and the rest. */
function documentBase(server: ServerShape, namespace: string, title: string | null) {
  return {
    $schema: SERVER_JSON_SCHEMA_URL,
    name: effectiveRegistryName(server, namespace),
    description: shortDescription(server.description, server.title ?? server.displayName ?? server.name),
    ...(title ? { title: clip(title, SERVER_JSON_LIMITS.titleMax) } : {}),
    version: effectiveVersion(server),
    ...(server.websiteUrl ? { websiteUrl: server.websiteUrl } : {}),
    ...(server.repository
      ? {
          repository: {
            url: server.repository.url,
            source: server.repository.source,
            ...(server.repository.id ? { id: server.repository.id } : {}),
            ...(server.repository.subfolder ? { subfolder: server.repository.subfolder } : {}),
          },
        }
      : {}),
  };
}

/**
 * A server as a server.json document that another Switchboard (or any registry client) imports:
 * its upstream URL and transport, its headers by name and description (never a value), and the
 * full Markdown description, display name and tags under Switchboard's `_meta` namespace.
 */
export function toServerJson(server: ServerShape, namespace: string): ServerJson {
  const headers = exportedHeaders(server);
  const meta: SwitchboardMeta = {
    description: server.description,
    displayName: server.displayName,
    tags: server.tags,
  };
  return {
    ...documentBase(server, namespace, server.title),
    remotes: [{ type: server.transport, url: server.url, ...(headers.length ? { headers } : {}) }],
    _meta: { [SWITCHBOARD_META_KEY]: meta },
  };
}

/**
 * A server as its organization's catalog lists it: reached through the gateway, with the `mcp_`
 * key a client must send declared as a secret header it asks its user for.
 */
export function toCatalogServerJson(server: ServerShape, namespace: string, gatewayUrl: string): ServerJson {
  return {
    ...documentBase(server, namespace, server.title ?? server.displayName),
    remotes: [
      {
        type: server.transport,
        url: gatewayUrl,
        headers: [
          {
            name: "Authorization",
            description: "An mcp_ API key that Switchboard issued for this server",
            isRequired: true,
            isSecret: true,
            value: "Bearer {api_key}",
            variables: {
              api_key: {
                description: "The mcp_ API key (ask an admin of the organization for one)",
                isRequired: true,
                isSecret: true,
              },
            },
          },
        ],
      },
    ],
  };
}

// ---- Import ----------------------------------------------------------------------------------

/** A document's server as Switchboard would register it. */
export interface MappedServer {
  registryName: string;
  /** The slug the server would get if new (before making it unique). */
  name: string;
  displayName: string;
  description: string;
  transport: "streamable-http" | "sse";
  url: string;
  tags: string[];
  title: string | null;
  websiteUrl: string | null;
  repository: RepositoryInput | null;
  releaseVersion: string;
  declaredHeaders: { name: string; description?: string; isRequired: boolean; isSecret: boolean }[];
  /** Header values the document fixed, or the request filled in. */
  headerValues: { name: string; value: string }[];
}

export type Mapping =
  | { ok: true; server: MappedServer }
  | { ok: false; reason: string; missingVariables: string[] };

/** A slug from the last part of a registry name: `com.acme/Weather_API` → `weather-api`. */
export function slugOf(registryName: string): string {
  const last = registryName.slice(registryName.indexOf("/") + 1);
  const slug = last
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/g, "");
  return slug || "server";
}

const VARIABLE = /\{([A-Za-z0-9_.-]+)\}/g;

/**
 * Fills `{variables}` in a template: a variable's fixed `value` first, then what the request gave,
 * then its `default`. Returns the names nothing was found for.
 */
function fill(
  template: string,
  declared: Record<string, InputJson> | undefined,
  given: Record<string, string>,
): { text: string; missing: string[] } {
  const missing: string[] = [];
  const text = template.replace(VARIABLE, (whole, name: string) => {
    const v = declared?.[name];
    const value = v?.value ?? given[name] ?? v?.default;
    if (value === undefined) {
      missing.push(name);
      return whole;
    }
    return value;
  });
  return { text, missing };
}

const pickRemote = (remotes: RemoteTransportJson[] | undefined) =>
  remotes?.find((r) => r.type === "streamable-http") ?? remotes?.find((r) => r.type === "sse");

/** The document's own `_meta` under Switchboard's namespace, when it is one of ours. */
function switchboardMeta(doc: ServerJson): SwitchboardMeta {
  const parsed = SwitchboardMeta.safeParse(doc._meta?.[SWITCHBOARD_META_KEY]);
  return parsed.success ? parsed.data : {};
}

/**
 * What a server.json document imports as: the streamable-http remote preferred over sse, its URL
 * variables filled from `variables` (or reported missing), its headers declared, with values where
 * the document fixes one or the request fills its variables. A document with packages only (stdio,
 * npm, pypi, oci, …) is not importable: Switchboard manages servers it reaches over HTTP.
 */
export function mapServerJson(doc: ServerJson, variables: Record<string, string> = {}): Mapping {
  const remote = pickRemote(doc.remotes);
  if (!remote) {
    const kinds = [...new Set((doc.packages ?? []).map((p) => `${p.registryType} (${p.transport.type})`))];
    return {
      ok: false,
      reason: kinds.length
        ? `Only packages to run locally (${kinds.join(", ")}): Switchboard manages remote servers, reached over streamable HTTP or SSE`
        : "No remote to connect to: the document has neither a streamable-http nor an sse remote",
      missingVariables: [],
    };
  }
  const url = fill(remote.url, remote.variables, variables);
  const headerValues: MappedServer["headerValues"] = [];
  const declaredHeaders: MappedServer["declaredHeaders"] = [];
  const missing = [...url.missing];
  for (const h of remote.headers ?? []) {
    if (!HeaderName.safeParse(h.name).success) {
      return {
        ok: false,
        reason: `Header "${h.name}" cannot be sent by Switchboard (not a header name, or one it sets itself)`,
        missingVariables: [],
      };
    }
    declaredHeaders.push({
      name: h.name,
      ...(h.description ? { description: h.description.slice(0, 500) } : {}),
      isRequired: h.isRequired ?? false,
      isSecret: h.isSecret ?? false,
    });
    if (h.value !== undefined) {
      const value = fill(h.value, h.variables, variables);
      if (value.missing.length) {
        // A header whose value cannot be completed yet is declared without one.
        if (h.isRequired) missing.push(...value.missing);
      } else if (value.text) headerValues.push({ name: h.name, value: value.text });
    }
  }
  if (url.missing.length) {
    return {
      ok: false,
      reason: `The remote URL ${remote.url} needs values for ${url.missing.join(", ")}: send them as variables`,
      missingVariables: [...new Set(missing)],
    };
  }
  if (!httpUrl.safeParse(url.text).success) {
    return {
      ok: false,
      reason: `The remote URL ${url.text} is not an http(s) URL Switchboard can use`,
      missingVariables: [],
    };
  }
  const meta = switchboardMeta(doc);
  const slug = slugOf(doc.name);
  const repository = doc.repository ? RepositoryInput.safeParse(doc.repository) : null;
  return {
    ok: true,
    server: {
      registryName: doc.name,
      name: slug,
      displayName: (meta.displayName ?? doc.title ?? slug).slice(0, 100),
      description: (meta.description ?? doc.description).slice(0, 2000),
      transport: remote.type,
      url: url.text,
      tags: (meta.tags ?? []).filter((t) => Tag.safeParse(t).success).slice(0, 20),
      title: doc.title ?? null,
      websiteUrl: doc.websiteUrl && httpUrl.safeParse(doc.websiteUrl).success ? doc.websiteUrl : null,
      repository: repository?.success ? repository.data : null,
      releaseVersion: doc.version.trim() && !/\s/.test(doc.version) ? doc.version : UNKNOWN_VERSION,
      declaredHeaders,
      headerValues,
    },
  };
}

/** A mapped server as the input of `createServer`, under the name chosen for it. */
export function createInputOf(server: MappedServer, name: string): CreateServerInput {
  return {
    name,
    displayName: server.displayName,
    description: server.description,
    transport: server.transport,
    url: server.url,
    headers: server.headerValues,
    tags: server.tags,
    registryName: server.registryName,
    title: server.title,
    websiteUrl: server.websiteUrl,
    repository: server.repository,
    releaseVersion: server.releaseVersion,
    declaredHeaders: server.declaredHeaders,
  };
}
