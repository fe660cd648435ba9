import type { AuthChallenge } from "../../db/schema";
import { discard, HttpChannel, type ProbeIo, parseJson } from "./probe-http";

const METADATA_BYTES = 16 * 1024;
const MAX_LISTED = 20;

/**
 * Header names that carry credentials: `Authorization`, `Proxy-Authorization`, `Cookie`, and any
 * whose name speaks of auth, a key, a token, a secret, a password or a credential (`X-Api-Key`,
 * `X-Auth-Token`, `Private-Token`, …). Other stored headers (`X-Tenant`, `Accept-Language`) only
 * shape requests: a server that refuses a probe carrying just those was sent no credentials.
 */
const CREDENTIAL_HEADER = /auth|key|token|secret|passw|credential|cookie/i;

/** Whether the headers sent to a server include credentials (see CREDENTIAL_HEADER). */
export const hasCredentials = (headers: Record<string, string>): boolean =>
  Object.keys(headers).some((name) => CREDENTIAL_HEADER.test(name));

/** The parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 6750, RFC 9728 §5.1). */
export function parseBearerChallenge(header: string | null): Record<string, string> | null {
  if (!header || !/^\s*bearer\b/i.test(header)) return null;
  const params: Record<string, string> = {};
  for (const m of header.matchAll(/([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    const name = (m[1] as string).toLowerCase();
    params[name] = (m[2] ?? m[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return params;
}

const httpUrl = (v: unknown): string | null => {
  if (typeof v !== "string" || v.length > 2048) return null;
  try {
    const u = new URL(v);
    return u.protocol === "https:" || u.protocol === "http:" ? v : null;
  } catch {
    return null;
  }
};

/** The RFC 9728 metadata locations to try: the one the challenge names, else path-aware, then root. */
function metadataUrls(endpoint: URL, named: string | null): string[] {
  if (named) return [named];
  const path = endpoint.pathname === "/" ? "" : endpoint.pathname.replace(/\/$/, "");
  const root = `${endpoint.origin}/.well-known/oauth-protected-resource`;
  return path ? [`${root}${path}`, root] : [root];
}

/** Fetches one metadata document; null when it is not there or not JSON. Never sends the stored headers. */
async function fetchMetadata(url: string, io: ProbeIo): Promise<Record<string, unknown> | null> {
  const channel = new HttpChannel(new URL(url), {}, io);
  try {
    const res = await channel.request("GET", undefined, { accept: "application/json" });
    if (res.statusCode !== 200) {
      await discard(res);
      return null;
    }
    const doc = parseJson(await channel.text(res, METADATA_BYTES));
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) return null;
    // RFC 9728 requires `resource`: any other JSON at that path (a catch-all route) is no sign of OAuth.
    const { resource, authorization_servers: servers } = doc as Record<string, unknown>;
    return typeof resource === "string" || Array.isArray(servers) ? (doc as Record<string, unknown>) : null;
  } catch {
    // An unreachable or refused metadata address (another origin, a private one) says nothing.
    return null;
  }
}

/** What a challenge and the metadata (when found) say, bounded for storing. */
function describe(
  challenge: Record<string, string> | null,
  metadataUrl: string | null,
  metadata: Record<string, unknown> | null,
): AuthChallenge {
  const servers = Array.isArray(metadata?.authorization_servers) ? metadata.authorization_servers : [];
  const supported = Array.isArray(metadata?.scopes_supported) ? metadata.scopes_supported : [];
  const challenged = challenge?.scope?.split(/\s+/).filter(Boolean) ?? [];
  return {
    resourceMetadataUrl: metadataUrl ?? httpUrl(challenge?.resource_metadata),
    authorizationServers: servers
      .map(httpUrl)
      .filter((u): u is string => u !== null)
      .slice(0, MAX_LISTED),
    scopes: (challenged.length ? challenged : supported.filter((s): s is string => typeof s === "string"))
      .map((s) => s.slice(0, 200))
      .slice(0, MAX_LISTED),
  };
}

/** What a `WWW-Authenticate: Bearer …` challenge says on its own; null when there is none. */
export function bearerChallenge(wwwAuthenticate: string | null): AuthChallenge | null {
  const challenge = parseBearerChallenge(wwwAuthenticate);
  return challenge ? describe(challenge, null, null) : null;
}

/**
 * What a server that refused the probe for want of credentials says of its OAuth set-up: the
 * challenge's `resource_metadata` and `scope`, and the authorization servers and scopes of its
 * protected-resource metadata (RFC 9728). Null when it shows no sign of OAuth at all: neither a
 * Bearer challenge nor metadata.
 */
export async function discoverAuth(
  endpoint: URL,
  wwwAuthenticate: string | null,
  io: ProbeIo,
): Promise<AuthChallenge | null> {
  const challenge = parseBearerChallenge(wwwAuthenticate);
  for (const url of metadataUrls(endpoint, httpUrl(challenge?.resource_metadata))) {
    const metadata = await fetchMetadata(url, io);
    if (metadata) return describe(challenge, url, metadata);
  }
  return challenge ? describe(challenge, null, null) : null;
}
