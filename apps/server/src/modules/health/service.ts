import {
  type CheckResult,
  type HealthCheck,
  PinToolsInput,
  ProbeInput,
  type ProbeResult as ProbeResultDto,
  type Server,
  type ToolDrift,
} from "@switchboard/shared";
import type { Db } from "../../db/client";
import type { ServerRow } from "../../db/schema";
import type { Clock } from "../../lib/clock";
import type { ServiceContext } from "../../lib/context";
import { AppError } from "../../lib/errors";
import type { FleetSnapshot } from "../../lib/metrics";
import { assertManager } from "../../lib/roles";
import type { SecretBox } from "../../lib/secrets";
import { afterCommit, withTransaction } from "../../lib/transaction";
import { auditChange } from "../audit/service";
import {
  missingHeaders,
  publishServerUpdated,
  requireServer,
  serverNotFound,
  toServerDto,
} from "../servers/service";
import { upstreamTarget } from "../upstream/target";
import type { ProbeResult, Prober } from "./probe";
import { type FinishedCheck, recordChecks } from "./record";
import * as repo from "./repo";
import { pinOf } from "./tools";

/** The effects the health verbs need beside the core ones. */
export interface HealthDeps {
  probe: Prober;
  secrets: SecretBox;
}
export type HealthContext = ServiceContext & HealthDeps;

/** Records a check someone asked for, audited in the same transaction; returns the server after it. */
async function recordRequestedCheck(ctx: ServiceContext, check: FinishedCheck): Promise<ServerRow> {
  const { server, result } = check;
  return withTransaction(ctx, async (ctx) => {
    const { recorded, current, publish } = await recordChecks(ctx, [check]);
    if (!recorded.has(server.id)) throw serverNotFound(); // deleted while it was being probed
    await auditChange(ctx, {
      action: "server.check",
      target: { type: "server", id: server.id },
      changes: {
        status: { from: server.status, to: result.status },
        latencyMs: result.latencyMs,
        error: result.error,
        // A check that answered before another recorded meanwhile: history only.
        ...(current.has(server.id) ? {} : { superseded: true }),
      },
    });
    await afterCommit(ctx, publish);
    return requireServer(ctx, server.id);
  });
}

