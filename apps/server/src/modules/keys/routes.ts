import {
  ApiKeyList,
  CreateApiKeyInput,
  CreatedApiKey,
  KeyIdParams,
  MANAGER_ROLES,
  Problem,
  ServerIdParams,
  WhoAmI,
} from "@switchboard/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { CoreDeps } from "../../lib/context";
import { serviceContext } from "../../lib/service-context";
import { createApiKey, listApiKeys, revokeApiKey } from "./service";

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

export const keyRoutes: FastifyPluginAsyncZod<CoreDeps> = async (app, deps) => {
  app.get(
    "/servers/:id/keys",
    {
      schema: {
        tags: ["keys"],
        summary: "The server's API keys (never the keys themselves)",
        params: ServerIdParams,
        response: { 200: ApiKeyList, ...errors },
      },
    },
    async (request) => listApiKeys({ ctx: serviceContext(request, deps), serverId: request.params.id }),
  );

  app.post(
    "/servers/:id/keys",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["keys"],
        summary: "Issue an API key (owners and admins); the answer is the only time the key is shown",
        params: ServerIdParams,
        body: CreateApiKeyInput,
        response: { 201: CreatedApiKey, ...errors },
      },
    },
    async (request, reply) => {
      const created = await createApiKey({
        ctx: serviceContext(request, deps),
        serverId: request.params.id,
        input: request.body,
      });
      return reply.code(201).header("cache-control", "no-store").send(created);
    },
  );

  app.delete(
    "/servers/:id/keys/:keyId",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["keys"],
        summary: "Revoke an API key at once (owners and admins); revoking twice is fine",
        params: KeyIdParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await revokeApiKey({
        ctx: serviceContext(request, deps),
        serverId: request.params.id,
        keyId: request.params.keyId,
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/whoami",
    {
      config: { auth: "api_key" },
      schema: {
        tags: ["keys"],
        summary: "Who an API key acts for; send it as Authorization: Bearer mcp_…",
        security: [{ apiKey: [] }],
        response: { 200: WhoAmI, 401: Problem },
      },
    },
    async (request) => {
      const actor = request.principal?.actor;
      if (actor?.type !== "api_key" || !request.principal)
        throw new Error("whoami without an API key principal");
      return { tenantId: request.principal.tenantId, serverId: actor.serverId, keyId: actor.keyId };
    },
  );
};
