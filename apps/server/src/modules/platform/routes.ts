import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { type Db, ping } from "../../db/client";
import { sendProblem } from "../../plugins/problem";

const Status = z.object({ status: z.literal("ok") });

/** Liveness and readiness for load balancers and orchestrators. */
export const platformRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get(
    "/healthz",
    { schema: { tags: ["platform"], summary: "The process is alive", response: { 200: Status } } },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    { schema: { tags: ["platform"], summary: "The database answers", response: { 200: Status } } },
    async (request, reply) => {
      try {
        await ping(db);
        return { status: "ok" as const };
      } catch (err) {
        request.log.warn({ err }, "readiness check: database unreachable");
        return sendProblem(request, reply, "UNAVAILABLE", "The database is not reachable");
      }
    },
  );
};
