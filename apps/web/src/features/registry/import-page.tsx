import {
  type ImportItemResult,
  type ImportResult,
  MAX_IMPORT_ITEMS,
  REGISTRY_IMPORT_LIMIT_DEFAULT,
  type RegistryImportResult,
} from "@switchboard/shared";
import { type ChangeEvent, useState } from "react";
import toast from "react-hot-toast/headless";
import { Link } from "wouter";
import { Button, ErrorState, Field, Input, Panel, Spinner } from "../../components/ui";
import { ApiError, describeError } from "../../lib/api";
import { useSession } from "../session/session";
import { useRegistryMutations, useRegistrySettings } from "./queries";

type Source = "json" | "registry";

/** `name=value` lines → `{ name: value }`; null with the line that is not one. */
function parseVariables(text: string): { variables: Record<string, string> } | { error: string } {
  const variables: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line);
    if (!m?.[1]) return { error: `"${line}" is not name=value` };
    variables[m[1]] = m[2] ?? "";
  }
  return { variables };
}

const RESULT_STYLES: Record<ImportItemResult["result"], string> = {
  created: "bg-emerald-100 text-emerald-950 dark:bg-emerald-500/15 dark:text-emerald-100",
  updated: "bg-sky-100 text-sky-950 dark:bg-sky-500/15 dark:text-sky-100",
  unchanged: "bg-slate-100 text-slate-800 dark:bg-white/10 dark:text-slate-200",
  skipped: "bg-amber-100 text-amber-950 dark:bg-amber-500/15 dark:text-amber-100",
};

/**
 * Import servers from server.json (pasted or uploaded) or from a registry's URL: a preview (a dry
 * run, with what would become of each document), then the import itself, for what was previewed.
 */
