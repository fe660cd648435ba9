import { AuditLogPage, AuditLogQuery, MANAGER_ROLES, Problem } from "@switchboard/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { ServiceDeps } from "../../lib/context";
import { serviceContext } from "../../plugins/auth";
import { listAuditLogs } from "./service";

export const auditRoutes: FastifyPluginAsyncZod<ServiceDeps> = async (app, deps) => {
  app.get(
    "/audit-logs",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["audit"],
        summary: "The organization's audit trail, newest first (owners and admins)",
        querystring: AuditLogQuery,
        response: { 200: AuditLogPage, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => listAuditLogs({ ctx: serviceContext(request, deps), input: request.query }),
  );
};
