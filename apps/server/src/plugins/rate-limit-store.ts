import type { Redis } from "ioredis";
import type { Logger } from "../lib/log";

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

/** What a memory store reports for a new key it has no room for: over any limit. */
export const STORE_FULL = Number.MAX_SAFE_INTEGER;

export interface MemoryStoreOptions {
  /** The most windows held at once; memory stays bounded by it. */
  maxKeys?: number;
  /** Called when a new key is refused for want of room (once per episode of being full). */
  onFull?: (maxKeys: number) => void;
}

/**
 * Fixed windows in this process's memory: the store for one instance, and the fallback for many.
 * Memory is bounded by `maxKeys`, and a live window is never forgotten to make room: when every
 * slot holds a live window, a new key counts as over its limit (a 429 until the oldest window
 * ends) rather than evicting someone's count, which would reset their limit.
 */
export function createMemoryStore({ maxKeys = 50_000, onFull }: MemoryStoreOptions = {}): RateLimitStore {
  // In order of creation; with one window length per key space that is also the order they end.
  const windows = new Map<string, { count: number; resetAt: number }>();
  let full = false;
  const sweep = (now: number) => {
    for (const [k, v] of windows) {
      if (v.resetAt > now) break;
      windows.delete(k);
    }
  };
  const store: RateLimitStore = {
    incr(key, callback, timeWindow) {
      const now = Date.now();
      let w = windows.get(key);
      if (w && w.resetAt <= now) {
        windows.delete(key);
        w = undefined;
      }
      if (!w) {
        if (windows.size >= maxKeys) sweep(now);
        if (windows.size >= maxKeys) {
          if (!full) onFull?.(maxKeys);
          full = true;
          const oldest = windows.values().next().value;
          return callback(null, { current: STORE_FULL, ttl: Math.max(1, (oldest?.resetAt ?? now) - now) });
        }
        full = false;
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
  fallback = createMemoryStore(),
}: {
  redis: Redis;
  prefix: string;
  log: Logger;
  /** Where counting goes on while Redis is away. */
  fallback?: RateLimitStore;
}): RateLimitStore {
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
