import { and, asc, eq, gt, type SQL, sql } from "drizzle-orm";
import type { Db, Queryable } from "../../db/client";
import {
  mcpRegistrySettings,
  mcpServers,
  member,
  organization,
  type RegistrySettingsRow,
} from "../../db/schema";

/** The organization's registry settings, or null when it never changed them. */
export async function findSettings(q: Queryable, tenantId: string): Promise<RegistrySettingsRow | null> {
  const [row] = await q
    .select()
    .from(mcpRegistrySettings)
    .where(eq(mcpRegistrySettings.tenantId, tenantId))
    .limit(1);
  return row ?? null;
}

/** Writes the organization's settings (creating their row the first time); returns them. */
export async function upsertSettings(
  q: Queryable,
  tenantId: string,
  changes: { namespace?: string | null; catalogPublic?: boolean },
  now: Date,
): Promise<RegistrySettingsRow> {
  const [row] = await q
    .insert(mcpRegistrySettings)
    .values({ tenantId, ...changes, updatedAt: now })
    .onConflictDoUpdate({ target: mcpRegistrySettings.tenantId, set: { ...changes, updatedAt: now } })
    .returning();
  if (!row) throw new Error("upsert returned no row");
  return row;
}

export interface OrganizationRef {
  id: string;
  slug: string;
}

export async function findOrganizationBySlug(db: Db, slug: string): Promise<OrganizationRef | null> {
  const [row] = await db
    .select({ id: organization.id, slug: organization.slug })
    .from(organization)
    .where(eq(organization.slug, slug))
    .limit(1);
  return row ?? null;
}

export async function findOrganizationById(q: Queryable, id: string): Promise<OrganizationRef | null> {
  const [row] = await q
    .select({ id: organization.id, slug: organization.slug })
    .from(organization)
    .where(eq(organization.id, id))
    .limit(1);
  return row ?? null;
}

/** Whether the user is a member of the organization, whichever organization their session has active. */
export async function isMember(db: Db, organizationId: string, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: member.id })
    .from(member)
    .where(and(eq(member.organizationId, organizationId), eq(member.userId, userId)))
    .limit(1);
  return Boolean(row);
}

/**
 * The name a server is listed under: its own registry name, or the namespace and its name. Compared
 * byte by byte (COLLATE "C"), so that pages follow one order whatever the database's locale.
 */
const listedName = (namespace: string) =>
  sql<string>`(coalesce(${mcpServers.registryName}, ${namespace}::text || '/' || ${mcpServers.name}) COLLATE "C")`;
/** Its version, as mapping.ts's effectiveVersion computes it. */
const listedVersion = sql<string>`left(coalesce(${mcpServers.releaseVersion}, nullif(btrim(${mcpServers.serverInfo}->>'version'), ''), '0.0.0'), 255)`;

const catalogColumns = (namespace: string) => ({
  id: mcpServers.id,
  name: mcpServers.name,
  displayName: mcpServers.displayName,
  description: mcpServers.description,
  transport: mcpServers.transport,
  url: mcpServers.url,
  headers: mcpServers.headers,
  declaredHeaders: mcpServers.declaredHeaders,
  tags: mcpServers.tags,
  registryName: mcpServers.registryName,
  title: mcpServers.title,
  websiteUrl: mcpServers.websiteUrl,
  repository: mcpServers.repository,
  releaseVersion: mcpServers.releaseVersion,
  serverInfo: mcpServers.serverInfo,
  enabled: mcpServers.enabled,
  status: mcpServers.status,
  needsConfiguration: mcpServers.needsConfiguration,
  createdAt: mcpServers.createdAt,
  updatedAt: mcpServers.updatedAt,
  listedName: listedName(namespace),
});

export type CatalogRow = Awaited<ReturnType<typeof catalogPage>>[number];

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * A page of the organization's catalog in the order of the names it lists them under: those after
 * `after`, matching `search` (a substring of the name, any case), changed after `updatedSince`,
 * at `version` when one is asked. `limit + 1` rows are read, so the caller knows whether more follow.
 */
export function catalogPage(
  db: Db,
  opts: {
    tenantId: string;
    namespace: string;
    after?: string | undefined;
    limit: number;
    search?: string | undefined;
    updatedSince?: Date | undefined;
    version?: string | undefined;
  },
) {
  const name = listedName(opts.namespace);
  const where: (SQL | undefined)[] = [eq(mcpServers.tenantId, opts.tenantId)];
  if (opts.after !== undefined) where.push(sql`${name} > ${opts.after}`);
  if (opts.search) where.push(sql`${name} ILIKE ${`%${likeEscape(opts.search)}%`}`);
  if (opts.updatedSince) where.push(gt(mcpServers.updatedAt, opts.updatedSince));
  if (opts.version) where.push(sql`${listedVersion} = ${opts.version}`);
  return db
    .select(catalogColumns(opts.namespace))
    .from(mcpServers)
    .where(and(...where))
    .orderBy(asc(name))
    .limit(opts.limit + 1);
}

/** The catalog's entry listed under `registryName`, or null. */
export async function catalogEntry(
  db: Db,
  opts: { tenantId: string; namespace: string; registryName: string },
): Promise<CatalogRow | null> {
  const [row] = await db
    .select(catalogColumns(opts.namespace))
    .from(mcpServers)
    .where(
      and(eq(mcpServers.tenantId, opts.tenantId), sql`${listedName(opts.namespace)} = ${opts.registryName}`),
    )
    .orderBy(asc(mcpServers.registryName))
    .limit(1);
  return row ?? null;
}
