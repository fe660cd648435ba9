import {
  type KeyUsageList,
  KeyUsageQuery,
  type ServerUsage,
  USAGE_MAX_POINTS,
  USAGE_STEPS,
  USAGE_TARGET_POINTS,
  type UsageFigures,
  UsageQuery,
} from "@switchboard/shared";
import type { Db } from "../../db/client";
import { createBatcher } from "../../lib/batcher";
import type { Clock } from "../../lib/clock";
import type { ServiceContext } from "../../lib/context";
import { AppError } from "../../lib/errors";
import type { Logger } from "../../lib/log";
import { requireServer } from "../servers/service";
import * as repo from "./repo";

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** One gateway call of a key the gateway resolved, as the usage rollup counts it. */
export interface GatewayCall {
  tenantId: string;
  serverId: string;
  keyId: string;
  /** False for a call that did not end well (refused, failed, or refused upstream). */
  ok: boolean;
  latencyMs: number;
  bytesIn: number;
  bytesOut: number;
}

export interface UsageRecorder {
  /** Counts a call in the minute it ends (by the runtime's clock); written with the next batch. */
  record(call: GatewayCall): void;
  /** Writes what is pending now (at shutdown, and in tests). */
  flush(): Promise<void>;
}

/** A recorder that counts nothing. */
export const noUsage: UsageRecorder = { record() {}, flush: async () => {} };

