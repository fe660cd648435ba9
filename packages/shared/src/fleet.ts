import { z } from "zod";
import { PAGE_SIZE_MAX } from "./pagination";
import { MAX_TAGS, Tag } from "./servers";
import { uuidParam } from "./text";

/** The most servers one request may ask about or act on: a page of the list at its largest. */
export const FLEET_BATCH_MAX = PAGE_SIZE_MAX;

const serverId = uuidParam("must be a server id (UUID)");

/** `ids=a,b,c`: the servers a page shows, in a query string. */
const IdList = z
  .string()
  .transform((s) => s.split(",").filter((id) => id !== ""))
  .pipe(
    z
      .array(serverId)
      .min(1, "must name at least one server")
      .max(FLEET_BATCH_MAX, `must name at most ${FLEET_BATCH_MAX} servers`),
  );

export const ServerUptimeQuery = z.strictObject({ ids: IdList });

/**
 * A server's availability: the share of checks in which it answered (healthy, degraded or asking
 * for OAuth; only `unhealthy` counts as down), over the last 24 hours and 7 days, and its mean
 * latency hour by hour over the last 24 hours. Null where no check ran in the window or hour.
 */
export const ServerUptime = z.object({
  serverId: z.uuid(),
  uptime24h: z.number().min(0).max(1).nullable(),
  uptime7d: z.number().min(0).max(1).nullable(),
  checks24h: z.number().int(),
  checks7d: z.number().int(),
  /** 24 values, oldest hour first, the current hour last. */
  latency24h: z.array(z.number().int().nullable()),
});
export type ServerUptime = z.infer<typeof ServerUptime>;

/** One item per server asked for that exists in the organization; unknown ids are left out. */
export const ServerUptimeList = z.object({ items: z.array(ServerUptime) });
export type ServerUptimeList = z.infer<typeof ServerUptimeList>;

export const HEALTH_RANGES = ["1h", "24h", "7d"] as const;
export const HealthRange = z.enum(HEALTH_RANGES);
export type HealthRange = z.infer<typeof HealthRange>;

/** How wide one bucket of a range's series is. */
export const HEALTH_RANGE_STEP_SECONDS: Record<HealthRange, number> = { "1h": 60, "24h": 600, "7d": 3600 };
export const HEALTH_RANGE_SECONDS: Record<HealthRange, number> = { "1h": 3600, "24h": 86_400, "7d": 604_800 };

export const HealthSeriesQuery = z.strictObject({ range: HealthRange.default("24h") });

/** The checks that fell in one bucket: how many ended in each state, and the latency of those that answered. */
export const HealthBucket = z.object({
  /** The bucket's start. */
  at: z.iso.datetime(),
  checks: z.number().int(),
  healthy: z.number().int(),
  degraded: z.number().int(),
  unhealthy: z.number().int(),
  authRequired: z.number().int(),
  /** Mean and highest latency of the checks that got an answer; null when none did. */
  avgLatencyMs: z.number().int().nullable(),
  maxLatencyMs: z.number().int().nullable(),
});
export type HealthBucket = z.infer<typeof HealthBucket>;

/** A server's health over a range, oldest bucket first; buckets without checks are left out. */
export const HealthSeries = z.object({
  range: HealthRange,
  stepSeconds: z.number().int(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  buckets: z.array(HealthBucket),
});
export type HealthSeries = z.infer<typeof HealthSeries>;

/**
 * What one request can do to many servers. `check` schedules the enabled ones for the
 * scheduler's next round (their results arrive as live events); `tag` and `untag` add or remove
 * the `tags` given; the rest do what their names say. Each server changed gets its own audit row.
 */
export const BULK_ACTIONS = ["check", "enable", "disable", "tag", "untag", "delete"] as const;
export const BulkAction = z.enum(BULK_ACTIONS);
export type BulkAction = z.infer<typeof BulkAction>;

export const BulkServersInput = z
  .strictObject({
    action: BulkAction,
    ids: z
      .array(serverId)
      .min(1, "must name at least one server")
      .max(FLEET_BATCH_MAX, `must name at most ${FLEET_BATCH_MAX} servers`)
      .refine((ids) => new Set(ids).size === ids.length, "must not name a server twice"),
    tags: z
      .array(Tag)
      .min(1, "must name at least one tag")
      .max(MAX_TAGS, `at most ${MAX_TAGS} tags`)
      .optional(),
  })
  .superRefine((input, ctx) => {
    const wantsTags = input.action === "tag" || input.action === "untag";
    if (wantsTags && !input.tags)
      ctx.addIssue({ code: "custom", path: ["tags"], message: `is required to ${input.action}` });
    if (!wantsTags && input.tags)
      ctx.addIssue({
        code: "custom",
        path: ["tags"],
        message: `is only for tag and untag, not ${input.action}`,
      });
  });
export type BulkServersInput = z.input<typeof BulkServersInput>;

/** The servers the action changed (or, for `check`, scheduled); a server it left as it was is not listed. */
export const BulkServersResult = z.object({ action: BulkAction, ids: z.array(z.uuid()) });
export type BulkServersResult = z.infer<typeof BulkServersResult>;
