import type { IncomingHttpHeaders } from "node:http";
import {
  type CatalogQuery,
  type ExportQuery,
  OFFICIAL_META_KEY,
  type RegistrySettings,
  type ServerJson,
  type ServerListJson,
  type ServerResponseJson,
  SWITCHBOARD_META_KEY,
  UpdateRegistrySettingsInput,
} from "@switchboard/shared";
import type { Db } from "../../db/client";
import type { RegistrySettingsRow } from "../../db/schema";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import type { ResolveSession, VerifyKey } from "../../lib/principal";
import { assertManager } from "../../lib/roles";
import { withTransaction } from "../../lib/transaction";
import { auditChange, diff } from "../audit/service";
import { getServer, listServers, type ServerContext } from "../servers/service";
import { effectiveVersion, toCatalogServerJson, toServerJson } from "./mapping";
import * as repo from "./repo";

/** What the registry verbs need beside the servers module's effects. */
export interface RegistryDeps {
  /** Switchboard's public URL: catalog entries point at its gateway. */
  baseUrl: string;
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");

async function organizationOf(db: Db, tenantId: string): Promise<repo.OrganizationRef> {
  const org = await repo.findOrganizationById(db, tenantId);
  if (!org) throw notFound("Organization");
  return org;
}

/** The organization with this slug (for the CLI, which names organizations by slug), or null. */
export const findOrganizationBySlug = (db: Db, slug: string) => repo.findOrganizationBySlug(db, slug);

const namespaceFrom = (settings: RegistrySettingsRow | null, org: repo.OrganizationRef) =>
  settings?.namespace ?? org.slug;

/** The organization's registry namespace: the one it chose, else its slug. */
export async function registryNamespace(ctx: ServiceContext): Promise<string> {
  const [settings, org] = await Promise.all([
    repo.findSettings(ctx.db, ctx.tenantId),
    organizationOf(ctx.db, ctx.tenantId),
  ]);
  return namespaceFrom(settings, org);
}

function settingsDto(
  settings: RegistrySettingsRow | null,
  org: repo.OrganizationRef,
  baseUrl: string,
): RegistrySettings {
  return {
    namespace: namespaceFrom(settings, org),
    namespaceIsDefault: !settings?.namespace,
    catalogPublic: settings?.catalogPublic ?? false,
    catalogUrl: `${trimSlash(baseUrl)}/registry/${org.slug}`,
  };
}

/** The organization's registry settings and its catalog's URL. Any member. */
export async function getRegistrySettings({
  ctx,
}: {
  ctx: ServiceContext & RegistryDeps;
}): Promise<RegistrySettings> {
  const [settings, org] = await Promise.all([
    repo.findSettings(ctx.db, ctx.tenantId),
    organizationOf(ctx.db, ctx.tenantId),
  ]);
  return settingsDto(settings, org, ctx.baseUrl);
}

/**
 * Changes the organization's namespace or makes its catalog public (or private again). Owners
 * and admins; audited as `registry.settings_update`.
 */
export async function updateRegistrySettings({
  ctx,
  input,
}: {
  ctx: ServiceContext & RegistryDeps;
  input: UpdateRegistrySettingsInput;
}): Promise<RegistrySettings> {
  assertManager(ctx, "change the organization's registry settings");
  const data = UpdateRegistrySettingsInput.parse(input);
  return withTransaction(ctx, async (ctx) => {
    const org = await organizationOf(ctx.db, ctx.tenantId);
    const before = settingsDto(await repo.findSettings(ctx.db, ctx.tenantId), org, ctx.baseUrl);
    const after = settingsDto(
      await repo.upsertSettings(ctx.db, ctx.tenantId, data, ctx.clock.now()),
      org,
      ctx.baseUrl,
    );
    await auditChange(ctx, {
      action: "registry.settings_update",
      target: { type: "organization", id: ctx.tenantId },
      changes: diff(
        { namespace: before.namespace, catalogPublic: before.catalogPublic },
        { namespace: after.namespace, catalogPublic: after.catalogPublic },
      ),
    });
    return after;
  });
}

// ---- Export ----------------------------------------------------------------------------------

/** One server as a server.json document. Any member. */
export async function exportServer({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<ServerJson> {
  const [server, namespace] = await Promise.all([getServer({ ctx, id }), registryNamespace(ctx)]);
  return toServerJson(server, namespace);
}

/** Servers read per page while exporting; the list's largest page. */
const EXPORT_PAGE = 200;

/** Every server of the organization (or those the filters keep) as server.json documents, by name. Any member. */
export async function exportServers({
  ctx,
  input,
}: {
  ctx: ServerContext;
  input: ExportQuery;
}): Promise<ServerJson[]> {
  const namespace = await registryNamespace(ctx);
  const docs: ServerJson[] = [];
  for (let page = 1; ; page++) {
    const { items, total } = await listServers({
      ctx,
      input: { ...input, sort: "name", page, pageSize: EXPORT_PAGE },
    });
    docs.push(...items.map((s) => toServerJson(s, namespace)));
    if (items.length < EXPORT_PAGE || page * EXPORT_PAGE >= total) return docs;
  }
}

// ---- The organization's catalog ---------------------------------------------------------------

/** Who may read a catalog, as the catalog's routes resolve it. */
export interface CatalogDeps {
  db: Db;
  baseUrl: string;
  resolveSession: ResolveSession;
  verifyKey: VerifyKey;
}

export interface OpenCatalog {
  org: repo.OrganizationRef;
  namespace: string;
}

const CATALOG_REFUSED =
  "This catalog is not public: send an mcp_ API key of the organization as Authorization: Bearer mcp_…, or sign in as one of its members";

/**
 * Whether the caller may read the organization's catalog: anyone when it is public; else a member
 * signed in, or the bearer of any `mcp_` key the organization issued. No credentials, or a bad
 * key, is a 401 whatever the slug; credentials that do not open this organization's catalog
 * (another organization's key, a non-member) are a 404, as for a slug that does not exist, so
 * that no answer tells private organizations apart.
 */
export async function openCatalog({
  deps,
  slug,
  headers,
  bearer,
}: {
  deps: CatalogDeps;
  slug: string;
  headers: IncomingHttpHeaders;
  bearer: string | undefined;
}): Promise<OpenCatalog> {
  const org = await repo.findOrganizationBySlug(deps.db, slug);
  const settings = org ? await repo.findSettings(deps.db, org.id) : null;
  if (org && settings?.catalogPublic) return { org, namespace: namespaceFrom(settings, org) };
  const notFoundHere = () => notFound("Registry");
  if (bearer?.startsWith("mcp_")) {
    const verdict = await deps.verifyKey(bearer);
    if (!verdict.ok) throw new AppError("UNAUTHORIZED", CATALOG_REFUSED);
    if (!org || verdict.key.tenantId !== org.id) throw notFoundHere();
    return { org, namespace: namespaceFrom(settings, org) };
  }
  if (!headers.cookie) throw new AppError("UNAUTHORIZED", CATALOG_REFUSED);
  const session = await deps.resolveSession(headers);
  if (!("principal" in session)) throw new AppError("UNAUTHORIZED", CATALOG_REFUSED);
  const { principal } = session;
  if (!org) throw notFoundHere();
  if (principal.tenantId !== org.id && !(await repo.isMember(deps.db, org.id, principal.user.id)))
    throw notFoundHere();
  return { org, namespace: namespaceFrom(settings, org) };
}

const encodeCursor = (after: string) => Buffer.from(JSON.stringify({ after }), "utf8").toString("base64url");

function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof parsed.after === "string") return parsed.after;
  } catch {
    // answered below
  }
  throw new AppError(
    "VALIDATION",
    "The cursor is not one this registry gave: use metadata.nextCursor as it is",
    [{ path: "query.cursor", message: "is not a cursor this registry gave" }],
  );
}

