import { z } from "zod";
import { uuidParam } from "./text";

/** The steps a usage chart picks from when none is asked for, in seconds (1 min to 1 day). */
export const USAGE_STEPS = [60, 300, 900, 3600, 21_600, 86_400] as const;
/** The most buckets one usage answer holds. */
export const USAGE_MAX_POINTS = 1440;
/** The points a default step aims at: a day in 5-minute buckets. */
export const USAGE_TARGET_POINTS = 300;

const instant = z.iso.datetime({ offset: true });

/** `GET /mcp/servers/{id}/usage`: a range (the last 24 h by default), a step in seconds, one key or all. */
export const UsageQuery = z.strictObject({
  from: instant.optional(),
  to: instant.optional(),
  step: z.coerce
    .number()
    .int()
    .min(60, "must be at least 60 seconds")
    .max(86_400, "must be at most 86400 seconds (a day)")
    .refine((s) => s % 60 === 0, "must be a whole number of minutes, in seconds")
    .optional(),
  keyId: uuidParam("must be a key id (UUID)").optional(),
});
export type UsageQuery = z.input<typeof UsageQuery>;

/** `GET /mcp/servers/{id}/usage/keys`: a range, the last 24 h by default. */
export const KeyUsageQuery = UsageQuery.pick({ from: true, to: true });
export type KeyUsageQuery = z.input<typeof KeyUsageQuery>;

/** Gateway calls summed over a bucket of time, a key, or a whole range. */
export const UsageFigures = z.object({
  calls: z.number().int(),
  /** Calls that did not end well: refused by the gateway, or failed or refused by the server. */
  errors: z.number().int(),
  /** Mean time from a call's arrival to the end of its answer; null without calls. */
  latencyMsAvg: z.number().nullable(),
  latencyMsMax: z.number().int().nullable(),
  /** Request bytes received from clients. */
  bytesIn: z.number().int(),
  /** Answer bytes sent back to clients. */
  bytesOut: z.number().int(),
});
export type UsageFigures = z.infer<typeof UsageFigures>;

/** One bucket, starting at `at`; a bucket without calls is there with zeros. */
export const UsagePoint = UsageFigures.extend({ at: z.iso.datetime() });
export type UsagePoint = z.infer<typeof UsagePoint>;

export const ServerUsage = z.object({
  serverId: z.uuid(),
  /** The key the figures are limited to; null for every key of the server. */
  keyId: z.uuid().nullable(),
  /** The first bucket's start (`from` rounded down to the step) and the range's end. */
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  step: z.number().int(),
  points: z.array(UsagePoint),
  totals: UsageFigures,
});
export type ServerUsage = z.infer<typeof ServerUsage>;

export const KeyUsage = UsageFigures.extend({
  keyId: z.uuid(),
  /** The start of the last minute in which the key made a call. */
  lastCallAt: z.iso.datetime(),
});
export type KeyUsage = z.infer<typeof KeyUsage>;

/** Each key's calls in the range; a key without calls is not listed. */
export const KeyUsageList = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  items: z.array(KeyUsage),
});
export type KeyUsageList = z.infer<typeof KeyUsageList>;
