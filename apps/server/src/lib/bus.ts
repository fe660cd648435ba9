import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { ServerEvent, ServerListQuery } from "@switchboard/shared";
import { Redis } from "ioredis";
import type { Logger } from "./log";

/** A filter of the server list, whose counts are remembered apart (modules/servers/totals.ts). */
export type ListFilter = keyof Pick<
  ServerListQuery,
  "status" | "transport" | "enabled" | "drifted" | "tag" | "q"
>;

/**
 * What the parts of Switchboard tell each other, on one instance or (with Redis) on all of them.
 * Only a `public` event may reach a browser, and only the organization's own: the events socket
 * forwards nothing else.
 */
export type InternalEvent =
  /**
   * A change the organization's dashboards are told about (the `/mcp/events` wire format), with
   * the list filters whose counts it can move when the publisher knows them (never sent to a
   * browser).
   */
  | { type: "public"; tenantId: string; event: ServerEvent; moved?: ListFilter[] }
  /** A key stopped working: every instance forgets what it remembered of it. */
  | { type: "api_key.revoked"; tenantId: string; keyId: string }
  /** An organization is gone, with everything that was its own. */
  | { type: "tenant.deleted"; tenantId: string }
  /**
   * A session, a user's sessions or an organization's memberships changed (sign-out, revocation,
   * a new role, a removal): every instance forgets what it remembered of them, and the events
   * sockets concerned check their session again at once.
   */
  | { type: "sessions.changed"; token?: string; userId?: string; tenantId?: string }
  /** An organization was renamed (its slug may have changed): whatever knew it by slug forgets it. */
  | { type: "tenant.updated"; tenantId: string }
  /**
   * A JSON-RPC message the gateway answers on a 2024-11-05 SSE session's stream, which the instance
   * serving that stream writes in (the gateway's `sse-answers`).
   */
  | { type: "gateway.sse_answer"; tenantId: string; stream: string; message: unknown };

export type EventHandler = (event: InternalEvent) => void;

/** Fans internal events out to every subscriber, on this instance or (with Redis) on all of them. */
export interface EventBus {
  publish(event: InternalEvent): Promise<void>;
  subscribe(handler: EventHandler): () => void;
  close(): Promise<void>;
}

/** Tells the organization's dashboards; a lost event costs them a refresh, never the change. */
export async function publishPublic(
  bus: EventBus,
  log: Logger,
  tenantId: string,
  event: ServerEvent,
  moved?: ListFilter[],
): Promise<void> {
  await bus
    .publish({ type: "public", tenantId, event, ...(moved ? { moved } : {}) })
    .catch((err: unknown) => log.warn({ err, event: event.type }, "could not publish event"));
}

/** One process: events reach this instance's subscribers only. */
export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter().setMaxListeners(0);
  return {
    async publish(event) {
      emitter.emit("event", event);
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
 * Redis pub/sub: an event is delivered on this instance at once, then sent to the others through
 * one channel (each instance skips its own echo). When Redis cannot take an event, this instance
 * still has it; the others learn of the change when their caches run out.
 */
export function createRedisBus({ url, prefix, log }: { url: string; prefix: string; log: Logger }): EventBus {
  const channel = `${prefix}events`;
  const self = randomUUID();
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
      const { origin, event } = JSON.parse(message) as { origin: string; event: InternalEvent };
      if (origin !== self) void local.publish(event);
    } catch (err) {
      log.warn({ err }, "dropped a malformed event from redis");
    }
  });
  return {
    async publish(event) {
      await local.publish(event);
      try {
        await pub.publish(channel, JSON.stringify({ origin: self, event }));
      } catch (err) {
        log.warn({ err: (err as Error).message }, "redis publish failed; delivered on this instance only");
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
