import { createHash, randomBytes } from "node:crypto";
import {
  API_KEY_PATTERN,
  type ApiKey,
  CreateApiKeyInput,
  type CreatedApiKey,
  type WhoAmI,
} from "@switchboard/shared";
import type { Db } from "../../db/client";
import type { Clock } from "../../lib/clock";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { assertManager } from "../../lib/roles";
import { auditChange } from "../audit/service";
import { findServer, readServer } from "../servers/repo";
import { serverNotFound } from "../servers/service";
import * as repo from "./repo";

const LAST_USED_GAP_MS = 60_000;

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
  const row = await ctx.db.transaction(async (tx) => {
    if (!(await findServer(tx, ctx.tenantId, serverId))) throw serverNotFound();
    const created = await repo.insertKey(tx, {
      tenantId: ctx.tenantId,
      serverId,
      name: data.name,
      keyHash: hashApiKey(key),
      prefix: key.slice(0, 12),
      createdBy: ctx.actor.type === "user" ? ctx.actor.userId : null,
      createdAt: ctx.clock.now(),
      expiresAt,
    });
    await auditChange(tx, ctx, {
      action: "key.create",
      target: { type: "api_key", id: created.id },
      changes: {
        serverId,
        name: created.name,
        prefix: created.prefix,
        expiresAt: expiresAt?.toISOString() ?? null,
      },
    });
    return created;
  });
  return { ...toKeyDto(row), key };
}

/** The server's keys, newest first, without the keys themselves. Any member. */
export async function listApiKeys({ ctx, serverId }: { ctx: ServiceContext; serverId: string }) {
  if (!(await readServer(ctx.db, ctx.tenantId, serverId))) throw serverNotFound();
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
  await ctx.db.transaction(async (tx) => {
    const key = await repo.findKey(tx, ctx.tenantId, serverId, keyId);
    if (!key) throw notFound("API key");
    if (key.revokedAt) return;
    const revokedAt = ctx.clock.now();
    await repo.setRevoked(tx, key.id, revokedAt);
    await auditChange(tx, ctx, {
      action: "key.revoke",
      target: { type: "api_key", id: key.id },
      changes: {
        serverId,
        name: key.name,
        prefix: key.prefix,
        revokedAt: { from: null, to: revokedAt.toISOString() },
      },
    });
  });
}

/**
 * Who a presented key acts for, or null when it is malformed, unknown, revoked or expired.
 * The lookup is by SHA-256 hash, so the key is never compared or stored in clear.
 */
export async function authenticateApiKey({
  db,
  clock,
  key,
}: {
  db: Db;
  clock: Clock;
  key: string;
}): Promise<WhoAmI | null> {
  if (!API_KEY_PATTERN.test(key)) return null;
  const row = await repo.findKeyByHash(db, hashApiKey(key));
  const now = clock.now();
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) return null;
  await repo.touchLastUsed(db, row.id, now, LAST_USED_GAP_MS);
  return { tenantId: row.tenantId, serverId: row.serverId, keyId: row.id };
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
  };
}
