import { AuditAction, type AuditLog, type AuditLogPage, PAGE_SIZE_DEFAULT } from "@switchboard/shared";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { Button, EmptyState, ErrorState, Input, Panel, Spinner } from "../../components/ui";
import { api, describeError } from "../../lib/api";
import { dateTime } from "../../lib/format";
import { useSession } from "../session/session";
import { type DiffView, diffView } from "./diff-view";

/** The filters, as the URL and the API both name them; `from` and `to` are ISO instants. */
const FILTER_KEYS = ["action", "actorId", "targetId", "from", "to"] as const;
type Filters = Record<(typeof FILTER_KEYS)[number], string>;
const EMPTY: Filters = { action: "", actorId: "", targetId: "", from: "", to: "" };

interface Member {
  id: string;
  user: { id: string; email: string; name: string };
}

/** A link that looks like a secondary button (a download the browser makes, with the session cookie). */
const LINK_BUTTON =
  "inline-flex items-center justify-center rounded-lg border border-slate-300 bg-white/70 px-3 py-2 text-sm font-medium text-slate-800 hover:bg-white dark:border-slate-600 dark:bg-slate-800/70 dark:text-slate-100 dark:hover:bg-slate-700";

/** "1 entry", "2 entries". */
export const entries = (n: number) => `${n.toLocaleString()} ${n === 1 ? "entry" : "entries"}`;

/** An ISO instant as a `datetime-local` input shows it, in the browser's time zone. */
function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const fromLocalInput = (local: string) => (local ? new Date(local).toISOString() : "");

/** The filters that are set, as query parameters (the list's and the export's). */
function filterParams(filters: Filters): URLSearchParams {
  const params = new URLSearchParams();
  for (const k of FILTER_KEYS) if (filters[k]) params.set(k, filters[k]);
  return params;
}

/**
 * The page's filters and page number live in the URL, so that a reload, the back button and a
 * shared link show the same entries. Each new filter or page is a history entry of its own.
 */
function useUrlFilters() {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const params = useMemo(() => new URLSearchParams(search), [search]);
  const filters = useMemo(
    () => Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k)?.trim() ?? ""])) as Filters,
    [params],
  );
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "", 10) || 1);
  const go = (next: Filters, nextPage = 1) => {
    const qs = filterParams(next);
    if (nextPage > 1) qs.set("page", String(nextPage));
    const s = qs.toString();
    navigate(`${location}${s ? `?${s}` : ""}`);
  };
  return { filters, page, go };
}

export function AuditPage() {
  const { activeOrganization } = useSession();
  const { filters, page, go } = useUrlFilters();
  const [draft, setDraft] = useState<Filters>(filters);
  // The URL changed under the form (back, forward, a link): the form shows what is applied.
  useEffect(() => setDraft(filters), [filters]);

  const filtered = filterParams(filters);
  const params = new URLSearchParams(filtered);
  params.set("page", String(page));
  params.set("pageSize", String(PAGE_SIZE_DEFAULT));
  const query = useQuery({
    queryKey: ["audit", params.toString()],
    queryFn: () => api<AuditLogPage>(`/mcp/audit-logs?${params}`),
    placeholderData: (p) => p,
  });
  // The same query (and cache) as the members page: the people who can have acted here.
  const members = useQuery({
    queryKey: ["members", activeOrganization?.id],
    queryFn: () => api<{ members: Member[] }>("/api/auth/organization/get-full-organization"),
    enabled: Boolean(activeOrganization),
  });
  const people = members.data?.members ?? [];
  const total = query.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE_DEFAULT));
  const exportHref = (format: "csv" | "jsonl") => {
    const p = new URLSearchParams(filtered);
    p.set("format", format);
    return `/mcp/audit/export?${p}`;
  };

  return (
    <Panel
      title="Audit log"
      actions={
        <>
          <a className={LINK_BUTTON} href={exportHref("csv")} download>
            Export CSV
          </a>
          <a className={LINK_BUTTON} href={exportHref("jsonl")} download>
            Export JSON lines
          </a>
        </>
      }
    >
      <form
        className="mb-4 grid gap-2 sm:grid-cols-2 lg:grid-cols-6"
        onSubmit={(e) => {
          e.preventDefault();
          go(draft);
        }}
      >
        <label htmlFor="audit-action">
          <span className="sr-only">Action</span>
          <select
            id="audit-action"
            className="field"
            value={draft.action}
            onChange={(e) => setDraft({ ...draft, action: e.target.value })}
          >
            <option value="">Any action</option>
            {AuditAction.options.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label htmlFor="audit-actor">
          <span className="sr-only">Actor</span>
          <select
            id="audit-actor"
            className="field"
            value={draft.actorId}
            onChange={(e) => setDraft({ ...draft, actorId: e.target.value })}
          >
            <option value="">Anyone</option>
            {people.map((m) => (
              <option key={m.user.id} value={m.user.id}>
                {m.user.name} ({m.user.email})
              </option>
            ))}
            {/* An actor from the URL who is not a member now (a key, Switchboard, someone removed). */}
            {draft.actorId && !people.some((m) => m.user.id === draft.actorId) && (
              <option value={draft.actorId}>{actorLabelFor(draft.actorId, query.data?.items)}</option>
            )}
          </select>
        </label>
        <label htmlFor="audit-targetId">
          <span className="sr-only">Target id</span>
          <Input
            id="audit-targetId"
            placeholder="Target id"
            value={draft.targetId}
            onChange={(e) => setDraft({ ...draft, targetId: e.target.value })}
          />
        </label>
        <label htmlFor="audit-from">
          <span className="sr-only">From</span>
          <Input
            id="audit-from"
            type="datetime-local"
            value={toLocalInput(draft.from)}
            onChange={(e) => setDraft({ ...draft, from: fromLocalInput(e.target.value) })}
          />
        </label>
        <label htmlFor="audit-to">
          <span className="sr-only">To</span>
          <Input
            id="audit-to"
            type="datetime-local"
            value={toLocalInput(draft.to)}
            onChange={(e) => setDraft({ ...draft, to: fromLocalInput(e.target.value) })}
          />
        </label>
        <div className="flex gap-2">
          <Button type="submit">Filter</Button>
          <Button variant="ghost" onClick={() => go(EMPTY)}>
            Clear
          </Button>
        </div>
      </form>

      {query.isPending ? (
        <Spinner label="Loading the audit log…" />
      ) : query.isError ? (
        <ErrorState error={describeError(query.error)} retry={() => query.refetch()} />
      ) : query.data.items.length === 0 ? (
        <EmptyState title="Nothing recorded matches these filters" />
      ) : (
        <ol className="divide-y divide-slate-900/10 dark:divide-white/10">
          {query.data.items.map((entry) => (
            <AuditEntry key={entry.id} entry={entry} />
          ))}
        </ol>
      )}
      <div className="mt-4 flex flex-wrap items-center justify-between gap-2 text-sm">
        <span data-testid="audit-total">
          {entries(total)} · page {page} of {pages}
        </span>
        <div className="flex gap-2">
          <Button variant="ghost" disabled={page <= 1} onClick={() => go(filters, page - 1)}>
            Previous
          </Button>
          <Button variant="ghost" disabled={page >= pages} onClick={() => go(filters, page + 1)}>
            Next
          </Button>
        </div>
      </div>
    </Panel>
  );
}