export function ImportPage() {
  const { canManage } = useSession();
  const { importDocuments, importRegistry } = useRegistryMutations();
  const [source, setSource] = useState<Source>("json");
  const [json, setJson] = useState("");
  const [url, setUrl] = useState("");
  const [search, setSearch] = useState("");
  const [limit, setLimit] = useState(String(REGISTRY_IMPORT_LIMIT_DEFAULT));
  const [variablesText, setVariablesText] = useState("");
  const [error, setError] = useState<{ message: string; issues: { path: string; message: string }[] } | null>(
    null,
  );
  // The preview holds the request it previewed: confirming imports exactly that.
  const [preview, setPreview] = useState<{ key: string; result: ImportResult | RegistryImportResult } | null>(
    null,
  );
  const [done, setDone] = useState<ImportResult | RegistryImportResult | null>(null);
  const busy = importDocuments.isPending || importRegistry.isPending;

  const request = ():
    | { key: string; run: (dryRun: boolean) => Promise<ImportResult | RegistryImportResult> }
    | string => {
    const vars = parseVariables(variablesText);
    if ("error" in vars) return `Variables: ${vars.error}`;
    const { variables } = vars;
    const hasVariables = Object.keys(variables).length > 0;
    if (source === "registry") {
      if (!url.trim()) return "Enter the registry's URL";
      const n = Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > MAX_IMPORT_ITEMS)
        return `Read between 1 and ${MAX_IMPORT_ITEMS} servers`;
      const input = {
        url: url.trim(),
        limit: n,
        ...(search.trim() ? { search: search.trim() } : {}),
        ...(hasVariables ? { variables } : {}),
      };
      return {
        key: JSON.stringify(["registry", input]),
        run: (dryRun) => importRegistry.mutateAsync({ input, dryRun }),
      };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      return `The text is not JSON: ${(err as Error).message}`;
    }
    const body = hasVariables ? { source: parsed, variables } : parsed;
    return {
      key: JSON.stringify(["json", body]),
      run: (dryRun) => importDocuments.mutateAsync({ body, dryRun }),
    };
  };

  const fail = (err: unknown) => {
    const issues = err instanceof ApiError ? (err.problem.issues ?? []) : [];
    setError({ message: describeError(err), issues });
  };

  const runPreview = async () => {
    setError(null);
    setDone(null);
    setPreview(null);
    const r = request();
    if (typeof r === "string") return setError({ message: r, issues: [] });
    try {
      setPreview({ key: r.key, result: await r.run(true) });
    } catch (err) {
      fail(err);
    }
  };

  const confirm = async () => {
    const r = request();
    if (typeof r === "string" || !preview || r.key !== preview.key) return;
    try {
      const result = await r.run(false);
      setDone(result);
      setPreview(null);
      const c = result.counts;
      toast.success(
        `Imported: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped`,
      );
    } catch (err) {
      fail(err);
      toast.error(describeError(err));
    }
  };

  const upload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    setJson(await file.text());
    setPreview(null);
  };

  if (!canManage) {
    return (
      <Panel title="Import servers">
        <p className="text-sm">Only owners and admins of the organization can import servers.</p>
      </Panel>
    );
  }
  const current = request();
  const stale = preview !== null && (typeof current === "string" || current.key !== preview.key);

  return (
    <div className="space-y-5">
      <Panel
        title="Import servers"
        actions={
          <Link href="/" className="text-sm underline">
            Back to servers
          </Link>
        }
      >
        <p className="mb-4 text-sm text-slate-600 dark:text-slate-400">
          From server.json documents (one, a list, or a registry page) or from a registry of the official
          /v0.1 API. Servers with only local packages (npm, pypi, oci, …) are not imported: Switchboard
          manages remote servers. A server is matched on its registry name: an existing one is updated, a new
          one created.
        </p>
        <fieldset className="mb-4 flex flex-wrap gap-4 text-sm">
          <legend className="sr-only">Source</legend>
          <label className="flex items-center gap-2">
            <input
              type="radio"
              name="source"
              checked={source === "json"}
              onChange={() => setSource("json")}
            />
            Paste or upload JSON
          </label>
          <label className="flex items-center gap-2">
            <input
              type="radio"
              name="source"
              checked={source === "registry"}
              onChange={() => setSource("registry")}
            />
            From a registry URL
          </label>
        </fieldset>

        {source === "json" ? (
          <div className="grid gap-3">
            <Field
              id="import-json"
              label="server.json"
              hint="A document, a list of documents, or a /v0.1 page"
            >
              <textarea
                id="import-json"
                rows={10}
                className="field font-mono text-xs"
                value={json}
                onChange={(e) => setJson(e.target.value)}
                spellCheck={false}
              />
            </Field>
            <Field id="import-file" label="Or upload a file">
              <input
                id="import-file"
                type="file"
                accept="application/json,.json"
                onChange={upload}
                className="text-sm"
              />
            </Field>
          </div>
        ) : (
          <div className="grid gap-3 md:grid-cols-3">
            <div className="md:col-span-3">
              <Field
                id="import-url"
                label="Registry URL"
                hint="e.g. https://registry.example.com (its /v0.1/servers is read)"
              >
                <Input id="import-url" type="url" value={url} onChange={(e) => setUrl(e.target.value)} />
              </Field>
            </div>
            <Field id="import-search" label="Search (optional)">
              <Input id="import-search" value={search} onChange={(e) => setSearch(e.target.value)} />
            </Field>
            <Field id="import-limit" label="At most (servers)">
              <Input
                id="import-limit"
                type="number"
                min={1}
                max={MAX_IMPORT_ITEMS}
                value={limit}
                onChange={(e) => setLimit(e.target.value)}
              />
            </Field>
          </div>
        )}
        <div className="mt-3">
          <Field
            id="import-variables"
            label="Variables (optional)"
            hint="name=value per line: fills {name} in remote URLs and header values (e.g. tenant_id=acme)"
          >
            <textarea
              id="import-variables"
              rows={2}
              className="field font-mono text-xs"
              value={variablesText}
              onChange={(e) => setVariablesText(e.target.value)}
            />
          </Field>
        </div>

        <div className="mt-4 flex flex-wrap items-center gap-2">
          <Button variant="secondary" busy={busy && !preview} onClick={runPreview}>
            Preview
          </Button>
          <Button busy={busy && !!preview} disabled={!preview || stale} onClick={confirm}>
            Confirm import
          </Button>
          {stale && <span className="text-xs">The input changed since the preview: preview again.</span>}
        </div>
        {error && (
          <div className="mt-4">
            <ErrorState error={error.message} />
            {error.issues.length > 0 && (
              <ul className="mt-2 list-disc pl-5 text-xs" aria-label="Problems">
                {error.issues.map((i) => (
                  <li key={`${i.path}:${i.message}`}>
                    <code>{i.path}</code>: {i.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </Panel>

      {preview && <Results title="Preview (nothing written yet)" result={preview.result} />}
      {done && <Results title="Imported" result={done} />}
      <CatalogPanel />
    </div>
  );
}

function Results({ title, result }: { title: string; result: ImportResult | RegistryImportResult }) {
  const c = result.counts;
  const registry = "pages" in result ? result : null;
  return (
    <Panel title={title}>
      <p className="mb-3 text-sm" data-counts>
        {c.created} created · {c.updated} updated · {c.unchanged} unchanged · {c.skipped} skipped
        {registry && ` · ${registry.pages} page${registry.pages === 1 ? "" : "s"} read`}
        {registry?.truncated && " · the registry has more: raise the limit or narrow the search"}
      </p>
      {/* Focusable, so that a keyboard can scroll the table sideways on a narrow screen. */}
      <section
        className="overflow-x-auto rounded focus-visible:outline-2 focus-visible:outline-indigo-500"
        aria-label="Results, one row per document"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to scroll by keyboard
        tabIndex={0}
      >
        <table className="w-full text-left text-sm">
          <thead>
            <tr className="border-b border-slate-900/10 text-xs uppercase tracking-wide text-slate-600 dark:border-white/10 dark:text-slate-400">
              <th className="px-2 py-2 font-medium">#</th>
              <th className="px-2 py-2 font-medium">Registry name</th>
              <th className="px-2 py-2 font-medium">Result</th>
              <th className="px-2 py-2 font-medium">Server</th>
              <th className="px-2 py-2 font-medium">Details</th>
            </tr>
          </thead>
          <tbody>
            {result.items.map((i) => (
              <tr
                key={i.index}
                data-result={i.result}
                className="border-b border-slate-900/5 align-top dark:border-white/5"
              >
                <td className="px-2 py-2">{i.index + 1}</td>
                <td className="px-2 py-2 break-all">{i.registryName ?? "—"}</td>
                <td className="px-2 py-2">
                  <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${RESULT_STYLES[i.result]}`}>
                    {i.result}
                  </span>
                </td>
                <td className="px-2 py-2">
                  {i.serverId ? (
                    <Link href={`/servers/${i.serverId}`} className="underline">
                      {i.name}
                    </Link>
                  ) : (
                    (i.name ?? "—")
                  )}
                </td>
                <td className="px-2 py-2 text-xs">
                  {i.reason}
                  {i.missingVariables.length > 0 && ` Missing: ${i.missingVariables.join(", ")}.`}
                  {i.needsConfiguration && (
                    <span className="rounded bg-amber-100 px-1.5 py-0.5 font-medium text-amber-950 dark:bg-amber-500/15 dark:text-amber-100">
                      needs configuration
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Panel>
  );
}

/** The organization's catalog: its URL (for VS Code's gallery), namespace and whether it is public. */
function CatalogPanel() {
  const settings = useRegistrySettings();
  const { updateSettings } = useRegistryMutations();
  const [namespace, setNamespace] = useState<string | null>(null);
  if (settings.isPending) return <Spinner label="Loading catalog settings…" />;
  if (settings.isError)
    return <ErrorState error={describeError(settings.error)} retry={() => settings.refetch()} />;
  const s = settings.data;
  const save = async (input: { namespace?: string | null; catalogPublic?: boolean }) => {
    try {
      await updateSettings.mutateAsync(input);
      setNamespace(null);
      toast.success("Catalog settings saved");
    } catch (err) {
      toast.error(describeError(err));
    }
  };
  return (
    <Panel title="Catalog">
      <p className="text-sm">
        Your organization's servers, as a registry of the official /v0.1 API:{" "}
        <code className="break-all" data-catalog-url>
          {s.catalogUrl}
        </code>
        . Point VS Code at it with <code>"chat.mcp.gallery.serviceUrl": "{s.catalogUrl}"</code>; each entry
        connects through Switchboard's gateway with an mcp_ key.
      </p>
      <div className="mt-3 grid gap-3 md:grid-cols-[1fr_auto] md:items-end">
        <Field
          id="catalog-namespace"
          label="Namespace"
          hint="Registry names are namespace/server, e.g. com.acme/weather"
        >
          <Input
            id="catalog-namespace"
            value={namespace ?? s.namespace}
            onChange={(e) => setNamespace(e.target.value)}
          />
        </Field>
        <Button
          variant="secondary"
          busy={updateSettings.isPending}
          disabled={namespace === null || namespace === s.namespace}
          onClick={() => save({ namespace: namespace?.trim() ? namespace.trim() : null })}
        >
          Save namespace
        </Button>
      </div>
      <label className="mt-3 flex items-center gap-2 text-sm">
        <input
          type="checkbox"
          className="h-4 w-4"
          checked={s.catalogPublic}
          onChange={(e) => save({ catalogPublic: e.target.checked })}
        />
        Public: anyone may read the catalog (names, descriptions, gateway URLs), without a session or key
      </label>
    </Panel>
  );
}
