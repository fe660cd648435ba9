import {
  CreateServerInput,
  type Server,
  type ServerEvent,
  type ServerListQuery,
  type ServerPage,
  UpdateServerInput,
} from "@switchboard/shared";
import { isUniqueViolation } from "../../db/errors";
import type { StoredHeader } from "../../db/schema";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { assertManager } from "../../lib/roles";
import type { SecretBox } from "../../lib/secrets";
import { MASK } from "../audit/mask";
import { auditChange, diff } from "../audit/service";
import * as repo from "./repo";

type HeaderUpdate = { name: string; value?: string | undefined };

export const serverNotFound = () => notFound("MCP server");

/** Refuses a URL the probe would refuse, so nobody registers a server that can never be checked. */
async function guardUrl(ctx: ServiceContext, url: string): Promise<void> {
  try {
    await ctx.guardTarget(url);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new AppError(
      "VALIDATION",
      `Switchboard does not probe private, loopback or link-local addresses: ${why}. The operator can allow them with ALLOW_PRIVATE_TARGETS=true`,
      [{ path: "body.url", message: why }],
    );
  }
}

/** Tells the tenant's dashboards; a lost event costs a refresh, never the change itself. */
async function publish(ctx: ServiceContext, event: ServerEvent): Promise<void> {
  await ctx.events
    .publish(ctx.tenantId, event)
    .catch((err: unknown) => ctx.log.warn({ err }, "could not publish event"));
}
const duplicateName = (name: string) =>
  new AppError("CONFLICT", `A server named "${name}" already exists in this organization`, [
    { path: "body.name", message: "is already taken" },
  ]);

/** A page of the tenant's servers. Any member. */
export async function listServers({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: ServerListQuery;
}): Promise<ServerPage> {
  const [rows, total] = await Promise.all([
    repo.listServerRows(ctx.db, ctx.tenantId, input),
    ctx.serverTotals.total(ctx.tenantId, input, () => repo.countServers(ctx.db, ctx.tenantId, input)),
  ]);
  return { items: rows.map(toServerDto), page: input.page, pageSize: input.pageSize, total };
}

/** One of the tenant's servers; 404 for any other id. Any member. */
export async function getServer({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<Server> {
  const row = await repo.readServer(ctx.db, ctx.tenantId, id);
  if (!row) throw serverNotFound();
  return toServerDto(row);
}

/** Registers a server. Owners and admins; 409 when the name is taken in the tenant. */
export async function createServer({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: CreateServerInput;
}): Promise<Server> {
  assertManager(ctx, "register servers");
  const data = CreateServerInput.parse(input);
  await guardUrl(ctx, data.url);
  try {
    const row = await ctx.db.transaction(async (tx) => {
      const created = await repo.insertServer(tx, {
        tenantId: ctx.tenantId,
        name: data.name,
        displayName: data.displayName ?? data.name,
        description: data.description,
        transport: data.transport,
        url: data.url,
        headers: data.headers.map((h) => ({ name: h.name, value: ctx.secrets.seal(h.value) })),
        tags: data.tags,
        enabled: data.enabled,
        checkIntervalSeconds: data.checkIntervalSeconds,
        nextCheckAt: data.enabled ? ctx.clock.now() : null,
        createdBy: ctx.actor.type === "user" ? ctx.actor.userId : null,
        createdAt: ctx.clock.now(),
        updatedAt: ctx.clock.now(),
      });
      await auditChange(tx, ctx, {
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
  ctx: ServiceContext;
  id: string;
  input: UpdateServerInput;
  ifMatch?: number | undefined;
}): Promise<Server> {
  assertManager(ctx, "change servers");
  const data = UpdateServerInput.parse(input);
  if (data.url) await guardUrl(ctx, data.url);
  try {
    const row = await ctx.db.transaction(async (tx) => {
      const before = await repo.findServer(tx, ctx.tenantId, id, { forUpdate: true });
      if (!before) throw serverNotFound();
      if (ifMatch !== undefined && ifMatch !== before.version) {
        throw new AppError(
          "PRECONDITION_FAILED",
          `The server changed since version ${ifMatch} (it is now at version ${before.version}); reload it and try again`,
        );
      }
      const { headers, ...rest } = data;
      const changes: repo.ServerChanges = { ...rest };
      if (headers) changes.headers = mergeHeaders(before.headers, headers, ctx.secrets);
      // A server switched on, or pointed somewhere new, is checked at once; one switched off never.
      const retarget = data.url !== undefined || data.transport !== undefined || headers !== undefined;
      const enabled = data.enabled ?? before.enabled;
      if (!enabled) changes.nextCheckAt = null;
      else if (!before.enabled || retarget) changes.nextCheckAt = ctx.clock.now();
      const after = await repo.updateServer(tx, ctx.tenantId, id, changes, ctx.clock.now());
      if (!after) throw serverNotFound();
      const changed = diff(auditSnapshot(before), auditSnapshot(after));
      const rotated = headerValuesChanged(before.headers, after.headers, ctx.secrets);
      await auditChange(tx, ctx, {
        action: "server.update",
        target: { type: "server", id },
        changes: rotated.length ? { ...changed, headerValuesChanged: rotated } : changed,
      });
      return after;
    });
    const server = toServerDto(row);
    await publish(ctx, { type: "server.updated", server });
    return server;
  } catch (err) {
    if (isUniqueViolation(err, "mcp_servers_tenant_name_uq")) throw duplicateName(data.name ?? "");
    throw err;
  }
}

/** Deletes a server with its keys and health history. Owners and admins. */
export async function deleteServer({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<void> {
  assertManager(ctx, "delete servers");
  await ctx.db.transaction(async (tx) => {
    const before = await repo.findServer(tx, ctx.tenantId, id, { forUpdate: true });
    if (!before || !(await repo.deleteServer(tx, ctx.tenantId, id))) throw serverNotFound();
    await auditChange(tx, ctx, {
      action: "server.delete",
      target: { type: "server", id },
      changes: auditSnapshot(before),
    });
  });
  await publish(ctx, { type: "server.deleted", serverId: id });
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
function auditSnapshot(row: repo.ServerRow): Record<string, unknown> {
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
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toServerDto(row: repo.ServerRow): Server {
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
    status: row.status,
    lastCheckedAt: iso(row.lastCheckedAt),
    lastLatencyMs: row.lastLatencyMs,
    consecutiveFailures: row.consecutiveFailures,
    nextCheckAt: iso(row.nextCheckAt),
    lastError: row.lastError,
    serverInfo: row.serverInfo ?? null,
    tools: row.tools,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}