function toEntry(row: repo.CatalogRow, open: OpenCatalog, baseUrl: string): ServerResponseJson {
  const endpoint = row.transport === "sse" ? "sse" : "mcp";
  const gatewayUrl = `${trimSlash(baseUrl)}/gateway/${open.org.slug}/${row.name}/${endpoint}`;
  return {
    server: toCatalogServerJson(row, open.namespace, gatewayUrl),
    _meta: {
      [OFFICIAL_META_KEY]: {
        status: "active",
        publishedAt: row.createdAt.toISOString(),
        updatedAt: row.updatedAt.toISOString(),
        isLatest: true,
      },
      // What the organization's members see of the server in Switchboard.
      [SWITCHBOARD_META_KEY]: {
        enabled: row.enabled,
        health: row.status,
        needsConfiguration: row.needsConfiguration,
      },
    },
  };
}

/**
 * A page of the catalog, as `/v0.1/servers` answers: each server once (its one version is its
 * latest), ordered by name, `nextCursor` only when more follow.
 */
export async function listCatalog({
  deps,
  open,
  query,
}: {
  deps: CatalogDeps;
  open: OpenCatalog;
  query: CatalogQuery;
}): Promise<ServerListJson> {
  const rows = await repo.catalogPage(deps.db, {
    tenantId: open.org.id,
    namespace: open.namespace,
    after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    limit: query.limit,
    search: query.search,
    updatedSince: query.updated_since ? new Date(query.updated_since) : undefined,
    version: query.version && query.version !== "latest" ? query.version : undefined,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    servers: page.map((r) => toEntry(r, open, deps.baseUrl)),
    metadata: {
      ...(rows.length > query.limit && last ? { nextCursor: encodeCursor(last.listedName) } : {}),
      count: page.length,
    },
  };
}

const serverNotInCatalog = (name: string) => new AppError("NOT_FOUND", `Server ${name} was not found`);

/** Every version of one server (it has one), as `…/versions` answers. */
export async function catalogVersions({
  deps,
  open,
  serverName,
}: {
  deps: CatalogDeps;
  open: OpenCatalog;
  serverName: string;
}): Promise<ServerListJson> {
  const row = await repo.catalogEntry(deps.db, {
    tenantId: open.org.id,
    namespace: open.namespace,
    registryName: serverName,
  });
  if (!row) throw serverNotInCatalog(serverName);
  return { servers: [toEntry(row, open, deps.baseUrl)], metadata: { count: 1 } };
}

/** One version of one server (`latest`, or its version), as `…/versions/{version}` answers. */
export async function catalogVersion({
  deps,
  open,
  serverName,
  version,
}: {
  deps: CatalogDeps;
  open: OpenCatalog;
  serverName: string;
  version: string;
}): Promise<ServerResponseJson> {
  const row = await repo.catalogEntry(deps.db, {
    tenantId: open.org.id,
    namespace: open.namespace,
    registryName: serverName,
  });
  if (!row) throw serverNotInCatalog(serverName);
  if (version !== "latest" && version !== effectiveVersion(row)) {
    throw new AppError("NOT_FOUND", `Server ${serverName} has no version ${version}`);
  }
  return toEntry(row, open, deps.baseUrl);
}
