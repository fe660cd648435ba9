import { createHash, randomBytes } from "node:crypto";
import { type ApiKey, CreateApiKeyInput, type CreatedApiKey } from "@switchboard/shared";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { assertManager } from "../../lib/roles";
import { afterCommit, withTransaction } from "../../lib/transaction";
import { auditChange } from "../audit/service";
import { requireServer } from "../servers/service";
import * as repo from "./repo";

/** A new key: `mcp_` + 60 URL-safe base64 characters from 45 random bytes. */
export function generateApiKey(): string {
  return `mcp_${randomBytes(45).toString("base64url")}`;
}

export const hashApiKey = (key: string) => createHash("sha256").update(key, "utf8").digest("hex");

/** Issues a key for one of the tenant's servers; the answer is the only time the key is shown. */
export async function createApiKey({
  ctx,
  serverId,
  input,
}: {
  ctx: ServiceContext;
  serverId: string;
  input: CreateApiKeyInput;
}): Promise<CreatedApiKey> {
  assertManager(ctx, "create API keys");
  const data = CreateApiKeyInput.parse(input);
  const expiresAt = data.expiresAt ? new Date(data.expiresAt) : null;
  if (expiresAt && expiresAt <= ctx.clock.now()) {
    throw new AppError("VALIDATION", "A key cannot expire in the past", [
      { path: "body.expiresAt", message: "must be in the future" },
    ]);
  }
  const key = generateApiKey();
  const row = await withTransaction(ctx, async (ctx) => {
    await requireServer(ctx, serverId);
    const created = await repo.insertKey(ctx.db, {
      tenantId: ctx.tenantId,
      serverId,
      name: data.name,
      keyHash: hashApiKey(key),
      prefix: key.slice(0, 12),
      createdBy: ctx.actor.type === "user" ? ctx.actor.userId : null,
      createdAt: ctx.clock.now(),
      expiresAt,
      tools: data.tools ?? null,
    });
    await auditChange(ctx, {
      action: "key.create",
      target: { type: "api_key", id: created.id },
      changes: {
        serverId,
        name: created.name,
        prefix: created.prefix,
        expiresAt: expiresAt?.toISOString() ?? null,
        tools: created.tools,
      },
    });
    return created;
  });
  return { ...toKeyDto(row), key };
}

/** The server's keys, newest first, without the keys themselves. Any member. */
export async function listApiKeys({ ctx, serverId }: { ctx: ServiceContext; serverId: string }) {
  await requireServer(ctx, serverId);
  const rows = await repo.findKeys(ctx.db, ctx.tenantId, serverId);
  return { items: rows.map(toKeyDto) };
}

/** Revokes a key at once. Revoking a revoked key changes nothing. Owners and admins. */
export async function revokeApiKey({
  ctx,
  serverId,
  keyId,
}: {
  ctx: ServiceContext;
  serverId: string;
  keyId: string;
}) {
  assertManager(ctx, "revoke API keys");
  await withTransaction(ctx, async (ctx) => {
    const key = await repo.findKey(ctx.db, ctx.tenantId, serverId, keyId);
    if (!key) throw notFound("API key");
    if (key.revokedAt) return;
    const revokedAt = ctx.clock.now();
    await repo.setRevoked(ctx.db, key.id, revokedAt);
    await auditChange(ctx, {
      action: "key.revoke",
      target: { type: "api_key", id: key.id },
      changes: {
        serverId,
        name: key.name,
        prefix: key.prefix,
        revokedAt: { from: null, to: revokedAt.toISOString() },
      },
    });
    // Every instance forgets the key at once, so it opens nothing from the next request on.
    await afterCommit(ctx, () =>
      ctx.bus.publish({ type: "api_key.revoked", tenantId: ctx.tenantId, keyId: key.id }),
    );
  });
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toKeyDto(row: repo.KeyRow): ApiKey {
  return {
    id: row.id,
    serverId: row.serverId,
    name: row.name,
    prefix: row.prefix,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: iso(row.expiresAt),
    lastUsedAt: iso(row.lastUsedAt),
    revokedAt: iso(row.revokedAt),
    tools: row.tools,
  };
}
