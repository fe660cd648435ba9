import type { Queryable } from "../../db/client";
import { publishPublic } from "../../lib/bus";
import type { CoreDeps } from "../../lib/context";
import type { Logger } from "../../lib/log";
import { recordAudit } from "../audit/service";
import type { ProbeResult } from "./probe";
import * as repo from "./repo";
import { nextCheckAt } from "./schedule";
import { diffTools, hashToolSet } from "./tools";

/** What recording a check needs; the scheduler has it without any request. */
export interface RecordDeps extends CoreDeps {
  log: Logger;
  random?: () => number;
}

/** A probe's outcome for one server (as the check found it when it began), and when it came. */
export interface FinishedCheck {
  server: repo.CheckedServer;
  result: ProbeResult;
  checkedAt: Date;
}

function toHealthRecord(deps: RecordDeps, { server, result, checkedAt }: FinishedCheck): repo.HealthRecord {
  // Only a server that cannot be used counts as failing: one that asks for OAuth is up, not backed off.
  const failures = result.status === "unhealthy" ? server.consecutiveFailures + 1 : 0;
  const info = result.serverInfo;
  // A listing that failed half-way is not the server's tool set: taking it for one would record
  // every tool as removed, and the next good check every tool as added again.
  const listed = info !== null && !result.incomplete;
  return {
    serverId: server.id,
    tenantId: server.tenantId,
    checkedAt,
    seenLastCheckedAt: server.lastCheckedAt,
    status: result.status,
    latencyMs: result.latencyMs,
    error: result.error,
    protocolVersion: info?.protocolVersion ?? null,
    era: info?.era ?? null,
    toolsCount: listed ? result.tools.length : null,
    consecutiveFailures: failures,
    // Backs off after failures; a disabled server is not scheduled.
    nextCheckAt: server.enabled
      ? nextCheckAt(checkedAt, server.checkIntervalSeconds, failures, server.id, deps.random)
      : null,
    // A failed probe learns nothing new: keep what the last successful one found.
    learned: info
      ? {
          serverInfo: info,
          listing: listed
            ? {
                tools: result.tools,
                // Hashed already by a probe that ran in the probe thread.
                ...(result.hashes ?? hashToolSet(result.tools)),
                prompts: result.prompts,
                resources: result.resources,
              }
            : null,
        }
      : null,
    authChallenge: result.authChallenge,
  };
}

/** Tells the tenant's dashboards; a lost event only delays the change until their next fetch. */
export function publishHealthChanged(deps: RecordDeps, { server, result, checkedAt }: FinishedCheck) {
  return publishPublic(deps.bus, deps.log, server.tenantId, {
    type: "health.changed",
    serverId: server.id,
    status: result.status,
    previousStatus: server.status,
    latencyMs: result.latencyMs,
    error: result.error,
    checkedAt: checkedAt.toISOString(),
  });
}

/** Drift entries written, to be told to the dashboards once they are committed. */
type Drifted = { change: repo.ToolsChanged; drift: repo.DriftRow; diff: ReturnType<typeof diffTools> };

/**
 * Writes, for each server whose tools changed, a drift entry dated by the check that saw the
 * change (`checkedAt`: when its answer came, not when its batch was written) and its audit row
 * (actor: system). Call it with the queryable that recorded the checks.
 */
async function recordDrift(
  q: Queryable,
  changes: repo.ToolsChanged[],
  checkedAt: Map<string, Date>,
): Promise<Drifted[]> {
  const drifted: Drifted[] = [];
  for (const change of changes) {
    const diff = diffTools(change.before, change.after);
    const drift = await repo.insertDrift(q, {
      serverId: change.serverId,
      tenantId: change.tenantId,
      // Every server whose tools changed is one of the checks just recorded.
      detectedAt: checkedAt.get(change.serverId) as Date,
      fromHash: change.fromHash,
      toHash: change.toHash,
      ...diff,
    });
    await recordAudit(q, {
      tenantId: change.tenantId,
      actor: { type: "system", name: "health" },
      action: "server.tools_drift",
      target: { type: "server", id: change.serverId },
      changes: {
        driftId: drift.id,
        fromHash: change.fromHash,
        toHash: change.toHash,
        added: diff.added.map((t) => t.name),
        removed: diff.removed.map((t) => t.name),
        changed: diff.changed.map((t) => t.name),
        pinned: change.pinned,
      },
      origin: { correlationId: null, ip: null, userAgent: null },
    });
    drifted.push({ change, drift, diff });
  }
  return drifted;
}

function publishDrift(deps: RecordDeps, { change, drift, diff }: Drifted) {
  return publishPublic(deps.bus, deps.log, change.tenantId, {
    type: "tools.drifted",
    serverId: change.serverId,
    driftId: drift.id,
    detectedAt: drift.detectedAt.toISOString(),
    added: diff.added.map((t) => t.name),
    removed: diff.removed.map((t) => t.name),
    changed: diff.changed.map((t) => t.name),
    pinned: change.pinned,
  });
}

/**
 * Records checks: history rows, health columns and next checks in one statement, plus a drift
 * entry (audited) for each server whose tools changed; returns the ids recorded (a server deleted
 * while it was probed is skipped), those whose state the checks set (one overtaken by a newer
 * check is history only), and what to tell the dashboards once committed. A batch that listed
 * tools may hold a drift, even one its claims did not foresee (another check stored other tools
 * meanwhile): it is written in a transaction, so that an entry never goes missing.
 */
export async function recordChecks(
  deps: RecordDeps,
  checks: FinishedCheck[],
): Promise<{ recorded: Set<string>; current: Set<string>; publish: () => Promise<void> }> {
  // One row per server: should a server come twice, the check that answered last stands.
  const latest = [
    ...checks
      .reduce((byServer, c) => {
        const other = byServer.get(c.server.id);
        return other && other.checkedAt > c.checkedAt ? byServer : byServer.set(c.server.id, c);
      }, new Map<string, FinishedCheck>())
      .values(),
  ];
  const records = latest.map((c) => toHealthRecord(deps, c));
  const checkedAt = new Map(latest.map((c) => [c.server.id, c.checkedAt]));
  const write = async (q: Queryable) => {
    const { recorded, current, changed } = await repo.recordHealth(q, records);
    return { recorded, current, drifted: await recordDrift(q, changed, checkedAt) };
  };
  const { recorded, current, drifted } = records.some((r) => r.learned?.listing)
    ? await deps.db.transaction(write)
    : await write(deps.db);
  // Dashboards hear of the check that set a server's state, not of one it overtook.
  const told = new Set(current);
  return {
    recorded: new Set(recorded),
    current: told,
    publish: async () => {
      await Promise.all([
        ...latest.filter((c) => told.has(c.server.id)).map((c) => publishHealthChanged(deps, c)),
        ...drifted.map((d) => publishDrift(deps, d)),
      ]);
    },
  };
}
