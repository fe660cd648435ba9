import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ImportResult } from "@switchboard/shared";
import { AppError } from "../lib/errors";
import { type ImportContext, importFromRegistry, importServers } from "../modules/registry/import";
import { exportServers, findOrganizationBySlug, type RegistryDeps } from "../modules/registry/service";
import type { Runtime } from "../runtime";

export const EXPORT_USAGE = `Usage: switchboard export --org <slug> [--out <file>]

  Writes every server of the organization as server.json documents (a JSON list) to the file, or
  to standard output. Header names and descriptions are exported, never their values.
`;

export const IMPORT_USAGE = `Usage: switchboard import <file|url|-> --org <slug> [--dry-run] [--var name=value]… [--search text] [--limit n] [--json]

  Imports server.json documents into the organization: a file (or - for standard input) holding
  one document, a list of them, or a registry page; or the base URL of a /v0.1 registry, whose
  latest servers are read (--search, --limit). --var fills {variables} in remote URLs and header
  values. --dry-run shows what would happen and writes nothing. Acts as the operator: changes are
  audited with the actor "cli". With the embedded database (no DATABASE_URL), stop the server first.
`;

type Out = (text: string) => void;

/** Runs `fn` with Switchboard's effects, opened for this command only (the database, the way out). */
export type WithRuntime = <T>(fn: (runtime: Runtime) => Promise<T>) => Promise<T>;

/** The context the CLI's verbs act in: the organization, as its owner would, recorded as `cli`. */
async function cliContext(runtime: Runtime, slug: string): Promise<ImportContext & RegistryDeps> {
  const org = await findOrganizationBySlug(runtime.db, slug);
  if (!org) throw new AppError("NOT_FOUND", `No organization has the slug ${slug}`);
  return {
    db: runtime.db,
    clock: runtime.clock,
    bus: runtime.bus,
    log: runtime.log,
    correlationId: randomUUID(),
    ip: null,
    userAgent: "switchboard-cli",
    tenantId: org.id,
    actor: { type: "system", name: "cli" },
    role: "owner",
    secrets: runtime.secrets,
    guardTarget: runtime.guardTarget,
    serverTotals: runtime.serverTotals,
    serverSummaries: runtime.serverSummaries,
    dispatcher: runtime.dispatcher,
    registryFetch: runtime.config.registryImport,
    baseUrl: runtime.config.baseUrl,
  };
}

/** An error as a person reads it: the detail, then each field it names. */
function describeError(err: unknown): string {
  if (err instanceof AppError) {
    const issues = (err.issues ?? []).map((i) => `  ${i.path}: ${i.message}`);
    return [`error: ${err.message}`, ...issues].join("\n");
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

/** `switchboard export …`: returns the exit code. */
export async function exportCommand(args: string[], withRuntime: WithRuntime, out: Out): Promise<number> {
  let values: { org?: string | undefined; out?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args,
      options: { org: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    out(`${(err as Error).message}\n\n${EXPORT_USAGE}`);
    return 64;
  }
  if (values.help || !values.org) {
    out(EXPORT_USAGE);
    return values.help ? 0 : 64;
  }
  const org = values.org;
  try {
    const docs = await withRuntime(async (runtime) =>
      exportServers({ ctx: await cliContext(runtime, org), input: {} }),
    );
    const text = `${JSON.stringify(docs, null, 2)}\n`;
    if (values.out) {
      writeFileSync(values.out, text);
      out(`Exported ${docs.length} server${docs.length === 1 ? "" : "s"} to ${values.out}\n`);
    } else out(text);
    return 0;
  } catch (err) {
    out(`${describeError(err)}\n`);
    return 1;
  }
}

/** The import's results, a line per document. */
export function describeImport(result: ImportResult & { pages?: number; truncated?: boolean }): string {
  const lines = result.items.map((i) =>
    [
      i.result.padEnd(9),
      (i.name ?? "-").padEnd(24),
      i.registryName ?? "?",
      i.needsConfiguration ? " (needs configuration)" : "",
      i.reason ? `: ${i.reason}` : "",
    ].join(""),
  );
  const c = result.counts;
  const what = `${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped`;
  const more = result.truncated ? " (the registry had more: raise --limit)" : "";
  lines.push(result.dryRun ? `Dry run, nothing written: ${what}${more}` : `${what}${more}`);
  return `${lines.join("\n")}\n`;
}

/** `switchboard import …`: returns the exit code. */
export async function importCommand(
  args: string[],
  withRuntime: WithRuntime,
  out: Out,
  readInput: (path: string) => string = (path) => readFileSync(path === "-" ? 0 : path, "utf8"),
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args,
      allowPositionals: true,
      options: {
        org: { type: "string" },
        "dry-run": { type: "boolean" },
        var: { type: "string", multiple: true },
        search: { type: "string" },
        limit: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  try {
    parsed = parse();
  } catch (err) {
    out(`${(err as Error).message}\n\n${IMPORT_USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  const source = positionals[0];
  const vars = (values.var ?? []).map((v) => /^([A-Za-z0-9_.-]+)=(.*)$/s.exec(v));
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (
    values.help ||
    !values.org ||
    !source ||
    positionals.length > 1 ||
    vars.includes(null) ||
    (limit !== undefined && !Number.isInteger(limit))
  ) {
    out(IMPORT_USAGE);
    return values.help ? 0 : 64;
  }
  const variables = Object.fromEntries(vars.map((m) => [m?.[1] ?? "", m?.[2] ?? ""]));
  const dryRun = values["dry-run"] ?? false;
  const org = values.org;
  try {
    // A file is read (and must be JSON) before anything opens the database.
    const body = /^https?:\/\//i.test(source)
      ? null
      : { source: parseJson(readInput(source), source), variables };
    const result = await withRuntime(async (runtime) => {
      const ctx = await cliContext(runtime, org);
      return body
        ? importServers({ ctx, body, dryRun, source: "cli" })
        : importFromRegistry({
            ctx,
            input: {
              url: source,
              search: values.search,
              ...(limit === undefined ? {} : { limit }),
              variables,
            },
            dryRun,
          });
    });
    out(values.json ? `${JSON.stringify(result, null, 2)}\n` : describeImport(result));
    return 0;
  } catch (err) {
    out(`${describeError(err)}\n`);
    return 1;
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError("VALIDATION", `${path} is not JSON: ${(err as Error).message}`);
  }
}
