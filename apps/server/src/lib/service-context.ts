import type { FastifyRequest } from "fastify";
import type { CoreDeps, Origin, ServiceContext } from "./context";

export const originOf = (request: FastifyRequest): Origin => ({
  correlationId: request.id,
  ip: request.ip,
  userAgent: request.headers["user-agent"]?.slice(0, 512) ?? null,
});

/** The context a service verb gets from an authenticated request, with the module's effects. */
export function serviceContext<D extends CoreDeps>(request: FastifyRequest, deps: D): ServiceContext & D {
  const p = request.principal;
  if (!p) throw new Error("serviceContext called on a route without a principal");
  return {
    ...deps,
    ...originOf(request),
    tenantId: p.tenantId,
    actor: p.actor,
    role: p.role,
    log: request.log,
  };
}
