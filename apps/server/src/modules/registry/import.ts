import {
  CreateServerInput,
  type ImportItemResult,
  type ImportResult,
  ImportVariables,
  MAX_IMPORT_ITEMS,
  type ProblemIssue,
  type RegistryImportInput,
  RegistryImportInput as RegistryImportInputSchema,
  type RegistryImportResult,
  type Server,
  ServerJson,
  ServerResponseJson,
  UpdateServerInput,
} from "@switchboard/shared";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { AppError } from "../../lib/errors";
import { assertManager } from "../../lib/roles";
import { withTransaction } from "../../lib/transaction";
import { auditChange } from "../audit/service";
import {
  createServer,
  findServerByRegistryName,
  type ServerContext,
  serverNamesTaken,
  updateServer,
} from "../servers/service";
import { fetchRegistryEntries, type RegistryFetchLimits } from "./fetch";
import { createInputOf, type MappedServer, mapServerJson } from "./mapping";
import { registryNamespace } from "./service";

/** What an import needs beside the servers module's effects: the way out, for registry URLs. */
export interface ImportDeps {
  /** The SSRF-guarded dispatcher (the probes' one). */
  dispatcher: Dispatcher;
  registryFetch: RegistryFetchLimits;
}
export type ImportContext = ServerContext & ImportDeps;

/** A document to import, with its place in what was sent; `doc` null when it failed the schema. */
interface Item {
  index: number;
  doc: ServerJson | null;
  registryName: string | null;
  /** Why the document is not a valid server.json (registry imports skip it rather than fail). */
  invalid?: string;
}

const pathOf = (prefix: string[], path: PropertyKey[]) => [...prefix, ...path.map(String)].join(".");

function issuesOf(error: z.ZodError, prefix: string[]): ProblemIssue[] {
  return error.issues.map((i) => ({ path: pathOf(prefix, i.path), message: i.message }));
}

function invalidBody(issues: ProblemIssue[]): AppError {
  const where = [...new Set(issues.map((i) => i.path))].slice(0, 5).join(", ");
  return new AppError("VALIDATION", `Not a valid server.json: ${where}`, issues);
}

/**
 * Reads what `POST /mcp/servers/import` was sent: one server.json, an array of them, a registry
 * page (`{ servers: [{ server }] }`), or one of those as `source` beside `variables`. Every document
 * must be valid: the first failures are a 400 naming their paths, and nothing is imported.
 */
export function readImportBody(body: unknown): { docs: ServerJson[]; variables: Record<string, string> } {
  let source = body;
  let prefix = ["body"];
  let variables: Record<string, string> = {};
  if (source && typeof source === "object" && !Array.isArray(source) && "source" in source) {
    const { source: inner, variables: given, ...rest } = source as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length) {
      throw invalidBody(unknown.map((k) => ({ path: `body.${k}`, message: "is not a known field" })));
    }
    if (given !== undefined) {
      const parsed = ImportVariables.safeParse(given);
      if (!parsed.success) throw invalidBody(issuesOf(parsed.error, ["body", "variables"]));
      variables = parsed.data;
    }
    source = inner;
    prefix = ["body", "source"];
  }
  let docs: unknown[];
  let paths: string[][];
  if (Array.isArray(source)) {
    docs = source;
    paths = source.map((_d, i) => [...prefix, String(i)]);
  } else if (source && typeof source === "object" && "servers" in source) {
    const servers = (source as { servers: unknown }).servers;
    if (!Array.isArray(servers))
      throw invalidBody([{ path: pathOf(prefix, ["servers"]), message: "must be a list" }]);
    const issues: ProblemIssue[] = [];
    docs = servers.map((entry, i) => {
      if (!entry || typeof entry !== "object" || !("server" in entry)) {
        issues.push({ path: pathOf(prefix, ["servers", i, "server"]), message: "is required" });
        return null;
      }
      return (entry as { server: unknown }).server;
    });
    if (issues.length) throw invalidBody(issues);
    paths = servers.map((_e, i) => [...prefix, "servers", String(i), "server"]);
  } else if (source && typeof source === "object") {
    docs = [source];
    paths = [prefix];
  } else {
    throw invalidBody([
      {
        path: prefix.join("."),
        message: "must be a server.json document, a list of them, or a registry page",
      },
    ]);
  }
  if (docs.length > MAX_IMPORT_ITEMS) {
    throw new AppError("VALIDATION", `At most ${MAX_IMPORT_ITEMS} servers can be imported at once`, [
      { path: prefix.join("."), message: `has ${docs.length} documents` },
    ]);
  }
  const issues: ProblemIssue[] = [];
  const parsed = docs.map((doc, i) => {
    const result = ServerJson.safeParse(doc);
    if (!result.success) issues.push(...issuesOf(result.error, paths[i] ?? prefix));
    return result.data;
  });
  if (issues.length) throw invalidBody(issues);
  return { docs: parsed as ServerJson[], variables };
}

