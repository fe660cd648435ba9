import {
  type CheckResult,
  type HealthCheck,
  ProbeInput,
  type ProbeResult as ProbeResultDto,
} from "@switchboard/shared";
import type { FastifyBaseLogger } from "fastify";
import type { Db } from "../../db/client";
import type { Clock } from "../../lib/clock";
import type { ServiceContext } from "../../lib/context";
import { assertManager } from "../../lib/roles";
import type { SecretBox } from "../../lib/secrets";
import { auditChange } from "../audit/service";
import type { EventBus } from "../events/bus";
import { findServer, readServer, type ServerRow } from "../servers/repo";
import { serverNotFound, toServerDto } from "../servers/service";
import type { ProbeResult, ProbeTarget } from "./probe";
import * as repo from "./repo";
import { nextCheckAt } from "./schedule";

/** What recording a check needs; the scheduler has it without any request. */
export interface RecordDeps {
  db: Db;
  clock: Clock;
  events: EventBus;
  log: FastifyBaseLogger;
  random?: () => number;
}

/** The probe's view of a server: its URL and transport, and its headers opened for this call. */
export function probeTarget(
  row: Pick<ServerRow, "url" | "transport" | "headers">,
  secrets: SecretBox,
): ProbeTarget {
  return {
    url: row.url,
    transport: row.transport,
    headers: Object.fromEntries(row.headers.map((h) => [h.name, secrets.open(h.value)])),
  };
}

/** A probe's outcome for one server, and when it came. */
export interface FinishedCheck {
  server: ServerRow;
  result: ProbeResult;
  checkedAt: Date;
}

function toHealthRecord(deps: RecordDeps, { server, result, checkedAt }: FinishedCheck): repo.HealthRecord {
  const failures = result.status === "unhealthy" ? server.consecutiveFailures + 1 : 0;
  return {
    serverId: server.id,
    tenantId: server.tenantId,
    checkedAt,
    status: result.status,
    latencyMs: result.latencyMs,
    error: result.error,
    protocolVersion: result.serverInfo?.protocolVersion ?? null,
    toolsCount: result.serverInfo ? result.tools.length : null,
    consecutiveFailures: failures,
    // Backs off after failures; a disabled server is not scheduled.
    nextCheckAt: server.enabled
      ? nextCheckAt(checkedAt, server.checkIntervalSeconds, failures, deps.random)
      : null,
    // A failed probe learns nothing new: keep what the last successful one found.
    learned: result.serverInfo ? { serverInfo: result.serverInfo, tools: result.tools } : null,
  };
}

/** Tells the tenant's dashboards; a lost event only delays the change until their next fetch. */
function publishHealthChanged(deps: RecordDeps, { server, result, checkedAt }: FinishedCheck) {
  return deps.events
    .publish(server.tenantId, {
      type: "health.changed",
      serverId: server.id,
      status: result.status,
      previousStatus: server.status,
      latencyMs: result.latencyMs,
      error: result.error,
      checkedAt: checkedAt.toISOString(),
    })
    .catch((err: unknown) => deps.log.warn({ err }, "could not publish health.changed"));
}

/**
 * Records the scheduler's checks in one statement (history rows, health columns, next checks)
 * and tells the dashboards. A server deleted while it was probed is skipped.
 */
export async function recordChecks(deps: RecordDeps, checks: FinishedCheck[]): Promise<void> {
  // One row per server: should a server come twice, its latest check stands.
  const latest = [...new Map(checks.map((c) => [c.server.id, c])).values()];
  const recorded = new Set(
    await repo.recordHealth(
      deps.db,
      latest.map((c) => toHealthRecord(deps, c)),
    ),
  );
  await Promise.all(
    latest.filter((c) => recorded.has(c.server.id)).map((c) => publishHealthChanged(deps, c)),
  );
}

/** Records a check someone asked for, audited in the same transaction; returns the server after it. */
async function recordRequestedCheck(ctx: ServiceContext, check: FinishedCheck): Promise<ServerRow> {
  const { server, result } = check;
  const updated = await ctx.db.transaction(async (tx) => {
    const [recorded] = await repo.recordHealth(tx, [toHealthRecord(ctx, check)]);
    if (!recorded) return null; // deleted while it was being probed
    await auditChange(tx, ctx, {
      action: "server.check",
      target: { type: "server", id: server.id },
      changes: {
        status: { from: server.status, to: result.status },
        latencyMs: result.latencyMs,
        error: result.error,
      },
    });
    return findServer(tx, ctx.tenantId, server.id);
  });
  if (!updated) throw serverNotFound();
  await publishHealthChanged(ctx, check);
  return updated;
}

/** Probes one of the tenant's servers now and records the result. Owners and admins. */
export async function checkServerNow({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<CheckResult> {
  assertManager(ctx, "check servers");
  const server = await readServer(ctx.db, ctx.tenantId, id);
  if (!server) throw serverNotFound();
  const result = await ctx.probe(probeTarget(server, ctx.secrets));
  const checkedAt = ctx.clock.now();
  const updated = await recordRequestedCheck(ctx, { server, result, checkedAt });
  return { check: toCheckDto(result, checkedAt), server: toServerDto(updated) };
}

/** Probes an unsaved definition (the register form's "Test connection"). Records only its audit row. */
export async function probeDefinition({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: ProbeInput;
}): Promise<ProbeResultDto> {
  assertManager(ctx, "test connections");
  const data = ProbeInput.parse(input);
  const result = await ctx.probe({
    url: data.url,
    transport: data.transport,
    headers: Object.fromEntries(data.headers.map((h) => [h.name, h.value])),
  });
  await auditChange(ctx.db, ctx, {
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
  if (!(await readServer(ctx.db, ctx.tenantId, id))) throw serverNotFound();
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
      toolsCount: r.toolsCount,
    })),
  };
}

/** Removes health history older than the retention period; returns how many rows went. */
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

function toCheckDto(result: ProbeResult, at: Date): ProbeResultDto {
  return {
    status: result.status,
    latencyMs: result.latencyMs,
    error: result.error,
    checkedAt: at.toISOString(),
    serverInfo: result.serverInfo,
    tools: result.tools,
  };
}
