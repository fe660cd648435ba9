import type { ServerListQuery, ServerSummary } from "@switchboard/shared";
import { LRUCache } from "lru-cache";
import type { ListRow, StampedRow } from "./repo";

/** Reads a page, each row in full unless its stamp is among `known`. */
export type ReadStampedPage = (known: readonly string[]) => Promise<StampedRow[]>;

export interface ServerSummaries {
  /** The page's summaries: those of rows unchanged since the same page was last read are reused. */
  page(
    tenantId: string,
    query: ServerListQuery,
    read: ReadStampedPage,
    summarize: (row: ListRow) => ServerSummary,
  ): Promise<ServerSummary[]>;
}

/** Frozen through and through: a summary is shared by every answer that lists it. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Remembers the summaries of the pages read last, each under the stamp of the row version it was
 * made from (see repo's pageJsonSelect), so that reading a page again builds, decodes and
 * summarizes only the rows written since: on a fleet checked every minute most of a page has not
 * changed since the dashboard asked a moment ago. A stamp changes with every write, by any
 * instance, so nothing is ever served stale and no event needs hearing (a transaction id is only
 * used again after a database is restored to an earlier point: restart Switchboard after one).
 * `maxRows` bounds the summaries kept over all pages.
 */
export function createServerSummaries({ maxRows = 10_000 }: { maxRows?: number } = {}): ServerSummaries {
  const pages = new LRUCache<string, Map<string, ServerSummary>>({
    maxSize: maxRows,
    sizeCalculation: (page) => Math.max(1, page.size),
  });
  return {
    async page(tenantId, query, read, summarize) {
      const key = JSON.stringify([tenantId, query]);
      // Held by this request from here on, whatever a request beside it does to the cache.
      const held = pages.get(key) ?? new Map<string, ServerSummary>();
      const rows = await read([...held.keys()]);
      const page = new Map<string, ServerSummary>();
      for (const { stamp, row } of rows) {
        const summary = row ? deepFreeze(summarize(row)) : held.get(stamp);
        // The database leaves out only the rows whose stamps it was sent, all of them held.
        if (!summary) throw new Error(`The list left out a row it was not sent (${stamp})`);
        page.set(stamp, summary);
      }
      pages.set(key, page);
      return [...page.values()];
    },
  };
}
