import {
  ExportQuery,
  ImportBody,
  ImportQuery,
  ImportResult,
  MANAGER_ROLES,
  Problem,
  RegistryImportInput,
  RegistryImportResult,
  RegistrySettings,
  ServerIdParams,
  ServerJson,
  UpdateRegistrySettingsInput,
} from "@switchboard/shared";
import { type FastifyPluginAsyncZod, validatorCompiler } from "fastify-type-provider-zod";
import { z } from "zod";
import type { CoreDeps } from "../../lib/context";
import { serviceContext } from "../../lib/service-context";
import type { ServerDeps } from "../servers/service";
import { type ImportDeps, importFromRegistry, importServers } from "./import";
import {
  exportServer,
  exportServers,
  getRegistrySettings,
  type RegistryDeps,
  updateRegistrySettings,
} from "./service";

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

/** Imports take many documents: a larger body than the API's 1 MiB. */
export const IMPORT_BODY_LIMIT = 8 * 1024 * 1024;

/**
 * The organization's servers in the official registry format: server.json out (one, or all), in
 * (documents, lists, registry pages, or a registry's URL), and the organization's registry settings.
 */
export const registryRoutes: FastifyPluginAsyncZod<
  CoreDeps & ServerDeps & ImportDeps & RegistryDeps
> = async (app, deps) => {
  app.get(
    "/servers/export",
    {
      schema: {
        tags: ["registry"],
        summary: "Every server of the organization (or those the filters keep) as server.json documents",
        querystring: ExportQuery,
        response: { 200: z.array(ServerJson), ...errors },
      },
    },
    async (request, reply) => {
      const docs = await exportServers({ ctx: serviceContext(request, deps), input: request.query });
      return reply.header("content-disposition", 'attachment; filename="servers.json"').send(docs);
    },
  );

  app.get(
    "/servers/:id/server.json",
    {
      schema: {
        tags: ["registry"],
        summary: "One server as a server.json document (header names and descriptions, never values)",
        params: ServerIdParams,
        response: { 200: ServerJson, ...errors },
      },
    },
    async (request) => exportServer({ ctx: serviceContext(request, deps), id: request.params.id }),
  );

  app.post(
    "/servers/import",
    {
      config: { roles: MANAGER_ROLES },
      bodyLimit: IMPORT_BODY_LIMIT,
      // The service reads the body itself, so that a failure names the document and field it is in.
      validatorCompiler: (route) =>
        route.httpPart === "body"
          ? (data: unknown) => ({ value: data })
          : validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0]),
      schema: {
        tags: ["registry"],
        summary:
          "Import server.json documents: one, a list, a registry page, or { source, variables }; ?dryRun=true previews (owners and admins)",
        querystring: ImportQuery,
        body: ImportBody,
        response: { 200: ImportResult, ...errors, 413: Problem },
      },
    },
    async (request) =>
      importServers({ ctx: serviceContext(request, deps), body: request.body, dryRun: request.query.dryRun }),
  );

  app.post(
    "/servers/import-from-registry",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["registry"],
        summary:
          "Import the latest servers of a /v0.1 registry by its URL, bounded in pages, bytes and time; ?dryRun=true previews (owners and admins)",
        querystring: ImportQuery,
        body: RegistryImportInput,
        response: { 200: RegistryImportResult, ...errors, 502: Problem, 504: Problem },
      },
    },
    async (request) =>
      importFromRegistry({
        ctx: serviceContext(request, deps),
        input: request.body,
        dryRun: request.query.dryRun,
      }),
  );

  app.get(
    "/registry/settings",
    {
      schema: {
        tags: ["registry"],
        summary:
          "The organization's registry namespace, whether its catalog is public, and the catalog's URL",
        response: { 200: RegistrySettings, ...errors },
      },
    },
    async (request) => getRegistrySettings({ ctx: serviceContext(request, deps) }),
  );

  app.patch(
    "/registry/settings",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["registry"],
        summary: "Change the registry namespace or make the catalog public (owners and admins; audited)",
        body: UpdateRegistrySettingsInput,
        response: { 200: RegistrySettings, ...errors },
      },
    },
    async (request) => updateRegistrySettings({ ctx: serviceContext(request, deps), input: request.body }),
  );
};
