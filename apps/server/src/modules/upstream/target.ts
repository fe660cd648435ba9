import type { ServerRow, StoredHeader } from "../../db/schema";
import type { SecretBox } from "../../lib/secrets";
import { assertAllowedTarget } from "./ssrf";

/** Where and how to reach an MCP server, with its upstream headers in clear for this one use. */
export interface UpstreamTarget {
  url: string;
  transport: "streamable-http" | "sse";
  headers: Record<string, string>;
}

/** Opens a server's stored headers: decrypted only here, for the request about to be sent. */
export function openHeaders(stored: readonly StoredHeader[], secrets: SecretBox): Record<string, string> {
  return Object.fromEntries(stored.map((h) => [h.name, secrets.open(h.value)]));
}

/** A stored server as the upstream call needs it. */
export function upstreamTarget(
  row: Pick<ServerRow, "url" | "transport" | "headers">,
  secrets: SecretBox,
): UpstreamTarget {
  return { url: row.url, transport: row.transport, headers: openHeaders(row.headers, secrets) };
}

/** Throws `TargetRefused` for a URL Switchboard must not reach (checked when a URL is registered). */
export type GuardTarget = (url: string) => Promise<void>;

export const createTargetGuard =
  (allowPrivate: boolean): GuardTarget =>
  (url) =>
    assertAllowedTarget(url, { allowPrivate });
