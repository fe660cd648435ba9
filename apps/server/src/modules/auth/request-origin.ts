import { AsyncLocalStorage } from "node:async_hooks";
import type { Origin } from "../../lib/context";

/** The request behind a Better-Auth call, so its hooks can audit who did what from where. */
export interface AuthRequest extends Origin {
  headers: Headers;
}

export const authRequestStore = new AsyncLocalStorage<AuthRequest>();
