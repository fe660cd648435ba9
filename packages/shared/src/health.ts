import { z } from "zod";
import {
  AuthChallenge,
  HealthStatus,
  MAX_HEADERS,
  PromptSummary,
  ProtocolEra,
  ResourceSummary,
  Server,
  ServerInfo,
  ToolDefinition,
  Transport,
  UpstreamHeaderInput,
} from "./servers";
import { httpUrl } from "./text";

export const CheckStatus = HealthStatus.exclude(["unknown"]);
export type CheckStatus = z.infer<typeof CheckStatus>;

/** One probe's outcome, as recorded in a server's history. */
export const HealthCheck = z.object({
  id: z.uuid(),
  serverId: z.uuid(),
  checkedAt: z.iso.datetime(),
  status: CheckStatus,
  latencyMs: z.number().int().nullable(),
  /** A short reason: `timeout`, `connection_refused`, `dns`, `tls`, `http_<status>`, `protocol_error`, `auth_rejected`, `unsupported_protocol_version`, `slow`, … */
  error: z.string().nullable(),
  protocolVersion: z.string().nullable(),
  era: ProtocolEra.nullable(),
  toolsCount: z.number().int().nullable(),
});
export type HealthCheck = z.infer<typeof HealthCheck>;

export const HealthHistoryQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(1000).default(100) })
  .strict();

export const HealthHistory = z.object({ items: z.array(HealthCheck) });

/** What probing a server found: the recorded check plus what it learned of the server. */
export const ProbeResult = z.object({
  status: CheckStatus,
  latencyMs: z.number().int(),
  error: z.string().nullable(),
  checkedAt: z.iso.datetime(),
  serverInfo: ServerInfo.nullable(),
  tools: z.array(ToolDefinition),
  prompts: z.array(PromptSummary),
  resources: z.array(ResourceSummary),
  /** For `auth_required`: where the server's authorization servers are, and the scopes it names. */
  authChallenge: AuthChallenge.nullable(),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

/** A change in a server's tool definitions, as one check saw it. */
export const ToolDrift = z.object({
  id: z.uuid(),
  serverId: z.uuid(),
  detectedAt: z.iso.datetime(),
  fromHash: z.string(),
  toHash: z.string(),
  added: z.array(ToolDefinition),
  removed: z.array(ToolDefinition),
  changed: z.array(z.object({ name: z.string(), before: ToolDefinition, after: ToolDefinition })),
});
export type ToolDrift = z.infer<typeof ToolDrift>;

export const ToolDriftQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(200).default(50) })
  .strict();
export const ToolDriftList = z.object({ items: z.array(ToolDrift) });

/** Approve the tools the server offers now; with `toolsHash`, only if they are still the ones reviewed. */
export const PinToolsInput = z.strictObject({
  toolsHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, "must be a tools hash as the server shows it")
    .optional(),
});
export type PinToolsInput = z.input<typeof PinToolsInput>;

export const CheckResult = z.object({ check: ProbeResult, server: Server });
export type CheckResult = z.infer<typeof CheckResult>;

/** An unsaved server definition to test before registering it. */
export const ProbeInput = z.strictObject({
  transport: Transport.default("streamable-http"),
  url: httpUrl,
  headers: z.array(UpstreamHeaderInput).max(MAX_HEADERS, `at most ${MAX_HEADERS} headers`).default([]),
});
export type ProbeInput = z.input<typeof ProbeInput>;
