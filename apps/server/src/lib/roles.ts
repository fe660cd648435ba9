import { MANAGER_ROLES } from "@switchboard/shared";
import type { ServiceContext } from "./context";
import { forbidden } from "./errors";

/** Throws 403 unless the actor is an owner or admin of the tenant. */
export function assertManager(ctx: ServiceContext, doing: string): void {
  if (!ctx.role || !MANAGER_ROLES.includes(ctx.role)) {
    const who = ctx.role ? `you are a ${ctx.role}` : "API keys cannot manage the organization";
    throw forbidden(`Only owners and admins of the organization can ${doing}; ${who}`);
  }
}
