import type { Role } from "@switchboard/shared";
import type { Db } from "../db/client";
import type { EventBus } from "./bus";
import type { Clock } from "./clock";
import type { Logger } from "./log";

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

/** The effects every verb may reach; a module adds its own (a prober, a secret box) beside them. */
export interface CoreDeps {
  db: Db;
  clock: Clock;
  bus: EventBus;
}

/** An open transaction's bookkeeping: what must wait until it commits (events, cache evictions). */
export interface TransactionScope {
  afterCommit: (() => Promise<void>)[];
}

/** What every service verb receives: the tenant it acts in, who acts, and its effects. */
export interface ServiceContext extends Origin, CoreDeps {
  tenantId: string;
  actor: Actor;
  /** The member's role; null for an API key, which acts only for its own server. */
  role: Role | null;
  log: Logger;
  /** Set inside `withTransaction`: `db` is then that transaction. */
  transaction?: TransactionScope;
}

export const actorId = (actor: Actor): string =>
  actor.type === "user" ? actor.userId : actor.type === "api_key" ? actor.keyId : actor.name;
