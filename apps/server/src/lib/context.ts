import type { Role } from "@switchboard/shared";
import type { FastifyBaseLogger } from "fastify";
import type { Db } from "../db/client";
import type { EventBus } from "../modules/events/bus";
import type { Prober } from "../modules/health/probe";
import type { ServerTotals } from "../modules/servers/totals";
import type { Clock } from "./clock";
import type { SecretBox } from "./secrets";

/** Who is acting: a signed-in user, an API key, or Switchboard itself. */
export type Actor =
  | { type: "user"; userId: string }
  | { type: "api_key"; keyId: string; serverId: string }
  | { type: "system"; name: string };

/** Where a request came from, for the audit trail. */
export interface Origin {
  correlationId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** The effects a service reaches through its context, so tests can substitute them. */
export interface ServiceDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
  events: EventBus;
  probe: Prober;
  /** Throws when a URL must not be registered (private targets when they are not allowed). */
  guardTarget: (url: string) => Promise<void>;
  /** List totals, remembered until a change is published (LIST_TOTALS_CACHE_SECONDS at most). */
  serverTotals: ServerTotals;
}

/** What every service verb receives: the tenant it acts in, who acts, and its effects. */
export interface ServiceContext extends Origin, ServiceDeps {
  tenantId: string;
  actor: Actor;
  /** The member's role; null for an API key, which acts only for its own server. */
  role: Role | null;
  log: FastifyBaseLogger;
}

export const actorId = (actor: Actor): string =>
  actor.type === "user" ? actor.userId : actor.type === "api_key" ? actor.keyId : actor.name;
