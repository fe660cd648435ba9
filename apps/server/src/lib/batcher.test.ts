import { describe, expect, it } from "vitest";
import { createBatcher } from "./batcher";

describe("createBatcher", () => {
  const recording = (maxItems: number, maxWaitMs: number) => {
    const batches: number[][] = [];
    const batcher = createBatcher<number>({
      maxItems,
      maxWaitMs,
      flush: async (items) => {
        batches.push(items);
      },
    });
    return { batches, batcher };
  };

  it("flushes as soon as a batch is full, and settles each add after its flush", async () => {
    const { batches, batcher } = recording(3, 60_000);
    const settled: number[] = [];
    const adds = [1, 2, 3, 4].map((n) => batcher.add(n).then(() => settled.push(n)));
    await Promise.all(adds.slice(0, 3));
    expect(batches).toEqual([[1, 2, 3]]);
    expect(settled).toEqual([1, 2, 3]);
  });

  it("flushes a partial batch once the first of it has waited maxWaitMs", async () => {
    const { batches, batcher } = recording(100, 30);
    const t0 = performance.now();
    await Promise.all([batcher.add(1), batcher.add(2)]);
    expect(batches).toEqual([[1, 2]]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    await batcher.add(3);
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it("rejects every add of a batch whose flush failed, and goes on with the next", async () => {
    let fail = true;
    const batcher = createBatcher<number>({
      maxItems: 2,
      maxWaitMs: 10,
      flush: async () => {
        if (fail) throw new Error("database away");
      },
    });
    const results = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    await expect(batcher.add(3)).resolves.toBeUndefined();
  });

  it("flushes what is pending at once on flush(), and waits for batches already under way", async () => {
    let release: () => void = () => {};
    const batches: number[][] = [];
    const batcher = createBatcher<number>({
      maxItems: 2,
      maxWaitMs: 60_000,
      flush: async (items) => {
        if (items[0] === 1) await new Promise<void>((done) => (release = done));
        batches.push(items);
      },
    });
    void batcher.add(1);
    void batcher.add(2); // full: its flush starts, and hangs until released
    void batcher.add(3); // pending, for a minute
    let flushed = false;
    const flushing = batcher.flush().then(() => (flushed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(batches).toEqual([[3]]);
    expect(flushed).toBe(false);
    release();
    await flushing;
    expect(batches).toEqual([[3], [1, 2]]);
    await batcher.flush(); // nothing pending, nothing under way
  });
});
