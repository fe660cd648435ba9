import {
  HEALTH_RANGE_SECONDS,
  HEALTH_RANGE_STEP_SECONDS,
  type HealthBucket,
  type HealthSeries,
  HealthSeriesQuery,
  type ServerUptimeList,
  type ServerUptimeQuery,
} from "@switchboard/shared";
import type { z } from "zod";
import type { ServiceContext } from "../../lib/context";
import { requireServer } from "../servers/service";
import * as repo from "./repo";

const HOUR_MS = 3_600_000;
const HOURS_IN_DAY = 24;
const HOURS_IN_WEEK = 168;

/** The start of the step-wide bucket (aligned on the epoch) that holds `at`. */
const floorTo = (at: Date, stepMs: number) => new Date(at.getTime() - (at.getTime() % stepMs));

const share = (checks: number, unhealthy: number) => (checks === 0 ? null : (checks - unhealthy) / checks);

/**
 * Availability of the servers asked for that belong to the tenant (others are left out), from the
 * hourly rollup. The 24-hour figures cover the 24 hours of `latency24h` (the current hour and the
 * 23 before it), the 7-day ones the current hour and the 167 before it. Any member.
 */
export async function getServerUptime({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  /** As the route parsed it: `ids` split and checked to be UUIDs. */
  input: z.output<typeof ServerUptimeQuery>;
}): Promise<ServerUptimeList> {
  const { ids } = input;
  const now = ctx.clock.now();
  const hour = floorTo(now, HOUR_MS);
  const day = new Date(hour.getTime() - (HOURS_IN_DAY - 1) * HOUR_MS);
  const week = new Date(hour.getTime() - (HOURS_IN_WEEK - 1) * HOUR_MS);
  const rows = await repo.readUptime(ctx.db, ctx.tenantId, ids, { day, week, now });
  const byId = new Map(rows.map((r) => [r.serverId, r]));
  // In the order asked for, so that a page's rows and their uptime line up.
  const items = ids.flatMap((id) => {
    const r = byId.get(id);
    if (!r) return [];
    const latency24h = Array.from({ length: HOURS_IN_DAY }, (_, i) => {
      const start = (day.getTime() + i * HOUR_MS) / 1000;
      return r.latencyByHour?.[String(start)] ?? null;
    });
    return [
      {
        serverId: id,
        uptime24h: share(r.checksDay, r.unhealthyDay),
        uptime7d: share(r.checksWeek, r.unhealthyWeek),
        checks24h: r.checksDay,
        checks7d: r.checksWeek,
        latency24h,
      },
    ];
  });
  return { items };
}

/**
 * One of the tenant's servers' health over a range, in buckets of the range's step: the last hour
 * by minute and the last day by 10 minutes from the raw history, the last week by hour from the
 * rollup. Buckets are whole: the first is the one that holds `from`, so it may start before it.
 * Only buckets with checks, oldest first. 404 for another tenant's server. Any member.
 */
export async function getHealthSeries({
  ctx,
  id,
  input,
}: {
  ctx: ServiceContext;
  id: string;
  input: z.input<typeof HealthSeriesQuery>;
}): Promise<HealthSeries> {
  const { range } = HealthSeriesQuery.parse(input);
  await requireServer(ctx, id);
  const to = ctx.clock.now();
  const from = new Date(to.getTime() - HEALTH_RANGE_SECONDS[range] * 1000);
  const stepSeconds = HEALTH_RANGE_STEP_SECONDS[range];
  const window = { from: floorTo(from, stepSeconds * 1000), to };
  const rows =
    range === "7d"
      ? await repo.readHourBuckets(ctx.db, ctx.tenantId, id, window)
      : await repo.readHealthBuckets(ctx.db, ctx.tenantId, id, { ...window, stepSeconds });
  const buckets: HealthBucket[] = rows.map((r) => ({ ...r, at: r.at.toISOString() }));
  return { range, stepSeconds, from: from.toISOString(), to: to.toISOString(), buckets };
}
