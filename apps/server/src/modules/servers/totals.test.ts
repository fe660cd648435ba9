import type { ServerEvent, ServerListQuery } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { createMemoryBus } from "../../lib/bus";
import { createServerTotals, type FilteredFields, filtersMoved } from "./totals";

const query = (filters: Partial<ServerListQuery> = {}): ServerListQuery => ({
  page: 1,
  pageSize: 50,
  sort: "name",
  ...filters,
});
const serverId = "00000000-0000-4000-8000-000000000001";
const health = (status: "healthy" | "unhealthy", previousStatus: "healthy" | "unknown"): ServerEvent => ({
  type: "health.changed",
  serverId,
  status,
  previousStatus,
  latencyMs: 12,
  error: null,
  checkedAt: new Date(0).toISOString(),
});

/** A count that says how often it ran and answers what `value` holds at the time. */
function counter(initial: number) {
  const c = {
    value: initial,
    calls: 0,
    run: async () => {
      c.calls++;
      return c.value;
    },
  };
  return c;
}

describe("list totals", () => {
  let now = 1000;
  const setup = (ttlMs = 5000) => {
    const events = createMemoryBus();
    const totals = createServerTotals({ bus: events, ttlMs, now: () => now });
    return { events, totals };
  };

  it("counts once for the requests that ask at the same moment, and reuses it until its time is up", async () => {
    now = 1000;
    const { totals } = setup();
    const count = counter(7);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => totals.total("t1", query(), count.run)),
    );
    expect(answers).toEqual(Array(20).fill(7));
    expect(count.calls).toBe(1);

    count.value = 8;
    now = 5999;
    expect(await totals.total("t1", query({ page: 3, sort: "-updatedAt" }), count.run)).toBe(7);
    expect(count.calls).toBe(1);
    now = 6001;
    expect(await totals.total("t1", query(), count.run)).toBe(8);
    expect(count.calls).toBe(2);
  });

  it("keeps each tenant's and each filter's total apart", async () => {
    now = 1000;
    const { totals } = setup();
    const a = counter(1);
    const b = counter(2);
    const c = counter(3);
    expect(await totals.total("t1", query(), a.run)).toBe(1);
    expect(await totals.total("t2", query(), b.run)).toBe(2);
    expect(await totals.total("t1", query({ status: "healthy" }), c.run)).toBe(3);
    expect(await totals.total("t1", query({ status: "healthy", tag: "prod" }), c.run)).toBe(3);
    expect(c.calls).toBe(2);
  });

  it("counts afresh after a change to the tenant's servers is published, and only that tenant's", async () => {
    now = 1000;
    const { events, totals } = setup();
    const mine = counter(5);
    const theirs = counter(9);
    await totals.total("t1", query(), mine.run);
    await totals.total("t2", query(), theirs.run);

    mine.value = 6;
    await events.publish({ type: "public", tenantId: "t1", event: { type: "server.deleted", serverId } });
    expect(await totals.total("t1", query(), mine.run)).toBe(6);
    expect(await totals.total("t2", query(), theirs.run)).toBe(9);
    expect([mine.calls, theirs.calls]).toEqual([2, 1]);
  });

  it("ignores a health check that kept its status, and counts afresh when a status changes", async () => {
    now = 1000;
    const { events, totals } = setup();
    const healthy = counter(4);
    await totals.total("t1", query({ status: "healthy" }), healthy.run);

    await events.publish({
      type: "public",
      tenantId: "t1",
      event: { ...health("healthy", "healthy") } as ServerEvent,
    });
    expect(await totals.total("t1", query({ status: "healthy" }), healthy.run)).toBe(4);
    expect(healthy.calls).toBe(1);

    const all = counter(10);
    const drifted = counter(1);
    await totals.total("t1", query(), all.run);
    await totals.total("t1", query({ drifted: true }), drifted.run);
    healthy.value = 3;
    await events.publish({ type: "public", tenantId: "t1", event: health("unhealthy", "healthy") });
    expect(await totals.total("t1", query({ status: "healthy" }), healthy.run)).toBe(3);
    expect(healthy.calls).toBe(2);
    // A status moves no count that does not filter by status (or by drift: the same check may
    // have found the tools back as approved).
    expect(await totals.total("t1", query(), all.run)).toBe(10);
    expect(all.calls).toBe(1);
    await totals.total("t1", query({ drifted: true }), drifted.run);
    expect(drifted.calls).toBe(2);
  });

  it("retires only the counts that filter by what an edit moved, and all of them when it does not say", async () => {
    now = 1000;
    const { events, totals } = setup();
    const byTag = counter(2);
    const bySearch = counter(3);
    const all = counter(9);
    const ask = () =>
      Promise.all([
        totals.total("t1", query({ tag: "red" }), byTag.run),
        totals.total("t1", query({ q: "red", tag: undefined }), bySearch.run),
        totals.total("t1", query(), all.run),
      ]);
    await ask();
    const server = {} as Extract<ServerEvent, { type: "server.updated" }>["server"];
    const updated = { type: "server.updated", server } as const;

    await events.publish({ type: "public", tenantId: "t1", event: updated, moved: ["q"] });
    await ask();
    expect([byTag.calls, bySearch.calls, all.calls]).toEqual([1, 2, 1]);

    await events.publish({ type: "public", tenantId: "t1", event: updated, moved: ["tag", "q"] });
    await ask();
    expect([byTag.calls, bySearch.calls, all.calls]).toEqual([2, 3, 1]);

    await events.publish({ type: "public", tenantId: "t1", event: updated, moved: [] });
    await ask();
    expect([byTag.calls, bySearch.calls, all.calls]).toEqual([2, 3, 1]);

    // No word of what moved (another module's edit, a server created): every count goes.
    await events.publish({ type: "public", tenantId: "t1", event: updated });
    await ask();
    expect([byTag.calls, bySearch.calls, all.calls]).toEqual([3, 4, 2]);
  });

  it("names the filters an edit moves", () => {
    const before: FilteredFields = {
      status: "healthy",
      transport: "streamable-http",
      enabled: true,
      toolsDrifted: false,
      tags: ["a", "b"],
      name: "one",
      displayName: "One",
      description: "",
    };
    expect(filtersMoved(before, { ...before })).toEqual([]);
    expect(filtersMoved(before, { ...before, tags: ["b", "a"] })).toEqual([]);
    expect(filtersMoved(before, { ...before, description: "new" })).toEqual(["q"]);
    expect(filtersMoved(before, { ...before, displayName: "Uno" })).toEqual(["q"]);
    expect(filtersMoved(before, { ...before, tags: ["a"] })).toEqual(["tag", "q"]);
    expect(filtersMoved(before, { ...before, enabled: false, transport: "sse" })).toEqual([
      "transport",
      "enabled",
    ]);
    expect(filtersMoved(before, { ...before, status: "unknown", toolsDrifted: true })).toEqual([
      "status",
      "drifted",
    ]);
  });

  it("does not remember a count that failed", async () => {
    now = 1000;
    const { totals } = setup();
    let fail = true;
    const count = async () => {
      if (fail) throw new Error("database went away");
      return 11;
    };
    await expect(totals.total("t1", query(), count)).rejects.toThrow("database went away");
    fail = false;
    expect(await totals.total("t1", query(), count)).toBe(11);
  });

  it("counts every time when its time to live is 0, and stops listening when closed", async () => {
    const off = setup(0);
    const count = counter(1);
    await off.totals.total("t1", query(), count.run);
    await off.totals.total("t1", query(), count.run);
    expect(count.calls).toBe(2);

    now = 1000;
    const { events, totals } = setup();
    const c = counter(1);
    await totals.total("t1", query(), c.run);
    totals.close();
    await events.publish({ type: "public", tenantId: "t1", event: { type: "server.deleted", serverId } });
    expect(await totals.total("t1", query(), c.run)).toBe(1);
    expect(c.calls).toBe(1);
  });
});
