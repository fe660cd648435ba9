import type { FastifyRequest } from "fastify";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { noMetrics } from "../lib/metrics";
import { createAuthLimiter, type RateLimits } from "./rate-limit";
import { createMemoryStore, type RateLimitStore } from "./rate-limit-store";

const WINDOW = 60_000;
const incr = (store: RateLimitStore, key: string, window = WINDOW) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) =>
    store.incr(key, (err, res) => (err || !res ? reject(err) : resolve(res)), window, 0),
  );

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("createMemoryStore", () => {
  it("keeps a live window whatever floods it: a limited key stays limited, new keys are refused", async () => {
    const onFull = vi.fn();
    const store = createMemoryStore({ maxKeys: 10, onFull });
    for (let i = 0; i < 5; i++) await incr(store, "victim");
    for (let i = 0; i < 1000; i++) {
      const res = await incr(store, `flood-${i}`);
      // Nine slots are left for the flood; the rest is refused, counted as over any limit.
      if (i < 9) expect(res.current).toBe(1);
      else expect(res.current).toBeGreaterThan(1_000_000);
    }
    expect(onFull).toHaveBeenCalledTimes(1);
    expect((await incr(store, "victim")).current).toBe(6);
    // A refused key hears when room comes: when the oldest window ends.
    const refused = await incr(store, "newcomer");
    expect(refused.ttl).toBeGreaterThan(0);
    expect(refused.ttl).toBeLessThanOrEqual(WINDOW);
  });

  it("makes room as windows end, and counts a key afresh in its next window", async () => {
    const store = createMemoryStore({ maxKeys: 3 });
    for (const k of ["a", "b", "c"]) await incr(store, k);
    expect((await incr(store, "d")).current).toBeGreaterThan(1_000_000);
    vi.advanceTimersByTime(WINDOW);
    expect(await incr(store, "d")).toEqual({ current: 1, ttl: WINDOW });
    expect(await incr(store, "a")).toEqual({ current: 1, ttl: WINDOW });
    expect((await incr(store, "a")).current).toBe(2);
  });
});

describe("createAuthLimiter", () => {
  const limits: RateLimits = { admin: 1000, member: 100, apiKey: 100, authPerIp: 3, authPerEmail: 2 };
  const from = (ip: string) => ({ ip }) as FastifyRequest;

  it("does not count an email when the address is already over its limit", async () => {
    const store = createMemoryStore({ maxKeys: 5 });
    const limiter = createAuthLimiter(store, limits, noMetrics);
    for (let i = 0; i < 3; i++) expect(await limiter.check(from("10.0.0.1"), `u${i}@example.com`)).toBeNull();
    // Over the limit: refused, and none of these emails takes a slot.
    for (let i = 3; i < 1000; i++)
      expect(await limiter.check(from("10.0.0.1"), `u${i}@example.com`)).not.toBeNull();
    // 10.0.0.1 and three emails hold four of five slots: one is left for the next address, and
    // only one.
    expect(await limiter.check(from("10.0.0.2"), undefined)).toBeNull();
    expect(await limiter.check(from("10.0.0.3"), undefined)).not.toBeNull();
  });

  it("keeps an email limited through a flood from many addresses, refusing new keys rather than forgetting it", async () => {
    const store = createMemoryStore({ maxKeys: 50 });
    const limiter = createAuthLimiter(store, limits, noMetrics);
    const victim = "victim@example.com";
    await limiter.check(from("10.1.0.1"), victim);
    await limiter.check(from("10.1.0.2"), victim);
    expect(await limiter.check(from("10.1.0.3"), victim)).toMatchObject({ retryAfterSeconds: 60 });
    for (let i = 0; i < 5000; i++)
      await limiter.check(from(`10.2.${i >> 8}.${i & 255}`), `x${i}@example.com`);
    expect(await limiter.check(from("10.1.0.4"), victim)).toMatchObject({
      retryAfterSeconds: expect.any(Number),
    });
    expect(await limiter.check(from("10.1.0.5"), "VICTIM@example.com ")).not.toBeNull();
  });
});
