import { EventEmitter } from "node:events";
import type { ServerEvent } from "@switchboard/shared";
import type { FastifyBaseLogger } from "fastify";
import { Redis } from "ioredis";

export type EventHandler = (tenantId: string, event: ServerEvent) => void;

/** Fans events out to every subscriber, on this instance or (with Redis) on all of them. */
export interface EventBus {
  publish(tenantId: string, event: ServerEvent): Promise<void>;
  subscribe(handler: EventHandler): () => void;
  close(): Promise<void>;
}

/** One process: events reach this instance's sockets only. */
export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter().setMaxListeners(0);
  return {
    async publish(tenantId, event) {
      emitter.emit("event", tenantId, event);
    },
    subscribe(handler) {
      emitter.on("event", handler);
      return () => emitter.off("event", handler);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/**
 * Redis pub/sub: every instance publishes to one channel and delivers what it hears, its own
 * events included. If Redis cannot take an event, it is still delivered on this instance.
 */
export function createRedisBus({
  url,
  prefix,
  log,
}: {
  url: string;
  prefix: string;
  log: FastifyBaseLogger;
}): EventBus {
  const channel = `${prefix}events`;
  const local = createMemoryBus();
  const options = { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false };
  const pub = new Redis(url, options);
  const sub = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
  for (const [name, conn] of [
    ["publisher", pub],
    ["subscriber", sub],
  ] as const) {
    conn.on("error", (err) =>
      log.warn({ err: err.message, connection: name }, "redis event bus unavailable"),
    );
  }
  sub.subscribe(channel).catch((err: Error) => log.warn({ err: err.message }, "redis subscribe failed"));
  sub.on("message", (_channel: string, message: string) => {
    try {
      const { tenantId, event } = JSON.parse(message) as { tenantId: string; event: ServerEvent };
      void local.publish(tenantId, event);
    } catch (err) {
      log.warn({ err }, "dropped a malformed event from redis");
    }
  });
  return {
    async publish(tenantId, event) {
      try {
        await pub.publish(channel, JSON.stringify({ tenantId, event }));
      } catch (err) {
        log.warn({ err: (err as Error).message }, "redis publish failed; delivering on this instance only");
        await local.publish(tenantId, event);
      }
    },
    subscribe: local.subscribe,
    async close() {
      await local.close();
      pub.disconnect();
      sub.disconnect();
    },
  };
}
