import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

const API_PREFIXES = ["/mcp", "/api/", "/docs", "/openapi.json", "/healthz", "/readyz"];

/**
 * Serves the dashboard's production build: hashed assets cached for a year, index.html never,
 * and index.html for any other GET that wants HTML (client-side routes such as /servers/:id).
 */
export const webPlugin = fp(async (app: FastifyInstance, { dist }: { dist: string }) => {
  if (!existsSync(join(dist, "index.html"))) {
    app.log.warn({ dist }, "no dashboard build found: run `npm run build:web` (npm start does)");
    app.decorate("spaFallback", null);
    return;
  }
  await app.register(fastifyStatic, {
    root: dist,
    wildcard: false,
    index: ["index.html"],
    setHeaders: (res, path) => {
      res.header(
        "cache-control",
        path.includes("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      );
    },
  });
  app.decorate("spaFallback", (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split("?")[0] ?? "/";
    const wantsHtml = (request.headers.accept ?? "").includes("text/html");
    if (request.method !== "GET" || !wantsHtml || API_PREFIXES.some((p) => path.startsWith(p))) return false;
    void reply.header("cache-control", "no-cache").sendFile("index.html");
    return true;
  });
});

declare module "fastify" {
  interface FastifyInstance {
    spaFallback: ((request: FastifyRequest, reply: FastifyReply) => boolean) | null;
  }
}
