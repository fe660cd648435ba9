import {
  CheckResult,
  HealthHistory,
  HealthHistoryQuery,
  MANAGER_ROLES,
  ProbeInput,
  ProbeResult,
  Problem,
  ServerIdParams,
} from "@switchboard/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { ServiceDeps } from "../../lib/context";
import { serviceContext } from "../../plugins/auth";
import { checkServerNow, listHealthHistory, probeDefinition } from "./service";

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

export const healthRoutes: FastifyPluginAsyncZod<ServiceDeps> = async (app, deps) => {
  app.post(
    "/servers/:id/check",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["health"],
        summary: "Probe the server now over MCP; records and returns the result (owners and admins)",
        params: ServerIdParams,
        response: { 200: CheckResult, ...errors },
      },
    },
    async (request) => checkServerNow({ ctx: serviceContext(request, deps), id: request.params.id }),
  );

  app.get(
    "/servers/:id/health",
    {
      schema: {
        tags: ["health"],
        summary: "The server's health history, newest first",
        params: ServerIdParams,
        querystring: HealthHistoryQuery,
        response: { 200: HealthHistory, ...errors },
      },
    },
    async (request) =>
      listHealthHistory({
        ctx: serviceContext(request, deps),
        id: request.params.id,
        limit: request.query.limit,
      }),
  );

  app.post(
    "/probe",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["health"],
        summary: "Probe an unsaved server definition (Test connection); records nothing but the audit row",
        body: ProbeInput,
        response: { 200: ProbeResult, ...errors },
      },
    },
    async (request) => probeDefinition({ ctx: serviceContext(request, deps), input: request.body }),
  );
};
