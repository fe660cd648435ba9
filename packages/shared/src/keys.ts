import { z } from "zod";
import { line } from "./text";

/** `mcp_` + 60 URL-safe base64 characters (45 random bytes): 64 characters in all. */
export const API_KEY_PATTERN = /^mcp_[A-Za-z0-9_-]{60}$/;

export const CreateApiKeyInput = z.strictObject({
  name: line(100).trim().min(1, "must not be empty"),
  /** When the key stops working; omit for a key that does not expire. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type CreateApiKeyInput = z.input<typeof CreateApiKeyInput>;

export const ApiKey = z.object({
  id: z.uuid(),
  serverId: z.uuid(),
  name: z.string(),
  /** The key's first 12 characters, to recognise it. */
  prefix: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** The answer to creating a key: the only time the key itself is shown. */
export const CreatedApiKey = ApiKey.extend({ key: z.string() });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ApiKeyList = z.object({ items: z.array(ApiKey) });

export const KeyIdParams = z.object({
  id: z.uuid("must be a server id (UUID)"),
  keyId: z.uuid("must be a key id (UUID)"),
});

export const WhoAmI = z.object({ tenantId: z.string(), serverId: z.uuid(), keyId: z.uuid() });
export type WhoAmI = z.infer<typeof WhoAmI>;
