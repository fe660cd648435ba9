import { type Dispatcher, request } from "undici";
import { AppError } from "../../lib/errors";
import type { GuardTarget } from "../upstream/target";

/** How much of a remote registry an import reads at most. */
export interface RegistryFetchLimits {
  /** Pages followed by cursor. */
  maxPages: number;
  /** Bytes of one page's answer. */
  maxPageBytes: number;
  /** Bytes of all pages together. */
  maxTotalBytes: number;
  /** The whole import's reading, all pages together. */
  timeoutMs: number;
}

/** The official API's page size bound. */
const PAGE_LIMIT_MAX = 100;

export interface FetchedEntries {
  /** Each entry as the registry sent it (validated by the caller, one by one). */
  entries: unknown[];
  pages: number;
  truncated: boolean;
}

/** `https://r.example.com`, `…/v0.1` or `…/v0.1/servers` → the `/v0.1/servers` URL. */
export function serversUrl(base: string): URL {
  const url = new URL(base);
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = /\/v0\.1\/servers$/.test(path)
    ? path
    : /\/v0\.1$/.test(path)
      ? `${path}/servers`
      : `${path}/v0.1/servers`;
  url.search = "";
  url.hash = "";
  return url;
}

const badGateway = (detail: string) => new AppError("BAD_GATEWAY", detail);

/** The body of an answer, read up to `max` bytes: a larger one is cut off and refused. */
async function readCapped(body: Dispatcher.ResponseData["body"], max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.destroy();
      throw badGateway(
        `The registry's answer is larger than ${Math.round(max / 1024 / 1024)} MiB; nothing was imported`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads the servers of a `/v0.1` registry page by page (latest versions, `search` passed on),
 * through the SSRF-guarded dispatcher, until it has `limit` of them or the registry has no more:
 * at most `maxPages` pages, `maxPageBytes` per page, `maxTotalBytes` in all and `timeoutMs` in
 * all. The URL is checked before anything connects; redirects are not followed.
 */
export async function fetchRegistryEntries({
  url,
  search,
  limit,
  dispatcher,
  guardTarget,
  limits,
}: {
  url: string;
  search?: string | undefined;
  limit: number;
  dispatcher: Dispatcher;
  guardTarget: GuardTarget;
  limits: RegistryFetchLimits;
}): Promise<FetchedEntries> {
  const base = serversUrl(url);
  try {
    await guardTarget(base.toString());
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new AppError(
      "VALIDATION",
      `Switchboard does not reach private, loopback or link-local addresses: ${why}. The operator can allow them with ALLOW_PRIVATE_TARGETS=true`,
      [{ path: "body.url", message: why }],
    );
  }
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const entries: unknown[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  let total = 0;
  for (;;) {
    if (pages >= limits.maxPages) return { entries, pages, truncated: true };
    const pageUrl = new URL(base);
    pageUrl.searchParams.set("limit", String(Math.min(PAGE_LIMIT_MAX, limit - entries.length)));
    pageUrl.searchParams.set("version", "latest");
    if (search) pageUrl.searchParams.set("search", search);
    if (cursor) pageUrl.searchParams.set("cursor", cursor);
    let answer: Dispatcher.ResponseData;
    try {
      answer = await request(pageUrl, {
        dispatcher,
        signal,
        headers: { accept: "application/json" },
        headersTimeout: limits.timeoutMs,
        bodyTimeout: limits.timeoutMs,
      });
    } catch (err) {
      throw fetchFailure(err, signal, limits);
    }
    pages++;
    if (answer.statusCode !== 200) {
      await answer.body.dump().catch(() => {});
      throw badGateway(`The registry answered ${pageUrl.pathname} with HTTP ${answer.statusCode}`);
    }
    let bytes: Buffer;
    try {
      bytes = await readCapped(answer.body, limits.maxPageBytes);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw fetchFailure(err, signal, limits);
    }
    total += bytes.length;
    let page: unknown;
    try {
      page = JSON.parse(bytes.toString("utf8"));
    } catch {
      throw badGateway("The registry's answer is not JSON");
    }
    const servers = (page as { servers?: unknown })?.servers;
    if (!Array.isArray(servers)) {
      throw badGateway("The registry's answer is not a /v0.1 page: it has no servers list");
    }
    for (const entry of servers) {
      if (entries.length >= limit) return { entries, pages, truncated: true };
      entries.push(entry);
    }
    if (total >= limits.maxTotalBytes) return { entries, pages, truncated: true };
    const next = (page as { metadata?: { nextCursor?: unknown } }).metadata?.nextCursor;
    if (typeof next !== "string" || next === "") return { entries, pages, truncated: false };
    if (entries.length >= limit) return { entries, pages, truncated: true };
    // A registry that hands back a cursor it gave before would page forever.
    if (seen.has(next)) return { entries, pages, truncated: true };
    seen.add(next);
    cursor = next;
  }
}

function fetchFailure(err: unknown, signal: AbortSignal, limits: RegistryFetchLimits): AppError {
  if (signal.aborted) {
    return new AppError(
      "GATEWAY_TIMEOUT",
      `The registry did not answer within ${Math.round(limits.timeoutMs / 1000)} s; nothing was imported`,
    );
  }
  const e = err as {
    name?: string;
    message?: string;
    code?: string;
    cause?: { name?: string; message?: string };
  };
  const refused = e.name === "TargetRefused" ? e : e.cause?.name === "TargetRefused" ? e.cause : null;
  if (refused) {
    return new AppError("VALIDATION", `Switchboard does not reach this address: ${refused.message}`, [
      { path: "body.url", message: refused.message ?? "is refused" },
    ]);
  }
  return badGateway(`The registry could not be reached (${e.code ?? e.message ?? "error"})`);
}