/** Calls of one batch summed per server, minute and key: the rows one statement adds. */
export function rollUp(calls: (GatewayCall & { minute: number })[]): repo.UsageRow[] {
  const rows = new Map<string, repo.UsageRow>();
  for (const c of calls) {
    const key = `${c.serverId} ${c.minute} ${c.keyId}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        tenantId: c.tenantId,
        serverId: c.serverId,
        keyId: c.keyId,
        minute: new Date(c.minute),
        calls: 0,
        errors: 0,
        latencyMsSum: 0,
        latencyMsMax: 0,
        bytesIn: 0,
        bytesOut: 0,
      };
      rows.set(key, row);
    }
    const latency = Math.max(0, Math.round(c.latencyMs));
    row.calls++;
    if (!c.ok) row.errors++;
    row.latencyMsSum += latency;
    row.latencyMsMax = Math.max(row.latencyMsMax, latency);
    row.bytesIn += c.bytesIn;
    row.bytesOut += c.bytesOut;
  }
  return [...rows.values()];
}

/**
 * The gateway's usage recorder: calls are gathered in memory and added to the per-minute rollup
 * in one statement per batch (at most `maxItems` calls, or `maxWaitMs` after the first), so that
 * a call costs the gateway no round trip. Usage is a measure, not a ledger: a batch that cannot be
 * written (the database away) is logged and dropped rather than held in memory without bound.
 */
export function createUsageRecorder({
  db,
  clock,
  log,
  maxItems = 2000,
  maxWaitMs = 1000,
}: {
  db: Db;
  clock: Clock;
  log: Logger;
  maxItems?: number;
  maxWaitMs?: number;
}): UsageRecorder {
  const batcher = createBatcher<GatewayCall & { minute: number }>({
    maxItems,
    maxWaitMs,
    flush: async (calls) => {
      try {
        await repo.addUsage(db, rollUp(calls));
      } catch (err) {
        log.warn({ err, calls: calls.length }, "could not record gateway usage; these calls are not counted");
      }
    },
  });
  return {
    record(call) {
      const minute = Math.floor(clock.now().getTime() / MINUTE_MS) * MINUTE_MS;
      void batcher.add({ ...call, minute });
    },
    flush: () => batcher.flush(),
  };
}

/** The step a range is shown in when none is asked for: the finest that keeps it near 300 points. */
export function defaultStep(rangeMs: number): number {
  return (
    USAGE_STEPS.find((step) => rangeMs / (step * 1000) <= USAGE_TARGET_POINTS) ?? USAGE_STEPS.at(-1) ?? 86_400
  );
}

const invalid = (path: string, message: string) =>
  new AppError("VALIDATION", `Invalid usage query: ${path} ${message}`, [{ path, message }]);

/** The range asked for, the last 24 hours by default, checked against its step. */
function rangeOf(now: Date, q: { from?: string; to?: string; step?: number }) {
  const to = q.to ? new Date(q.to) : now;
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
  if (from >= to) throw invalid("query.from", "must be before to");
  const step = q.step ?? defaultStep(to.getTime() - from.getTime());
  const stepMs = step * 1000;
  const start = Math.floor(from.getTime() / stepMs) * stepMs;
  const points = Math.ceil((to.getTime() - start) / stepMs);
  if (points > USAGE_MAX_POINTS) {
    throw invalid(
      "query.step",
      `gives ${points} points over this range, more than ${USAGE_MAX_POINTS}: ask for a larger step or a shorter range`,
    );
  }
  return { from: new Date(start), to, step, points };
}

function figures(t: repo.UsageTotals): UsageFigures {
  return {
    calls: t.calls,
    errors: t.errors,
    latencyMsAvg: t.calls ? Math.round((t.latencyMsSum / t.calls) * 10) / 10 : null,
    latencyMsMax: t.calls ? t.latencyMsMax : null,
    bytesIn: t.bytesIn,
    bytesOut: t.bytesOut,
  };
}

const EMPTY: repo.UsageTotals = {
  calls: 0,
  errors: 0,
  latencyMsSum: 0,
  latencyMsMax: null,
  bytesIn: 0,
  bytesOut: 0,
};

/**
 * A server's gateway calls over time, in buckets of `step` seconds (empty ones with zeros), for
 * all its keys or one. Any member.
 */
export async function getServerUsage({
  ctx,
  id,
  query,
}: {
  ctx: ServiceContext;
  id: string;
  query: UsageQuery;
}): Promise<ServerUsage> {
  const q = UsageQuery.parse(query);
  await requireServer(ctx, id);
  const { from, to, step, points } = rangeOf(ctx.clock.now(), q);
  const keyId = q.keyId ?? null;
  const rows = await repo.usageSeries(ctx.db, {
    tenantId: ctx.tenantId,
    serverId: id,
    keyId,
    from,
    to,
    stepSeconds: step,
  });
  const byBucket = new Map(rows.map((r) => [r.bucket * 1000, r]));
  const total = { ...EMPTY };
  for (const r of rows) {
    total.calls += r.calls;
    total.errors += r.errors;
    total.latencyMsSum += r.latencyMsSum;
    total.latencyMsMax = Math.max(total.latencyMsMax ?? 0, r.latencyMsMax ?? 0);
    total.bytesIn += r.bytesIn;
    total.bytesOut += r.bytesOut;
  }
  return {
    serverId: id,
    keyId,
    from: from.toISOString(),
    to: to.toISOString(),
    step,
    points: Array.from({ length: points }, (_, i) => {
      const at = from.getTime() + i * step * 1000;
      return { at: new Date(at).toISOString(), ...figures(byBucket.get(at) ?? EMPTY) };
    }),
    totals: figures(total),
  };
}

/** Each of a server's keys' gateway calls over a range (the last 24 h by default). Any member. */
export async function getKeyUsage({
  ctx,
  id,
  query,
}: {
  ctx: ServiceContext;
  id: string;
  query: KeyUsageQuery;
}): Promise<KeyUsageList> {
  const q = KeyUsageQuery.parse(query);
  await requireServer(ctx, id);
  const to = q.to ? new Date(q.to) : ctx.clock.now();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
  if (from >= to) throw invalid("query.from", "must be before to");
  const rows = await repo.usageByKey(ctx.db, { tenantId: ctx.tenantId, serverId: id, from, to });
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    items: rows
      .map((r) => ({ keyId: r.keyId, lastCallAt: r.lastMinute.toISOString(), ...figures(r) }))
      .sort((a, b) => b.calls - a.calls || a.keyId.localeCompare(b.keyId)),
  };
}

/** Removes usage older than the retention period; returns how many rows went. */
export function purgeUsage({ db, clock, retentionDays }: { db: Db; clock: Clock; retentionDays: number }) {
  return repo.deleteUsageBefore(db, new Date(clock.now().getTime() - retentionDays * DAY_MS));
}
