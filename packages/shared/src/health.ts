import { z } from "zod";
import { HealthStatus, Server, ServerInfo, ToolSummary, Transport, UpstreamHeaderInput } from "./servers";
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
  /** A short reason: `timeout`, `connection_refused`, `dns`, `tls`, `http_<status>`, `protocol_error`, `auth_required`, `slow`, … */
  error: z.string().nullable(),
  protocolVersion: z.string().nullable(),
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
  tools: z.array(ToolSummary),
});
export type ProbeResult = z.infer<typeof ProbeResult>;

export const CheckResult = z.object({ check: ProbeResult, server: Server });
export type CheckResult = z.infer<typeof CheckResult>;

/** An unsaved server definition to test before registering it. */
export const ProbeInput = z.strictObject({
  transport: Transport.default("streamable-http"),
  url: httpUrl,
  headers: z.array(UpstreamHeaderInput).max(20).default([]),
});
export type ProbeInput = z.input<typeof ProbeInput>;
