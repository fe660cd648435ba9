import {
  CheckResult,
  HealthHistory,
  HealthHistoryQuery,
  HealthSeries,
  HealthSeriesQuery,
  MANAGER_ROLES,
  PinToolsInput,
  ProbeInput,
  ProbeResult,
  Problem,
  Server,
  ServerIdParams,
  ServerUptimeList,
  ServerUptimeQuery,
  ToolDriftList,
  ToolDriftQuery,
} from "@switchboard/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { CoreDeps } from "../../lib/context";
import { serviceContext } from "../../lib/service-context";
import { getHealthSeries, getServerUptime } from "./series";
import {
  checkServerNow,
  type HealthDeps,
  listHealthHistory,
  listToolDrift,
  pinTools,
  probeDefinition,
  unpinTools,
} from "./service";

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

export const healthRoutes: FastifyPluginAsyncZod<CoreDeps & HealthDeps> = async (app, deps) => {
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

  app.get(
    "/servers/:id/health/series",
    {
      schema: {
        tags: ["health"],
        summary:
          "The server's checks over the last hour, day or week, in buckets of a minute, 10 minutes or an hour; oldest first, empty buckets left out",
        params: ServerIdParams,
        querystring: HealthSeriesQuery,
        response: { 200: HealthSeries, ...errors },
      },
    },
    async (request) =>
      getHealthSeries({ ctx: serviceContext(request, deps), id: request.params.id, input: request.query }),
  );

  // A static path: it wins over /servers/:id whatever the order they are registered in.
  app.get(
    "/servers/uptime",
    {
      schema: {
        tags: ["health"],
        summary:
          "Uptime over 24 hours and 7 days and hourly latency over 24 hours of the servers named (ids=a,b,c); ids not of the organization are left out",
        querystring: ServerUptimeQuery,
        response: { 200: ServerUptimeList, ...errors },
      },
    },
    async (request) => getServerUptime({ ctx: serviceContext(request, deps), input: request.query }),
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

  app.get(
    "/servers/:id/drift",
    {
      schema: {
        tags: ["health"],
        summary: "The server's tool changes, newest first, with each changed definition before and after",
        params: ServerIdParams,
        querystring: ToolDriftQuery,
        response: { 200: ToolDriftList, ...errors },
      },
    },
    async (request) =>
      listToolDrift({
        ctx: serviceContext(request, deps),
        id: request.params.id,
        limit: request.query.limit,
      }),
  );

  app.put(
    "/servers/:id/tools/pin",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["health"],
        summary:
          "Approve (pin) the server's current tools (owners and admins): the gateway serves only these until approved again",
        params: ServerIdParams,
        body: PinToolsInput.nullish(),
        response: { 200: Server, ...errors, 409: Problem, 412: Problem },
      },
    },
    async (request) =>
      pinTools({ ctx: serviceContext(request, deps), id: request.params.id, input: request.body ?? {} }),
  );

  app.delete(
    "/servers/:id/tools/pin",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["health"],
        summary: "Unpin the server's tools (owners and admins): the gateway serves whatever it offers",
        params: ServerIdParams,
        response: { 200: Server, ...errors },
      },
    },
    async (request) => unpinTools({ ctx: serviceContext(request, deps), id: request.params.id }),
  );
};
