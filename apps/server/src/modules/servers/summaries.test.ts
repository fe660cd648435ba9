import { ServerListQuery, type ServerSummary } from "@switchboard/shared";
import { describe, expect, it, vi } from "vitest";
import type { ListRow, StampedRow } from "./repo";
import { createServerSummaries } from "./summaries";

const query = ServerListQuery.parse({});
const row = (name: string) => ({ name }) as unknown as ListRow;
const summarize = vi.fn((r: ListRow) => ({ name: r.name }) as unknown as ServerSummary);

/** A table of stamped rows, answering as the database does: null for a stamp it is sent. */
function table(stamps: Record<string, string>) {
  const sent: (readonly string[])[] = [];
  const read = async (known: readonly string[]): Promise<StampedRow[]> => {
    sent.push(known);
    return Object.entries(stamps).map(([name, stamp]) => ({
      stamp,
      row: known.includes(stamp) ? null : row(name),
    }));
  };
  return { read, sent };
}

describe("list summaries", () => {
  it("sends the stamps of the page read last and summarizes only the rows that changed", async () => {
    const summaries = createServerSummaries();
    const t = table({ a: "a:1", b: "b:1", c: "c:1" });
    summarize.mockClear();
    const first = await summaries.page("t1", query, t.read, summarize);
    expect(first.map((s) => s.name)).toEqual(["a", "b", "c"]);
    expect(summarize).toHaveBeenCalledTimes(3);

    summarize.mockClear();
    const t2 = table({ a: "a:1", b: "b:2", c: "c:1" });
    const second = await summaries.page("t1", query, t2.read, summarize);
    expect(t2.sent).toEqual([["a:1", "b:1", "c:1"]]);
    expect(summarize).toHaveBeenCalledTimes(1);
    expect(second.map((s) => s.name)).toEqual(["a", "b", "c"]);
    expect(second[0]).toBe(first[0]);
    expect(second[1]).not.toBe(first[1]);
    // Shared by every answer that lists it, so no one may change it.
    expect(() => {
      (second[0] as { name: string }).name = "changed";
    }).toThrow(TypeError);
  });

  it("keeps tenants and queries apart", async () => {
    const summaries = createServerSummaries();
    await summaries.page("t1", query, table({ a: "a:1" }).read, summarize);
    const otherTenant = table({ a: "a:1" });
    await summaries.page("t2", query, otherTenant.read, summarize);
    const otherQuery = table({ a: "a:1" });
    await summaries.page("t1", ServerListQuery.parse({ tag: "x" }), otherQuery.read, summarize);
    expect([otherTenant.sent, otherQuery.sent]).toEqual([[[]], [[]]]);
  });

  it("keeps at most maxRows summaries, forgetting the pages read longest ago", async () => {
    const summaries = createServerSummaries({ maxRows: 4 });
    const page = (tag: string) => ServerListQuery.parse({ tag });
    await summaries.page("t1", page("a"), table({ a: "a:1", b: "b:1" }).read, summarize);
    await summaries.page("t1", page("b"), table({ c: "c:1", d: "d:1" }).read, summarize);
    await summaries.page("t1", page("c"), table({ e: "e:1" }).read, summarize);
    const a = table({ a: "a:1", b: "b:1" });
    const b = table({ c: "c:1", d: "d:1" });
    await summaries.page("t1", page("b"), b.read, summarize);
    await summaries.page("t1", page("a"), a.read, summarize);
    expect(b.sent).toEqual([["c:1", "d:1"]]);
    expect(a.sent).toEqual([[]]);
  });
});
