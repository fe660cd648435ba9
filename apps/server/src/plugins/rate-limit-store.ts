import type { FastifyBaseLogger } from "fastify";
import type { Redis } from "ioredis";

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** The store interface @fastify/rate-limit calls. */
export interface RateLimitStore {
  incr(key: string, callback: IncrCallback, timeWindow: number, max: number): void;
  child(): RateLimitStore;
}

// One atomic step: count the hit, start the window on the first, report the window's time left.
const INCR = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {current, ttl}
`;

/** Fixed windows in this process's memory: the store for one instance, and the fallback for many. */
export function createMemoryStore(maxKeys = 50_000): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const store: RateLimitStore = {
    incr(key, callback, timeWindow) {
      const now = Date.now();
      let w = windows.get(key);
      if (!w || w.resetAt <= now) {
        if (windows.size >= maxKeys) {
          for (const [k, v] of windows) if (v.resetAt <= now) windows.delete(k);
          if (windows.size >= maxKeys) windows.delete(windows.keys().next().value as string);
        }
        w = { count: 0, resetAt: now + timeWindow };
        windows.set(key, w);
      }
      w.count++;
      callback(null, { current: w.count, ttl: w.resetAt - now });
    },
    child: () => store,
  };
  return store;
}

/**
 * Counts in Redis so that limits hold across instances. When Redis cannot answer, counting goes
 * on in memory (limits then hold per instance) and a warning is logged; Redis is used again as
 * soon as it answers.
 */
export function createRedisStore({
  redis,
  prefix,
  log,
}: {
  redis: Redis;
  prefix: string;
  log: FastifyBaseLogger;
}): RateLimitStore {
  const fallback = createMemoryStore();
  let degradedSince = 0;
  const store: RateLimitStore = {
    incr(key, callback, timeWindow, max) {
      redis
        .eval(INCR, 1, `${prefix}ratelimit:${key}`, timeWindow)
        .then((result) => {
          if (degradedSince) {
            log.info("redis is back: rate limits are shared across instances again");
            degradedSince = 0;
          }
          const [current, ttl] = result as [number, number];
          callback(null, { current, ttl });
        })
        .catch((err: Error) => {
          if (!degradedSince) {
            log.warn({ err: err.message }, "redis unavailable: rate limiting in memory until it returns");
            degradedSince = Date.now();
          }
          fallback.incr(key, callback, timeWindow, max);
        });
    },
    child: () => store,
  };
  return store;
}
