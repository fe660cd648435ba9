import {
  CatalogParams,
  CatalogQuery,
  CatalogServerParams,
  CatalogVersionParams,
  CatalogVersionsQuery,
  Problem,
  ServerListJson,
  ServerResponseJson,
} from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { type CatalogDeps, catalogVersion, catalogVersions, listCatalog, openCatalog } from "./service";

const errors = { 400: Problem, 401: Problem, 404: Problem };

const bearerOf = (request: FastifyRequest) =>
  /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];

/**
 * `/registry/{orgSlug}/v0.1/…`: the organization's servers as a registry of the official `/v0.1`
 * API, so that registry clients (VS Code's MCP gallery among them) list and install them. Read by
 * the organization's members (session) and by any of its `mcp_` keys, or by anyone once the
 * organization makes its catalog public. Entries point at the gateway, never at the upstream URL.
 */
export const catalogRoutes: FastifyPluginAsyncZod<CatalogDeps> = async (app, deps) => {
  const open = (request: FastifyRequest, params: { orgSlug: string }) =>
    openCatalog({ deps, slug: params.orgSlug, headers: request.headers, bearer: bearerOf(request) });

  app.get(
    "/registry/:orgSlug/v0.1/servers",
    {
      schema: {
        tags: ["catalog"],
        summary: "The organization's servers, as the official registry's /v0.1/servers lists them",
        params: CatalogParams,
        querystring: CatalogQuery,
        response: { 200: ServerListJson, ...errors },
      },
    },
    async (request) => listCatalog({ deps, open: await open(request, request.params), query: request.query }),
  );

  app.get(
    "/registry/:orgSlug/v0.1/servers/:serverName/versions",
    {
      schema: {
        tags: ["catalog"],
        summary: "Every version of one server (URL-encoded name, e.g. com.acme%2Fweather)",
        params: CatalogServerParams,
        querystring: CatalogVersionsQuery,
        response: { 200: ServerListJson, ...errors },
      },
    },
    async (request) =>
      catalogVersions({
        deps,
        open: await open(request, request.params),
        serverName: request.params.serverName,
      }),
  );

  app.get(
    "/registry/:orgSlug/v0.1/servers/:serverName/versions/:version",
    {
      schema: {
        tags: ["catalog"],
        summary: "One version of one server; `latest` for its latest",
        params: CatalogVersionParams,
        querystring: CatalogVersionsQuery,
        response: { 200: ServerResponseJson, ...errors },
      },
    },
    async (request) =>
      catalogVersion({
        deps,
        open: await open(request, request.params),
        serverName: request.params.serverName,
        version: request.params.version,
      }),
  );
};
