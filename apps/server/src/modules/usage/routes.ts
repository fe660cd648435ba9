import {
  KeyUsageList,
  KeyUsageQuery,
  Problem,
  ServerIdParams,
  ServerUsage,
  UsageQuery,
} from "@switchboard/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { CoreDeps } from "../../lib/context";
import { serviceContext } from "../../lib/service-context";
import { getKeyUsage, getServerUsage } from "./service";

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

export const usageRoutes: FastifyPluginAsyncZod<CoreDeps> = async (app, deps) => {
  app.get(
    "/servers/:id/usage",
    {
      schema: {
        tags: ["usage"],
        summary:
          "The server's gateway calls over time, in buckets of `step` seconds (the last 24 h by default), for every key or one",
        params: ServerIdParams,
        querystring: UsageQuery,
        response: { 200: ServerUsage, ...errors },
      },
    },
    async (request) =>
      getServerUsage({ ctx: serviceContext(request, deps), id: request.params.id, query: request.query }),
  );

  app.get(
    "/servers/:id/usage/keys",
    {
      schema: {
        tags: ["usage"],
        summary: "Each of the server's API keys' gateway calls over a range (the last 24 h by default)",
        params: ServerIdParams,
        querystring: KeyUsageQuery,
        response: { 200: KeyUsageList, ...errors },
      },
    },
    async (request) =>
      getKeyUsage({ ctx: serviceContext(request, deps), id: request.params.id, query: request.query }),
  );
};
