import { randomUUID } from "node:crypto";
import {
  CreateServerInput,
  type FleetOverview,
  type HealthStatus,
  type Server,
  type ServerEvent,
  type ServerListQuery,
  type ServerPage,
  type ServerSummary,
  UpdateServerInput,
} from "@switchboard/shared";
import { isUniqueViolation } from "../../db/errors";
import type { DeclaredHeader, ServerRow, StoredHeader } from "../../db/schema";
import { type ListFilter, publishPublic } from "../../lib/bus";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { assertManager } from "../../lib/roles";
import type { SecretBox } from "../../lib/secrets";
import { afterCommit, withTransaction } from "../../lib/transaction";
import { MASK } from "../audit/mask";
import { auditChange, diff } from "../audit/service";
import { slotAtOrAfter } from "../health/schedule";
import { PRIVATE_TARGETS_HINT, TargetRefused } from "../upstream/ssrf";
import type { GuardTarget } from "../upstream/target";
import * as repo from "./repo";
import type { ServerSummaries } from "./summaries";
import { filtersMoved, type ServerTotals } from "./totals";

/** The effects the server verbs need beside the core ones. */
export interface ServerDeps {
  secrets: SecretBox;
  /** Refuses a URL Switchboard must not reach (private targets unless allowed). */
  guardTarget: GuardTarget;
  /** List totals, remembered until a change is published (LIST_TOTALS_CACHE_SECONDS at most). */
  serverTotals: ServerTotals;
  /** The summaries of the pages listed last, reused for the rows that did not change. */
  serverSummaries: ServerSummaries;
}
export type ServerContext = ServiceContext & ServerDeps;

type HeaderUpdate = { name: string; value?: string | undefined };

export const serverNotFound = () => notFound("MCP server");

/**
 * One of the tenant's servers as stored, for the modules that act on it (keys, health); `lock`
 * holds it until the transaction ends. 404 for any other id.
 */