const skipped = (item: Item, reason: string, missingVariables: string[] = []): ImportItemResult => ({
  index: item.index,
  registryName: item.registryName,
  result: "skipped",
  serverId: null,
  name: null,
  reason,
  missingVariables,
  needsConfiguration: false,
});

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const declaredOf = (
  headers: { name: string; description?: string | null; isRequired: boolean; isSecret: boolean }[],
) =>
  headers.map((h) => ({
    name: h.name,
    description: h.description ?? null,
    isRequired: h.isRequired,
    isSecret: h.isSecret,
  }));
const repositoryOf = (
  r: { url: string; source: string; id?: string | undefined; subfolder?: string | undefined } | null,
) => (r ? { url: r.url, source: r.source, id: r.id ?? null, subfolder: r.subfolder ?? null } : null);

/** What must change in an existing server for it to match the document; null when nothing. */
function changesOf(existing: Server, m: MappedServer): UpdateServerInput | null {
  const c: Record<string, unknown> = {};
  if (existing.displayName !== m.displayName) c.displayName = m.displayName;
  if (existing.description !== m.description) c.description = m.description;
  if (existing.transport !== m.transport) c.transport = m.transport;
  if (existing.url !== m.url) c.url = m.url;
  if (!sameJson(existing.tags, m.tags)) c.tags = m.tags;
  if (existing.title !== m.title) c.title = m.title;
  if (existing.websiteUrl !== m.websiteUrl) c.websiteUrl = m.websiteUrl;
  if (existing.releaseVersion !== m.releaseVersion) c.releaseVersion = m.releaseVersion;
  if (!sameJson(repositoryOf(existing.repository), repositoryOf(m.repository))) c.repository = m.repository;
  if (!sameJson(declaredOf(existing.declaredHeaders), declaredOf(m.declaredHeaders)))
    c.declaredHeaders = m.declaredHeaders;
  if (m.headerValues.length) {
    // Stored values stay (sent without a value); the document's values are set or replace theirs.
    const given = new Set(m.headerValues.map((h) => h.name.toLowerCase()));
    c.headers = [
      ...existing.headers.filter((h) => !given.has(h.name.toLowerCase())).map((h) => ({ name: h.name })),
      ...m.headerValues,
    ];
  }
  return Object.keys(c).length ? (c as UpdateServerInput) : null;
}

/** Whether a required declared header would still have no value. */
function wouldNeedConfiguration(m: MappedServer, stored: { name: string }[]): boolean {
  const set = new Set([...stored, ...m.headerValues].map((h) => h.name.toLowerCase()));
  return m.declaredHeaders.some((d) => d.isRequired && !set.has(d.name.toLowerCase()));
}

const messageOf = (err: AppError) =>
  err.issues?.length
    ? `${err.message} (${err.issues.map((i) => `${i.path}: ${i.message}`).join("; ")})`
    : err.message;

const zodReason = (error: z.ZodError) =>
  `Switchboard cannot register it: ${error.issues.map((i) => `${i.path.join(".") || "server"} ${i.message}`).join("; ")}`;

/** Candidate names for a new server: its slug, then slug-2 … slug-9. */
const candidates = (slug: string) => [
  slug,
  ...[2, 3, 4, 5, 6, 7, 8, 9].map((n) => `${slug.slice(0, 60)}-${n}`),
];

/**
 * Imports one document in its own transaction: matched on its registry name, it updates that
 * server (or leaves it, when nothing differs); else it creates one under a free name. The servers
 * module's create and update verbs do the writing (and their audit); the import is audited beside
 * them as `server.import`. In a dry run nothing is written and the result says what would happen.
 */
async function importItem(
  ctx: ImportContext,
  item: Item,
  m: MappedServer,
  opts: { namespace: string; dryRun: boolean; source: string },
): Promise<ImportItemResult> {
  const base = { index: item.index, registryName: m.registryName, reason: null, missingVariables: [] };
  const run = async (ctx: ImportContext): Promise<ImportItemResult> => {
    const existing = await findServerByRegistryName({
      ctx,
      registryName: m.registryName,
      namespace: opts.namespace,
    });
    if (existing) {
      const changes = changesOf(existing, m);
      if (!changes) {
        return {
          ...base,
          result: "unchanged",
          serverId: existing.id,
          name: existing.name,
          needsConfiguration: existing.needsConfiguration,
        };
      }
      const check = UpdateServerInput.safeParse(changes);
      if (!check.success) return skipped(item, zodReason(check.error));
      if (opts.dryRun) {
        if (changes.url) await ctx.guardTarget(changes.url);
        return {
          ...base,
          result: "updated",
          serverId: existing.id,
          name: existing.name,
          needsConfiguration: wouldNeedConfiguration(m, existing.headers),
        };
      }
      const updated = await updateServer({ ctx, id: existing.id, input: changes });
      await auditChange(ctx, {
        action: "server.import",
        target: { type: "server", id: updated.id },
        changes: { registryName: m.registryName, result: "updated", source: opts.source },
      });
      return {
        ...base,
        result: "updated",
        serverId: updated.id,
        name: updated.name,
        needsConfiguration: updated.needsConfiguration,
      };
    }
    const names = candidates(m.name);
    const taken = await serverNamesTaken({ ctx, names });
    const name = names.find((n) => !taken.has(n));
    if (!name)
      return skipped(item, `The names ${m.name} to ${names.at(-1)} are all taken in this organization`);
    const input = createInputOf(m, name);
    const check = CreateServerInput.safeParse(input);
    if (!check.success) return skipped(item, zodReason(check.error));
    if (opts.dryRun) {
      await ctx.guardTarget(input.url);
      return {
        ...base,
        result: "created",
        serverId: null,
        name,
        needsConfiguration: wouldNeedConfiguration(m, []),
      };
    }
    const created = await createServer({ ctx, input });
    await auditChange(ctx, {
      action: "server.import",
      target: { type: "server", id: created.id },
      changes: { registryName: m.registryName, result: "created", source: opts.source },
    });
    return {
      ...base,
      result: "created",
      serverId: created.id,
      name: created.name,
      needsConfiguration: created.needsConfiguration,
    };
  };
  try {
    return opts.dryRun ? await run(ctx) : await withTransaction(ctx, run);
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return skipped(item, messageOf(err));
    if (err instanceof Error && err.name === "TargetRefused") {
      return skipped(
        item,
        `Switchboard does not probe private, loopback or link-local addresses: ${err.message}. The operator can allow them with ALLOW_PRIVATE_TARGETS=true`,
      );
    }
    throw err;
  }
}