/** What the picker calls an actor who is not a member now: their name if an entry knows it. */
function actorLabelFor(actorId: string, items: AuditLog[] | undefined): string {
  const known = items?.find((i) => i.actorId === actorId);
  return known ? actorText(known) : actorId;
}

const ACTOR_KINDS: Record<AuditLog["actorType"], string> = {
  user: "",
  api_key: "API key ",
  system: "Switchboard: ",
};

function actorText(entry: AuditLog): string {
  return `${ACTOR_KINDS[entry.actorType]}${entry.actorName ?? entry.actorId ?? "unknown"}`;
}

/** Targets whose rows are deleted with them: one that is gone says so. */
const DELETABLE = new Set(["server", "api_key"]);
const TARGET_KINDS: Record<string, string> = { api_key: "API key" };

function Target({ entry }: { entry: AuditLog }) {
  const kind = TARGET_KINDS[entry.targetType] ?? entry.targetType;
  const name = entry.targetName ?? entry.targetId;
  if (!name) return <span>{kind}</span>;
  const label = entry.targetName ? (
    <span className="font-medium">{name}</span>
  ) : (
    <code className="text-xs">{name}</code>
  );
  return (
    <span>
      {kind}{" "}
      {entry.targetType === "server" && entry.targetExists && entry.targetId ? (
        <Link
          href={`/servers/${entry.targetId}`}
          className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
        >
          {name}
        </Link>
      ) : (
        label
      )}
      {DELETABLE.has(entry.targetType) && !entry.targetExists && (
        <span className="text-slate-600 dark:text-slate-400"> (deleted)</span>
      )}
    </span>
  );
}

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** One entry: who did what to what, and what the change changed. */
function AuditEntry({ entry }: { entry: AuditLog }) {
  const view = diffView(entry.changes);
  return (
    <li data-action={entry.action} className="py-3 text-sm">
      <div className="flex flex-wrap items-baseline gap-x-3">
        <code className="font-semibold">{entry.action}</code>
        <Target entry={entry} />
        <span className="text-slate-600 dark:text-slate-400">
          by <span className="font-medium text-slate-800 dark:text-slate-200">{actorText(entry)}</span>
          {entry.actorEmail && entry.actorEmail !== entry.actorName ? ` (${entry.actorEmail})` : ""} ·{" "}
          {dateTime(entry.createdAt)}
          {entry.ip ? ` · ${entry.ip}` : ""}
        </span>
      </div>
      {view && <Changes view={view} />}
    </li>
  );
}

const muted = "text-left text-slate-600 dark:text-slate-400";

function Changes({ view }: { view: DiffView }) {
  return (
    <details className="mt-1">
      <summary className="cursor-pointer text-indigo-700 dark:text-indigo-300">
        {view.changed.length > 0 ? "Changes" : "Details"}
      </summary>
      {view.changed.length > 0 && (
        <table className="mt-1 w-full text-xs">
          <thead>
            <tr className={muted}>
              <th className="pr-2 font-medium">Field</th>
              <th className="pr-2 font-medium">Before</th>
              <th className="font-medium">After</th>
            </tr>
          </thead>
          <tbody>
            {view.changed.map(({ field, from, to }) => (
              <tr key={field} className="align-top">
                <td className="pr-2 font-medium">{field}</td>
                <td className="break-all pr-2 text-rose-800 dark:text-rose-300">{show(from)}</td>
                <td className="break-all text-emerald-800 dark:text-emerald-300">{show(to)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {view.recorded.length > 0 && (
        <table className="mt-1 w-full text-xs">
          <thead>
            <tr className={muted}>
              <th className="pr-2 font-medium">Field</th>
              <th className="font-medium">Value</th>
            </tr>
          </thead>
          <tbody>
            {view.recorded.map(({ field, value }) => (
              <tr key={field} className="align-top">
                <td className="pr-2 font-medium">{field}</td>
                <td className="break-all">{show(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
