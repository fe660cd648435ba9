import { z } from "zod";
import { nameLine, uuidParam } from "./text";

/** `mcp_` + 60 URL-safe base64 characters (45 random bytes): 64 characters in all. */
export const API_KEY_PATTERN = /^mcp_[A-Za-z0-9_-]{60}$/;

export const API_KEY_NAME_MAX = 100;
export const MAX_KEY_TOOLS = 200;

/** A tool name as MCP allows it: 1-128 characters of letters, digits, `_`, `-` and `.`. */
export const ToolName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,128}$/, "must be a tool name (letters, digits, _ - .)");

export const CreateApiKeyInput = z.strictObject({
  name: nameLine(API_KEY_NAME_MAX).trim().min(1, "must not be empty"),
  /** When the key stops working; omit for a key that does not expire. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  /** The only tools this key may list and call through the gateway; omit for every tool. */
  tools: z
    .array(ToolName)
    .min(1, "name at least one tool, or leave the list out for every tool")
    .max(MAX_KEY_TOOLS, `at most ${MAX_KEY_TOOLS} tools`)
    .refine((t) => new Set(t).size === t.length, "must not repeat a tool")
    .optional(),
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
  /** The tools the key may use through the gateway; null for every tool. */
  tools: z.array(z.string()).nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** The answer to creating a key: the only time the key itself is shown. */
export const CreatedApiKey = ApiKey.extend({ key: z.string() });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const ApiKeyList = z.object({ items: z.array(ApiKey) });

export const KeyIdParams = z.object({
  id: uuidParam("must be a server id (UUID)"),
  keyId: uuidParam("must be a key id (UUID)"),
});

export const WhoAmI = z.object({ tenantId: z.string(), serverId: z.uuid(), keyId: z.uuid() });
export type WhoAmI = z.infer<typeof WhoAmI>;
