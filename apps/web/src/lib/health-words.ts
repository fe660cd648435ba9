import type { HealthStatus, ServerInfo } from "@switchboard/shared";

/** How each status is named on screen; a new status fails to compile until it has a name. */
export const STATUS_LABELS: Record<HealthStatus, string> = {
  unknown: "Not checked",
  healthy: "Healthy",
  degraded: "Degraded",
  unhealthy: "Unhealthy",
  auth_required: "Sign-in required",
};

/**
 * The failure reasons a person meets most, in plain words. The probe's codes are open-ended
 * (`http_<status>`, new ones later), so anything not named here is shown as its code.
 */
const REASONS: Record<string, string> = {
  connection_refused: "Connection refused: nothing answers at that address",
  connection_reset: "The server dropped the connection",
  unreachable: "Network unreachable: no route to that address",
  timeout: "No answer in time",
  dns: "Host name not found",
  tls: "TLS certificate or handshake failed",
  auth_rejected: "Credentials refused: the stored headers were not accepted",
  auth_required: "Sign-in required: the server asks for OAuth credentials",
  unsupported_protocol_version: "Speaks no MCP protocol version Switchboard supports",
  protocol_error: "The answer was not valid MCP",
  target_refused:
    "Address refused: private addresses need ALLOW_PRIVATE_TARGETS=true on the Switchboard server",
  response_too_large: "The answer was too large",
  slow: "Answered, but slowly",
  error: "Unexpected error",
  internal: "The check itself failed inside Switchboard",
};

/** A probe's failure reason in plain words, e.g. "Server error (HTTP 503)" for `http_503`. */
export function reasonText(code: string): string {
  const known = REASONS[code];
  if (known) return known;
  const status = /^http_(\d{3})$/.exec(code)?.[1];
  if (status?.startsWith("5")) return `Server error (HTTP ${status})`;
  if (status?.startsWith("4")) return `Request refused (HTTP ${status})`;
  if (status?.startsWith("3")) return `Redirected elsewhere (HTTP ${status})`;
  return code;
}

/** A reason as one line of text with its code beside it, for toasts and tooltips. */
export const reasonLine = (code: string) => {
  const text = reasonText(code);
  return text === code ? code : `${text} (${code})`;
};

/** "2026-07-28 (modern)" or "2025-11-25 (2025 handshake)": which generation of MCP the server speaks. */
export function protocolLabel(info: ServerInfo | null): string {
  if (!info?.protocolVersion) return "not reached yet";
  if (info.era === "modern") return `${info.protocolVersion} (modern)`;
  if (info.era === "legacy") return `${info.protocolVersion} (2025 handshake)`;
  return info.protocolVersion;
}
