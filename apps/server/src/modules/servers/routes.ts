import {
  BulkServersInput,
  BulkServersResult,
  CreateServerInput,
  FleetOverview,
  MANAGER_ROLES,
  Problem,
  Server,
  ServerIdParams,
  ServerListQuery,
  ServerPage,
  UpdateServerInput,
} from "@switchboard/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { CoreDeps } from "../../lib/context";
import { AppError } from "../../lib/errors";
import { serviceContext } from "../../lib/service-context";
import { bulkServers } from "./bulk";
import {
  createServer,
  deleteServer,
  getFleetOverview,
  getServer,
  listServers,
  type ServerDeps,
  updateServer,
} from "./service";

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };
const IfMatch = z.object({ "if-match": z.string().optional() });

/** `If-Match: 3`, `"3"` or `W/"3"` → 3; absent → undefined. */
function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value.trim());
  if (!m?.[1]) {
    throw new AppError("VALIDATION", "If-Match must be the server's version, e.g. If-Match: 3", [
      { path: "headers.if-match", message: "must be a version number" },
    ]);
  }
  return Number(m[1]);
}

const etag = (server: Server) => `"${server.version}"`;

export const serverRoutes: FastifyPluginAsyncZod<CoreDeps & ServerDeps> = async (app, deps) => {
  app.get(
    "/servers",
    {
      schema: {
        tags: ["servers"],
        summary: "A page of the organization's MCP servers, sorted, filtered and searched",
        querystring: ServerListQuery,
        response: { 200: ServerPage, ...errors },
      },
    },
    async (request) => listServers({ ctx: serviceContext(request, deps), input: request.query }),
  );

  app.get(
    "/servers/overview",
    {
      schema: {
        tags: ["servers"],
        summary: "The organization's servers counted by health, and how far their checks run behind",
        response: { 200: FleetOverview, ...errors },
      },
    },
    async (request) => getFleetOverview({ ctx: serviceContext(request, deps) }),
  );

  app.post(
    "/servers",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["servers"],
        summary: "Register an MCP server (owners and admins)",
        body: CreateServerInput,
        response: { 201: Server, ...errors, 409: Problem },
      },
    },
    async (request, reply) => {
      const server = await createServer({ ctx: serviceContext(request, deps), input: request.body });
      return reply
        .code(201)
        .header("etag", etag(server))
        .header("location", `/mcp/servers/${server.id}`)
        .send(server);
    },
  );

  app.post(
    "/servers/bulk",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["servers"],
        summary:
          "Check, enable, disable, tag, untag or delete many servers at once, all or nothing (owners and admins); returns the servers changed",
        body: BulkServersInput,
        response: { 200: BulkServersResult, ...errors },
      },
    },
    async (request) => bulkServers({ ctx: serviceContext(request, deps), input: request.body }),
  );

  app.get(
    "/servers/:id",
    {
      schema: {
        tags: ["servers"],
        summary: "One MCP server",
        params: ServerIdParams,
        response: { 200: Server, ...errors },
      },
    },
    async (request, reply) => {
      const server = await getServer({ ctx: serviceContext(request, deps), id: request.params.id });
      return reply.header("etag", etag(server)).send(server);
    },
  );

  app.patch(
    "/servers/:id",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["servers"],
        summary: "Change an MCP server (owners and admins); send If-Match: <version> to refuse stale writes",
        params: ServerIdParams,
        headers: IfMatch,
        body: UpdateServerInput,
        response: { 200: Server, ...errors, 409: Problem, 412: Problem },
      },
    },
    async (request, reply) => {
      const server = await updateServer({
        ctx: serviceContext(request, deps),
        id: request.params.id,
        input: request.body,
        ifMatch: parseIfMatch(request.headers["if-match"]),
      });
      return reply.header("etag", etag(server)).send(server);
    },
  );

  app.delete(
    "/servers/:id",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["servers"],
        summary: "Delete an MCP server with its keys and health history (owners and admins)",
        params: ServerIdParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteServer({ ctx: serviceContext(request, deps), id: request.params.id });
      return reply.code(204).send(null);
    },
  );
};
