import type { ServerListQuery } from "@switchboard/shared";
import { LRUCache } from "lru-cache";
import type { EventBus, InternalEvent, ListFilter } from "../../lib/bus";

/** Counts the tenant's servers that match a list's filters (sort and page play no part). */
export type CountServers = () => Promise<number>;

export interface ServerTotals {
  /** The list's total: remembered, shared with the requests asking for it at the same moment, or counted. */
  total(tenantId: string, query: ServerListQuery, count: CountServers): Promise<number>;
  close(): void;
}

const FILTERS = ["status", "transport", "enabled", "drifted", "tag", "q"] as const satisfies ListFilter[];

/** What a server is filtered by, as a row has it (servers/repo.ts), before and after a change. */
export interface FilteredFields {
  status: string;
  transport: string;
  enabled: boolean;
  toolsDrifted: boolean;
  tags: string[];
  name: string;
  displayName: string;
  description: string;
}

/**
 * The filters whose counts a change of one server can move. A search matches its name, display
 * name, description and tags; a tag, the set of its tags, whatever their order.
 */
export function filtersMoved(before: FilteredFields, after: FilteredFields): ListFilter[] {
  const tags = (f: FilteredFields) => [...f.tags].sort().join("\n");
  const moved: Record<ListFilter, boolean> = {
    status: before.status !== after.status,
    transport: before.transport !== after.transport,
    enabled: before.enabled !== after.enabled,
    drifted: before.toolsDrifted !== after.toolsDrifted,
    tag: tags(before) !== tags(after),
    q:
      tags(before) !== tags(after) ||
      before.name !== after.name ||
      before.displayName !== after.displayName ||
      before.description !== after.description,
  };
  return FILTERS.filter((f) => moved[f]);
}

/**
 * Which counts an event can move: `all` of them (a server created or deleted, or a change that
 * does not say what it moved), or only those that filter by the ones named.
 */
function moves(e: InternalEvent & { type: "public" }): "all" | readonly ListFilter[] {
  const { event } = e;
  switch (event.type) {
    case "health.changed":
      // The check that changed a status may also have found the tools back as approved.
      return event.status === event.previousStatus ? [] : ["status", "drifted"];
    case "tools.drifted":
      return ["drifted"];
    case "server.updated":
      return e.moved ?? "all";
    default:
      return "all";
  }
}

/** Per tenant, how often its counts were retired: all at once, and by filter. */
type Generations = { all: number } & Record<ListFilter, number>;
const fresh = (): Generations => ({ all: 0, status: 0, transport: 0, enabled: 0, drifted: 0, tag: 0, q: 0 });

/**
 * Remembers list totals for a few seconds, so that a hundred people on the same view cost one
 * count, not a hundred. Every change that can move a count (a server created, edited or deleted,
 * a health status that changes) is published on the event bus, by every instance when it runs
 * on Redis; hearing one starts a new generation of the tenant's totals, so the next list counts
 * afresh. A change retires only the counts it can move: editing a server's description leaves
 * the counts by tag alone, and a health check that changes a status only the counts by status
 * (and by drift).
 * `ttlMs` bounds what a missed event can cost; 0 turns the cache off.
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

  const generations = new LRUCache<string, Generations>({ max });
  const totals = new LRUCache<string, number, CountServers>({
    max,
    ttl: ttlMs,
    ...(now ? { perf: { now }, ttlResolution: 0 } : {}),
    // A count that fails is not remembered; the next request counts again.
    fetchMethod: (_key, _stale, { context }) => context(),
  });
  const unsubscribe = bus.subscribe((e) => {
    if (e.type !== "public") return;
    const moved = moves(e);
    if (moved !== "all" && moved.length === 0) return;
    const g = { ...(generations.get(e.tenantId) ?? fresh()) };
    if (moved === "all") g.all++;
    else for (const f of moved) g[f]++;
    generations.set(e.tenantId, g);
  });

  return {
    async total(tenantId, query, count) {
      // The generations are read before counting: a count that overlaps a change is filed under
      // the generations it started in, which that change has already retired. A filter not used
      // is null in the key, whatever its generation.
      const g = generations.get(tenantId) ?? fresh();
      const key = JSON.stringify([
        tenantId,
        g.all,
        ...FILTERS.map((f) => (query[f] === undefined ? null : [g[f], query[f]])),
      ]);
      const n = await totals.fetch(key, { context: count });
      return n ?? count();
    },
    close: unsubscribe,
  };
}
