import { BulkServersInput, type BulkServersResult, MAX_TAGS } from "@switchboard/shared";
import type { ServerRow } from "../../db/schema";
import { AppError } from "../../lib/errors";
import { assertManager } from "../../lib/roles";
import { withTransaction } from "../../lib/transaction";
import { auditChange } from "../audit/service";
import * as repo from "./repo";
import { deleteServer, type ServerContext, updateServer } from "./service";

/** The tags a server has after adding or removing `tags` (added ones go last, each once). */
function retag(row: ServerRow, action: "tag" | "untag", tags: string[]): string[] {
  if (action === "untag") return row.tags.filter((t) => !tags.includes(t));
  return [...new Set([...row.tags, ...tags])];
}

/**
 * Does one action to many of the tenant's servers, all or nothing, in one transaction: each server
 * goes through the single-server verb (the same checks, audit row and live event as one by one),
 * and the events are told once everything is committed. Any id that is not the tenant's server is
 * a 404 naming it, and nothing is written. Returns the servers the action changed (or, for
 * `check`, scheduled), in the order given. Owners and admins.
 */
export async function bulkServers({
  ctx,
  input,
}: {
  ctx: ServerContext;
  input: BulkServersInput;
}): Promise<BulkServersResult> {
  assertManager(ctx, "change servers");
  const { action, ids, tags = [] } = BulkServersInput.parse(input);
  const changed = await withTransaction(ctx, async (ctx) => {
    const found = new Map((await repo.lockServers(ctx.db, ctx.tenantId, ids)).map((r) => [r.id, r]));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) {
      throw new AppError(
        "NOT_FOUND",
        `Not servers of this organization: ${missing.join(", ")}; nothing was changed`,
        missing.map((id) => ({
          path: `body.ids.${ids.indexOf(id)}`,
          message: "is not a server of this organization",
        })),
      );
    }
    const rows = ids.flatMap((id) => found.get(id) ?? []);
    switch (action) {
      case "enable":
      case "disable": {
        const enabled = action === "enable";
        const todo = rows.filter((r) => r.enabled !== enabled);
        for (const r of todo) await updateServer({ ctx, id: r.id, input: { enabled } });
        return todo.map((r) => r.id);
      }
      case "tag":
      case "untag": {
        const next = rows.map((r) => ({ row: r, tags: retag(r, action, tags) }));
        const over = next.filter((n) => n.tags.length > MAX_TAGS);
        if (over.length) {
          throw new AppError(
            "VALIDATION",
            `A server may have at most ${MAX_TAGS} tags: ${over.map((n) => n.row.name).join(", ")} would have more; nothing was changed`,
            [
              {
                path: "body.tags",
                message: `would give ${over.length} server(s) more than ${MAX_TAGS} tags`,
              },
            ],
          );
        }
        const todo = next.filter((n) => n.tags.length !== n.row.tags.length);
        for (const n of todo) await updateServer({ ctx, id: n.row.id, input: { tags: n.tags } });
        return todo.map((n) => n.row.id);
      }
      case "delete": {
        for (const r of rows) await deleteServer({ ctx, id: r.id });
        return ids;
      }
      case "check": {
        // The scheduler probes them in its next round, at its pace; their results come as live events.
        const due = rows.filter((r) => r.enabled && !r.needsConfiguration).map((r) => r.id);
        await repo.scheduleChecks(ctx.db, ctx.tenantId, due, ctx.clock.now());
        for (const id of due) {
          await auditChange(ctx, {
            action: "server.check",
            target: { type: "server", id },
            changes: { scheduled: true },
          });
        }
        return due;
      }
    }
  });
  return { action, ids: changed };
}
