import { API_KEY_PATTERN } from "@switchboard/shared";
import { LRUCache } from "lru-cache";
import type { Db } from "../../db/client";
import type { EventBus, InternalEvent } from "../../lib/bus";
import type { Clock } from "../../lib/clock";
import type { Logger } from "../../lib/log";
import type { KeyVerification, VerifiedKey } from "../../lib/principal";
import * as repo from "./repo";
import { hashApiKey } from "./service";

/** `last_used_at` is written at most this often per key, so a busy key does not hammer its row. */
export const LAST_USED_GAP_MS = 60_000;

/** What an instance remembers of a key hash: the key as stored (null: no such key), and its last touch. */
interface Entry {
  key: (VerifiedKey & { expiresAt: number | null; revoked: boolean }) | null;
  touchedAt: number;
}

export interface KeyVerifier {
  /** Who a presented key acts for, or why it opens nothing. */
  verify(token: string): Promise<KeyVerification>;
  close(): void;
}

/**
 * Verifies API keys by their SHA-256 hash (the key is never stored or compared in clear), with a
 * per-instance cache: a key used again within `cacheMs` costs no query, and its `last_used_at`
 * is written once a minute. A revocation, a deleted server or a deleted organization is heard on
 * the event bus (from every instance, when it runs on Redis) and evicts at once; `cacheMs` bounds
 * what a lost event can cost. A `cacheMs` of 0 looks every key up.
 */
export function createKeyVerifier({
  db,
  clock,
  bus,
  log,
  cacheMs,
  max = 10_000,
}: {
  db: Db;
  clock: Clock;
  bus: EventBus;
  log: Logger;
  cacheMs: number;
  max?: number;
}): KeyVerifier {
  // Measured on the injected clock, so that tests can run the cache out.
  const cache = new LRUCache<string, Entry>({
    max,
    ttl: Math.max(cacheMs, 1),
    ttlResolution: 0,
    perf: { now: () => clock.now().getTime() },
  });
  // Bumped by every eviction: a lookup that overlapped one is not remembered.
  let generation = 0;
  const evictWhere = (match: (key: VerifiedKey) => boolean) => {
    generation++;
    for (const [hash, entry] of cache.entries()) if (entry.key && match(entry.key)) cache.delete(hash);
  };
  const onEvent = (e: InternalEvent) => {
    if (e.type === "api_key.revoked") evictWhere((k) => k.keyId === e.keyId);
    else if (e.type === "tenant.deleted") evictWhere((k) => k.tenantId === e.tenantId);
    else if (e.type === "public" && e.event.type === "server.deleted") {
      const { serverId } = e.event;
      evictWhere((k) => k.serverId === serverId);
    }
  };
  const unsubscribe = bus.subscribe(onEvent);

  async function lookup(hash: string): Promise<Entry> {
    const cached = cacheMs > 0 ? cache.get(hash) : undefined;
    if (cached) return cached;
    const seen = generation;
    const row = await repo.findKeyByHash(db, hash);
    const entry: Entry = {
      key: row && {
        keyId: row.id,
        tenantId: row.tenantId,
        serverId: row.serverId,
        tools: row.tools,
        expiresAt: row.expiresAt?.getTime() ?? null,
        revoked: row.revokedAt !== null,
      },
      touchedAt: row?.lastUsedAt?.getTime() ?? 0,
    };
    if (cacheMs > 0 && seen === generation) cache.set(hash, entry);
    return entry;
  }

  return {
    async verify(token) {
      if (!API_KEY_PATTERN.test(token)) return { ok: false, reason: "malformed" };
      const entry = await lookup(hashApiKey(token));
      const { key } = entry;
      if (!key) return { ok: false, reason: "unknown" };
      if (key.revoked) return { ok: false, reason: "revoked" };
      const now = clock.now();
      if (key.expiresAt !== null && key.expiresAt <= now.getTime()) return { ok: false, reason: "expired" };
      if (now.getTime() - entry.touchedAt >= LAST_USED_GAP_MS) {
        entry.touchedAt = now.getTime();
        // Bookkeeping, not a reason to refuse: a failed write is retried with the next use a minute on.
        await repo
          .touchLastUsed(db, key.keyId, now, LAST_USED_GAP_MS)
          .catch((err: unknown) => log.warn({ err, keyId: key.keyId }, "could not record a key's last use"));
      }
      return {
        ok: true,
        key: { keyId: key.keyId, tenantId: key.tenantId, serverId: key.serverId, tools: key.tools },
      };
    },
    close: unsubscribe,
  };
}
