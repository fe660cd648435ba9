import { Readable } from "node:stream";
import { AuditExportQuery, AuditLogPage, AuditLogQuery, MANAGER_ROLES, Problem } from "@switchboard/shared";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { CoreDeps } from "../../lib/context";
import { serviceContext } from "../../lib/service-context";
import { exportAuditLogs, listAuditLogs } from "./service";

const errors = { 400: Problem, 401: Problem, 403: Problem };

export const auditRoutes: FastifyPluginAsyncZod<CoreDeps> = async (app, deps) => {
  app.get(
    "/audit-logs",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["audit"],
        summary: "The organization's audit trail, newest first (owners and admins)",
        querystring: AuditLogQuery,
        response: { 200: AuditLogPage, ...errors },
      },
    },
    async (request) => listAuditLogs({ ctx: serviceContext(request, deps), input: request.query }),
  );

  app.get(
    "/audit/export",
    {
      config: { roles: MANAGER_ROLES },
      schema: {
        tags: ["audit"],
        summary:
          "Download every audit row the filters keep, newest first, as CSV or JSON lines (owners and admins)",
        description:
          "Takes the audit list's filters (no paging). CSV has a header row of the audit row's fields, " +
          "`changes` as JSON, and a leading `'` on any cell that starts with = + - @, a tab or a carriage " +
          "return; JSON lines has one audit row (as the list returns it) per line. Secrets are masked.",
        querystring: AuditExportQuery,
        response: {
          200: {
            description:
              "The file, as an attachment named switchboard-audit-<organization slug>-<date>.<format>",
            content: {
              "text/csv": { schema: z.string() },
              "application/x-ndjson": { schema: z.string() },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const file = await exportAuditLogs({ ctx: serviceContext(request, deps), input: request.query });
      return (
        reply
          .header("content-type", file.contentType)
          .header("content-disposition", `attachment; filename="${file.filename}"`)
          .header("cache-control", "no-store")
          // The schema says the body is a string (for the OpenAPI document); it is written as a stream.
          .send(Readable.from(file.body) as unknown as string)
      );
    },
  );
};