async function importItems(
  ctx: ImportContext,
  items: Item[],
  opts: { variables: Record<string, string>; dryRun: boolean; source: string },
): Promise<ImportResult> {
  const namespace = await registryNamespace(ctx);
  const results: ImportItemResult[] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    if (!item.doc) {
      results.push(skipped(item, item.invalid ?? "Not a valid server.json"));
      continue;
    }
    const earlier = seen.get(item.doc.name);
    if (earlier !== undefined) {
      results.push(skipped(item, `The same server as item ${earlier}: a registry name is imported once`));
      continue;
    }
    seen.set(item.doc.name, item.index);
    const mapped = mapServerJson(item.doc, opts.variables);
    if (!mapped.ok) {
      results.push(skipped(item, mapped.reason, mapped.missingVariables));
      continue;
    }
    results.push(
      await importItem(ctx, item, mapped.server, { namespace, dryRun: opts.dryRun, source: opts.source }),
    );
  }
  const count = (kind: ImportItemResult["result"]) => results.filter((r) => r.result === kind).length;
  return {
    dryRun: opts.dryRun,
    items: results,
    counts: {
      created: count("created"),
      updated: count("updated"),
      unchanged: count("unchanged"),
      skipped: count("skipped"),
    },
  };
}

/**
 * Imports server.json documents (one, a list, or a registry page; see `readImportBody`), each in
 * its own transaction, so that one that cannot be registered leaves the others. Owners and admins.
 */
export async function importServers({
  ctx,
  body,
  dryRun,
  source = "document",
}: {
  ctx: ImportContext;
  body: unknown;
  dryRun: boolean;
  /** Where the documents came from, for the audit trail (`document`, `cli`, a registry URL). */
  source?: string;
}): Promise<ImportResult> {
  assertManager(ctx, "import servers");
  const { docs, variables } = readImportBody(body);
  const items = docs.map((doc, index) => ({ index, doc, registryName: doc.name }));
  return importItems(ctx, items, { variables, dryRun, source });
}

/**
 * Imports the latest servers of a `/v0.1` registry (all of them, or those `search` finds, up to
 * `limit`), read through the SSRF-guarded dispatcher within bounds of pages, bytes and time. An
 * entry that is not valid server.json is skipped, naming where it fails. Owners and admins.
 */
export async function importFromRegistry({
  ctx,
  input,
  dryRun,
}: {
  ctx: ImportContext;
  input: RegistryImportInput;
  dryRun: boolean;
}): Promise<RegistryImportResult> {
  assertManager(ctx, "import servers");
  const data = RegistryImportInputSchema.parse(input);
  const fetched = await fetchRegistryEntries({
    url: data.url,
    search: data.search,
    limit: data.limit,
    dispatcher: ctx.dispatcher,
    guardTarget: ctx.guardTarget,
    limits: ctx.registryFetch,
  });
  const items: Item[] = fetched.entries.map((entry, index) => {
    const parsed = ServerResponseJson.safeParse(entry);
    if (parsed.success) return { index, doc: parsed.data.server, registryName: parsed.data.server.name };
    const name = (entry as { server?: { name?: unknown } })?.server?.name;
    return {
      index,
      doc: null,
      registryName: typeof name === "string" ? name : null,
      invalid: `Not a valid registry entry: ${parsed.error.issues
        .slice(0, 5)
        .map((i) => `servers.${index}.${i.path.join(".")} ${i.message}`)
        .join("; ")}`,
    };
  });
  const result = await importItems(ctx, items, {
    variables: data.variables ?? {},
    dryRun,
    source: new URL(data.url).origin,
  });
  return { ...result, pages: fetched.pages, truncated: fetched.truncated };
}
