import type { ServerEvent, ServerListQuery } from "@switchboard/shared";
import { LRUCache } from "lru-cache";
import type { EventBus } from "../../lib/bus";

/** Counts the tenant's servers that match a list's filters (sort and page play no part). */
export type CountServers = () => Promise<number>;

export interface ServerTotals {
  /** The list's total: remembered, shared with the requests asking for it at the same moment, or counted. */
  total(tenantId: string, query: ServerListQuery, count: CountServers): Promise<number>;
  close(): void;
}

/** Whether an event can move a count: anything but a health check that kept its status. */
const movesCounts = (event: ServerEvent) =>
  event.type !== "health.changed" || event.status !== event.previousStatus;

/**
 * Remembers list totals for a few seconds, so that a hundred people on the same view cost one
 * count, not a hundred. Every change that can move a count (a server created, edited or deleted,
 * a health status that changes) is published on the event bus, by every instance when it runs
 * on Redis; hearing one starts a new generation of the tenant's totals, so the next list counts
 * afresh. `ttlMs` bounds what a missed event can cost; 0 turns the cache off.
 */
export function createServerTotals({
  bus,
  ttlMs,
  max = 10_000,
  now,
}: {
  bus: EventBus;
  ttlMs: number;
  max?: number;
  /** The clock the time to live is measured on (tests turn it by hand). */
  now?: () => number;
}): ServerTotals {
  if (ttlMs <= 0) return { total: (_tenantId, _query, count) => count(), close: () => {} };

  const generations = new LRUCache<string, number>({ max });
  const totals = new LRUCache<string, number, CountServers>({
    max,
    ttl: ttlMs,
    ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
    // A count that fails is not remembered; the next request counts again.
    fetchMethod: (_key, _stale, { context }) => context(),
  });
  const unsubscribe = bus.subscribe((e) => {
    if (e.type === "public" && movesCounts(e.event))
      generations.set(e.tenantId, (generations.get(e.tenantId) ?? 0) + 1);
  });

  return {
    async total(tenantId, { status, transport, enabled, drifted, tag, q }, count) {
      // The generation is read before counting: a count that overlaps a change is filed under
      // the generation it started in, which that change has already retired.
      const key = JSON.stringify([
        tenantId,
        generations.get(tenantId) ?? 0,
        status,
        transport,
        enabled,
        drifted,
        tag,
        q,
      ]);
      const n = await totals.fetch(key, { context: count });
      return n ?? count();
    },
    close: unsubscribe,
  };
}