/** Probes one of the tenant's servers now and records the result. Owners and admins. */
export async function checkServerNow({ ctx, id }: { ctx: HealthContext; id: string }): Promise<CheckResult> {
  assertManager(ctx, "check servers");
  const server = await requireServer(ctx, id);
  const missing = missingHeaders(server.declaredHeaders, server.headers);
  if (missing.length) {
    throw new AppError(
      "CONFLICT",
      `This server needs configuration before it can be checked: set the required header${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
    );
  }
  const result = await ctx.probe(upstreamTarget(server, ctx.secrets));
  const checkedAt = ctx.clock.now();
  const updated = await recordRequestedCheck(ctx, { server, result, checkedAt });
  return { check: toCheckDto(result, checkedAt), server: toServerDto(updated) };
}

/** Probes an unsaved definition (the register form's "Test connection"). Records only its audit row. */
export async function probeDefinition({
  ctx,
  input,
}: {
  ctx: HealthContext;
  input: ProbeInput;
}): Promise<ProbeResultDto> {
  assertManager(ctx, "test connections");
  const data = ProbeInput.parse(input);
  const result = await ctx.probe({
    url: data.url,
    transport: data.transport,
    headers: Object.fromEntries(data.headers.map((h) => [h.name, h.value])),
  });
  await auditChange(ctx, {
    action: "server.probe",
    target: { type: "url", id: null },
    changes: {
      url: data.url,
      transport: data.transport,
      headers: data.headers.map((h) => h.name),
      status: result.status,
      error: result.error,
    },
  });
  return toCheckDto(result, ctx.clock.now());
}

/** A server's checks, newest first. Any member. */
export async function listHealthHistory({
  ctx,
  id,
  limit,
}: {
  ctx: ServiceContext;
  id: string;
  limit: number;
}): Promise<{ items: HealthCheck[] }> {
  await requireServer(ctx, id);
  const rows = await repo.findHistory(ctx.db, ctx.tenantId, id, limit);
  return {
    items: rows.map((r) => ({
      id: r.id,
      serverId: r.serverId,
      checkedAt: r.checkedAt.toISOString(),
      status: r.status,
      latencyMs: r.latencyMs,
      error: r.error,
      protocolVersion: r.protocolVersion,
      era: r.era,
      toolsCount: r.toolsCount,
    })),
  };
}

/** A server's tool changes, newest first. Any member. */
export async function listToolDrift({
  ctx,
  id,
  limit,
}: {
  ctx: ServiceContext;
  id: string;
  limit: number;
}): Promise<{ items: ToolDrift[] }> {
  await requireServer(ctx, id);
  const rows = await repo.findDrift(ctx.db, ctx.tenantId, id, limit);
  return {
    items: rows.map((r) => ({
      id: r.id,
      serverId: r.serverId,
      detectedAt: r.detectedAt.toISOString(),
      fromHash: r.fromHash,
      toHash: r.toHash,
      added: r.added,
      removed: r.removed,
      changed: r.changed,
    })),
  };
}

/**
 * Approves (pins) the tools the server offers now: from then on the gateway serves only these,
 * and a change marks the server drifted until approved again. With `toolsHash`, approves only if
 * the tools are still the ones the admin reviewed. Owners and admins.
 */
export async function pinTools({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: PinToolsInput;
}): Promise<Server> {
  assertManager(ctx, "approve tools");
  const data = PinToolsInput.parse(input);
  const row = await withTransaction(ctx, async (ctx) => {
    const before = await requireServer(ctx, id, { lock: true });
    if (before.toolsHash === null) {
      throw new AppError(
        "CONFLICT",
        "No check has listed this server's tools yet: check it first, then approve",
      );
    }
    if (data.toolsHash && data.toolsHash !== before.toolsHash) {
      throw new AppError(
        "PRECONDITION_FAILED",
        "The server's tools changed since you reviewed them: review the new ones and approve again",
      );
    }
    const pinned = pinOf(before.tools);
    const after = await repo.setPinnedTools(ctx.db, ctx.tenantId, id, pinned, ctx.clock.now());
    if (!after) throw serverNotFound();
    await auditChange(ctx, {
      action: "server.tools_pin",
      target: { type: "server", id },
      changes: { toolsHash: before.toolsHash, tools: pinned.map((t) => t.name) },
    });
    return after;
  });
  const server = toServerDto(row);
  await publishServerUpdated(ctx, server);
  return server;
}

/** Unpins a server's tools: the gateway serves whatever the server offers again. Owners and admins. */
export async function unpinTools({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<Server> {
  assertManager(ctx, "unpin tools");
  const row = await withTransaction(ctx, async (ctx) => {
    const before = await requireServer(ctx, id, { lock: true });
    if (!before.pinnedTools) return before;
    const after = await repo.setPinnedTools(ctx.db, ctx.tenantId, id, null, null);
    if (!after) throw serverNotFound();
    await auditChange(ctx, {
      action: "server.tools_unpin",
      target: { type: "server", id },
      changes: { tools: before.pinnedTools.map((t) => t.name) },
    });
    return after;
  });
  const server = toServerDto(row);
  await publishServerUpdated(ctx, server);
  return server;
}

export type { CheckedServer } from "./repo";

/**
 * Claims up to `limit` due servers for this scheduler until `leaseUntil` (see the repo's claim):
 * across every tenant, since the scheduler works for all of them.
 */
export function claimDueServers(
  db: Db,
  now: Date,
  limit: number,
  leaseUntil: Date,
): Promise<repo.CheckedServer[]> {
  return repo.claimDueServers(db, now, limit, leaseUntil);
}

/** Checks a second the enabled fleet asks for, all organizations together: Σ 1 / interval. */
export function fleetCheckRate(db: Db): Promise<number> {
  return repo.fleetCheckRate(db);
}

/** Keeps the scheduler's queue lean under its churn (see repo.vacuumCheckQueue). */
export function vacuumCheckQueue(db: Db): Promise<void> {
  return repo.vacuumCheckQueue(db);
}

/** Removes health history older than the retention period, checks and hourly rollup; returns how many rows went. */
export function purgeHealthHistory({
  db,
  clock,
  retentionDays,
}: {
  db: Db;
  clock: Clock;
  retentionDays: number;
}) {
  return repo.deleteHealthBefore(db, new Date(clock.now().getTime() - retentionDays * 86_400_000));
}

/**
 * The fleet as the metrics show it: servers by status, how late the scheduler is (the oldest due
 * check), and which enabled servers are down. Across every tenant, for the operator.
 */
export async function readFleet({
  db,
  clock,
  maxDown,
}: {
  db: Db;
  clock: Clock;
  maxDown: number;
}): Promise<FleetSnapshot> {
  const now = clock.now();
  const servers = await repo.countServersByStatus(db);
  const due = await repo.oldestDueCheck(db, now);
  const down = await repo.findDownServers(db, maxDown);
  return {
    servers: servers.map((s) => ({ status: s.status, enabled: s.enabled, count: Number(s.count) })),
    schedulerLagSeconds: due ? Math.max(0, (now.getTime() - due.getTime()) / 1000) : 0,
    down,
  };
}

function toCheckDto(result: ProbeResult, at: Date): ProbeResultDto {
  return {
    status: result.status,
    latencyMs: result.latencyMs,
    error: result.error,
    checkedAt: at.toISOString(),
    serverInfo: result.serverInfo,
    tools: result.tools,
    prompts: result.prompts,
    resources: result.resources,
    authChallenge: result.authChallenge,
  };
}