export async function requireServer(
  ctx: ServiceContext,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<ServerRow> {
  const row = ctx.transaction
    ? await repo.findServer(ctx.db, ctx.tenantId, id, { forUpdate: opts.lock ?? false })
    : await repo.readServer(ctx.db, ctx.tenantId, id);
  if (!row) throw serverNotFound();
  return row;
}

/** Refuses a URL the probe would refuse, so nobody registers a server that can never be checked. */
async function guardUrl(ctx: ServerContext, url: string): Promise<void> {
  try {
    await ctx.guardTarget(url);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    // Said at the field too, where the form shows it: the first-run server on 127.0.0.1 meets this.
    const field = err instanceof TargetRefused ? `${why}: ${PRIVATE_TARGETS_HINT}` : why;
    throw new AppError(
      "VALIDATION",
      `Switchboard does not probe private, loopback or link-local addresses: ${why}. The operator can allow them with ALLOW_PRIVATE_TARGETS=true`,
      [{ path: "body.url", message: field }],
    );
  }
}

/** Tells the tenant's dashboards once the change is committed. */
const publish = (ctx: ServiceContext, event: ServerEvent, moved?: ListFilter[]) =>
  afterCommit(ctx, () => publishPublic(ctx.bus, ctx.log, ctx.tenantId, event, moved));

/** Tells the dashboards of a change another module made to a server (its tools approved, say). */
export const publishServerUpdated = (ctx: ServiceContext, server: Server) =>
  publish(ctx, { type: "server.updated", server });
const duplicateRegistryName = (name: string) =>
  new AppError("CONFLICT", `Another server of this organization is already known as "${name}"`, [
    { path: "body.registryName", message: "is already taken" },
  ]);

/** Names of the required declared headers that have no stored value: the server needs configuration while any is left. */
export function missingHeaders(
  declared: readonly DeclaredHeader[],
  stored: readonly StoredHeader[],
): string[] {
  const set = new Set(stored.map((h) => h.name.toLowerCase()));
  return declared.filter((d) => d.isRequired && !set.has(d.name.toLowerCase())).map((d) => d.name);
}

const toDeclared = (d: {
  name: string;
  description?: string | undefined;
  isRequired: boolean;
  isSecret: boolean;
}): DeclaredHeader => ({
  name: d.name,
  description: d.description ?? null,
  isRequired: d.isRequired,
  isSecret: d.isSecret,
});

const duplicateName = (name: string) =>
  new AppError("CONFLICT", `A server named "${name}" already exists in this organization`, [
    { path: "body.name", message: "is already taken" },
  ]);

/** A page of the tenant's servers. Any member. */
export async function listServers({
  ctx,
  input,
}: {
  ctx: ServerContext;
  input: ServerListQuery;
}): Promise<ServerPage> {
  const [items, total] = await Promise.all([
    ctx.serverSummaries.page(
      ctx.tenantId,
      input,
      (known) => repo.listStampedRows(ctx.db, ctx.tenantId, input, known),
      toServerSummary,
    ),
    ctx.serverTotals.total(ctx.tenantId, input, () => repo.countServers(ctx.db, ctx.tenantId, input)),
  ]);
  return { items, page: input.page, pageSize: input.pageSize, total };
}

/** The tenant's fleet at a glance: servers by health, and how late their checks run. Any member. */
export async function getFleetOverview({ ctx }: { ctx: ServiceContext }): Promise<FleetOverview> {
  const now = ctx.clock.now();
  const o = await repo.fleetOverview(ctx.db, ctx.tenantId, now);
  const count = (status: HealthStatus) => Number(o.byStatus[status] ?? 0);
  return {
    total: o.total,
    counts: {
      unknown: count("unknown"),
      healthy: count("healthy"),
      degraded: count("degraded"),
      unhealthy: count("unhealthy"),
      auth_required: count("auth_required"),
      disabled: o.disabled,
    },
    checks: {
      overdue: o.overdue,
      lagSeconds: o.oldestDue ? Math.max(0, Math.floor((now.getTime() - o.oldestDue.getTime()) / 1000)) : 0,
    },
  };
}

/** One of the tenant's servers; 404 for any other id. Any member. */
export async function getServer({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<Server> {
  return toServerDto(await requireServer(ctx, id));
}

/** Registers a server. Owners and admins; 409 when the name is taken in the tenant. */
export async function createServer({
  ctx,
  input,
}: {
  ctx: ServerContext;
  input: CreateServerInput;
}): Promise<Server> {
  assertManager(ctx, "register servers");
  const data = CreateServerInput.parse(input);
  await guardUrl(ctx, data.url);
  const headers = data.headers.map((h) => ({ name: h.name, value: ctx.secrets.seal(h.value) }));
  const declaredHeaders = data.declaredHeaders.map(toDeclared);
  const needsConfiguration = missingHeaders(declaredHeaders, headers).length > 0;
  try {
    // The id is made here so that the first check falls in the server's slot (see schedule.ts): a
    // fleet registered at once is checked evenly over its interval from the first round on.
    const id = randomUUID();
    const row = await withTransaction(ctx, async (ctx) => {
      const created = await repo.insertServer(ctx.db, {
        id,
        tenantId: ctx.tenantId,
        name: data.name,
        displayName: data.displayName ?? data.name,
        description: data.description,
        transport: data.transport,
        url: data.url,
        headers,
        tags: data.tags,
        enabled: data.enabled,
        checkIntervalSeconds: data.checkIntervalSeconds,
        // A server that needs configuration is not checked until it has what it needs.
        nextCheckAt:
          data.enabled && !needsConfiguration
            ? slotAtOrAfter(ctx.clock.now(), data.checkIntervalSeconds, id)
            : null,
        registryName: data.registryName,
        title: data.title,
        websiteUrl: data.websiteUrl,
        repository: data.repository,
        releaseVersion: data.releaseVersion,
        declaredHeaders,
        needsConfiguration,
        createdBy: ctx.actor.type === "user" ? ctx.actor.userId : null,
        createdAt: ctx.clock.now(),
        updatedAt: ctx.clock.now(),
      });
      await auditChange(ctx, {
        action: "server.create",
        target: { type: "server", id: created.id },
        changes: auditSnapshot(created),
      });
      return created;
    });
    const server = toServerDto(row);
    await publish(ctx, { type: "server.created", server });
    return server;
  } catch (err) {
    if (isUniqueViolation(err, "mcp_servers_tenant_name_uq")) throw duplicateName(data.name);
    if (isUniqueViolation(err, "mcp_servers_tenant_registry_name_uq"))
      throw duplicateRegistryName(data.registryName ?? "");
    throw err;
  }
}

/**
 * Changes a server. With `ifMatch` (the version the client last saw), a server changed since
 * is a 412 and nothing is written. Owners and admins.
 */
export async function updateServer({
  ctx,
  id,
  input,
  ifMatch,
}: {
  ctx: ServerContext;
  id: string;
  input: UpdateServerInput;
  ifMatch?: number | undefined;
}): Promise<Server> {
  assertManager(ctx, "change servers");
  const data = UpdateServerInput.parse(input);
  if (data.url) await guardUrl(ctx, data.url);
  try {
    const { before, row } = await withTransaction(ctx, async (ctx) => {
      const before = await requireServer(ctx, id, { lock: true });
      if (ifMatch !== undefined && ifMatch !== before.version) {
        throw new AppError(
          "PRECONDITION_FAILED",
          `The server changed since version ${ifMatch} (it is now at version ${before.version}); reload it and try again`,
        );
      }
      const { headers, declaredHeaders, ...rest } = data;
      const changes: repo.ServerChanges = { ...rest };
      if (headers) changes.headers = mergeHeaders(before.headers, headers, ctx.secrets);
      if (declaredHeaders) changes.declaredHeaders = declaredHeaders.map(toDeclared);
      const needsConfiguration =
        missingHeaders(changes.declaredHeaders ?? before.declaredHeaders, changes.headers ?? before.headers)
          .length > 0;
      if (needsConfiguration !== before.needsConfiguration) changes.needsConfiguration = needsConfiguration;
      // A server switched on, pointed somewhere new, or given what it needed is checked at once; one
      // switched off, or still needing configuration, never.
      const retarget = data.url !== undefined || data.transport !== undefined || headers !== undefined;
      const enabled = data.enabled ?? before.enabled;
      // Switched off or on, it starts a new stretch: "down for 14 d" must not span a fortnight off.
      if (enabled !== before.enabled) changes.statusSince = null;
      if (!enabled || needsConfiguration) changes.nextCheckAt = null;
      // One server switched on, pointed elsewhere or given what it lacked is checked at once (many
      // at once are paced).
      else if (!before.enabled || retarget || before.needsConfiguration)
        changes.nextCheckAt = ctx.clock.now();
      const after = await repo.updateServer(ctx.db, ctx.tenantId, id, changes, ctx.clock.now());
      if (!after) throw serverNotFound();
      const changed = diff(auditSnapshot(before), auditSnapshot(after));
      const rotated = headerValuesChanged(before.headers, after.headers, ctx.secrets);
      await auditChange(ctx, {
        action: "server.update",
        target: { type: "server", id },
        changes: rotated.length ? { ...changed, headerValuesChanged: rotated } : changed,
      });
      return { before, row: after };
    });
    const server = toServerDto(row);
    // Only the list counts this edit can move are counted again (a description: searches only).
    await publish(ctx, { type: "server.updated", server }, filtersMoved(before, row));
    return server;
  } catch (err) {
    if (isUniqueViolation(err, "mcp_servers_tenant_name_uq")) throw duplicateName(data.name ?? "");
    if (isUniqueViolation(err, "mcp_servers_tenant_registry_name_uq"))
      throw duplicateRegistryName(data.registryName ?? "");
    throw err;
  }
}

/**
 * The tenant's server that registries know as `registryName`: the one that has it set, else (when
 * the name is `{namespace}/{name}` in the organization's namespace) the server of that name that
 * has none of its own. Locked when called inside a transaction. Any member.
 */
export async function findServerByRegistryName({
  ctx,
  registryName,
  namespace,
}: {
  ctx: ServiceContext;
  registryName: string;
  namespace: string;
}): Promise<Server | null> {
  const row =
    (await repo.findServerByRegistryName(ctx.db, ctx.tenantId, registryName)) ??
    (registryName.startsWith(`${namespace}/`)
      ? await repo.findServerByNameWithoutRegistryName(
          ctx.db,
          ctx.tenantId,
          registryName.slice(namespace.length + 1),
        )
      : null);
  if (!row) return null;
  return toServerDto(ctx.transaction ? await requireServer(ctx, row.id, { lock: true }) : row);
}

/** Which of these server names the tenant already uses. Any member. */
export async function serverNamesTaken({ ctx, names }: { ctx: ServiceContext; names: string[] }) {
  return repo.takenNames(ctx.db, ctx.tenantId, names);
}

/** Deletes a server with its keys and health history. Owners and admins. */
export async function deleteServer({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<void> {
  assertManager(ctx, "delete servers");
  await withTransaction(ctx, async (ctx) => {
    const before = await requireServer(ctx, id, { lock: true });
    if (!(await repo.deleteServer(ctx.db, ctx.tenantId, id))) throw serverNotFound();
    await auditChange(ctx, {
      action: "server.delete",
      target: { type: "server", id },
      changes: auditSnapshot(before),
    });
    await publish(ctx, { type: "server.deleted", serverId: id });
  });
}

/** New header list: a header sent without a value keeps the value stored under its name. */
function mergeHeaders(stored: StoredHeader[], wanted: HeaderUpdate[], secrets: SecretBox): StoredHeader[] {
  const byName = new Map(stored.map((h) => [h.name.toLowerCase(), h.value]));
  return wanted.map((h, i) => {
    if (h.value !== undefined) return { name: h.name, value: secrets.seal(h.value) };
    const kept = byName.get(h.name.toLowerCase());
    if (kept === undefined) {
      throw new AppError("VALIDATION", `Header "${h.name}" is new, so it needs a value`, [
        { path: `body.headers.${i}.value`, message: "is required for a new header" },
      ]);
    }
    return { name: h.name, value: kept };
  });
}

/** Names of headers whose secret value changed, without revealing either value. */
function headerValuesChanged(before: StoredHeader[], after: StoredHeader[], secrets: SecretBox): string[] {
  const old = new Map(before.map((h) => [h.name.toLowerCase(), h.value]));
  return after
    .filter((h) => {
      const prev = old.get(h.name.toLowerCase());
      return prev !== undefined && prev !== h.value && secrets.open(prev) !== secrets.open(h.value);
    })
    .map((h) => h.name);
}

const masked = (headers: StoredHeader[]) => headers.map((h) => ({ name: h.name, value: MASK }));

/** What the audit trail keeps of a server: its definition, with header values masked. */
function auditSnapshot(row: ServerRow): Record<string, unknown> {
  return {
    name: row.name,
    displayName: row.displayName,
    description: row.description,
    transport: row.transport,
    url: row.url,
    headers: masked(row.headers),
    tags: row.tags,
    enabled: row.enabled,
    checkIntervalSeconds: row.checkIntervalSeconds,
    registryName: row.registryName,
    title: row.title,
    websiteUrl: row.websiteUrl,
    repository: row.repository,
    releaseVersion: row.releaseVersion,
    declaredHeaders: row.declaredHeaders,
  };
}

const declaredWithState = (declared: DeclaredHeader[], stored: StoredHeader[]) => {
  const set = new Set(stored.map((h) => h.name.toLowerCase()));
  return declared.map((d) => ({ ...d, isSet: set.has(d.name.toLowerCase()) }));
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A server as a list shows it: counts of its tools, prompts and resources, not their definitions. */
export function toServerSummary(row: repo.ListRow): ServerSummary {
  return {
    id: row.id,
    name: row.name,
    displayName: row.displayName,
    description: row.description,
    transport: row.transport,
    url: row.url,
    headers: masked(row.headers),
    tags: row.tags,
    enabled: row.enabled,
    checkIntervalSeconds: row.checkIntervalSeconds,
    registryName: row.registryName,
    title: row.title,
    websiteUrl: row.websiteUrl,
    repository: row.repository,
    releaseVersion: row.releaseVersion,
    declaredHeaders: declaredWithState(row.declaredHeaders, row.headers),
    needsConfiguration: row.needsConfiguration,
    status: row.status,
    statusSince: iso(row.statusSince),
    lastCheckedAt: iso(row.lastCheckedAt),
    lastLatencyMs: row.lastLatencyMs,
    consecutiveFailures: row.consecutiveFailures,
    nextCheckAt: iso(row.nextCheckAt),
    lastError: row.lastError,
    serverInfo: row.serverInfo ? { ...row.serverInfo, era: row.serverInfo.era ?? null } : null,
    toolsCount: row.toolsCount,
    promptsCount: row.promptsCount,
    resourcesCount: row.resourcesCount,
    toolsHash: row.toolsHash,
    pinned: row.pinnedAt !== null,
    pinnedAt: iso(row.pinnedAt),
    drifted: row.toolsDrifted,
    authChallenge: row.authChallenge,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}

/** One server with its tool, prompt and resource definitions. */
export function toServerDto(row: ServerRow): Server {
  return {
    ...toServerSummary({
      ...row,
      toolsCount: row.tools.length,
      promptsCount: row.prompts.length,
      resourcesCount: row.resources.length,
    }),
    tools: row.tools,
    prompts: row.prompts,
    resources: row.resources,
  };
}
