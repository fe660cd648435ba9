import {
  EnabledFilter,
  HealthStatus,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_OPTIONS,
  type ServerSortField,
  type ServerSummary,
  Transport,
} from "@switchboard/shared";
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  type RowSelectionState,
  type SortingState,
  useReactTable,
} from "@tanstack/react-table";
import { createContext, lazy, Suspense, useContext, useEffect, useMemo, useRef, useState } from "react";
import toast from "react-hot-toast/headless";
import { Link, useLocation, useSearch } from "wouter";
import { Button, EmptyState, ErrorState, Panel, Spinner } from "../../components/ui";
import { describeError } from "../../lib/api";
import { TRANSPORT_LABELS, timeAgo } from "../../lib/format";
import { STATUS_LABELS } from "../../lib/health-words";
import { downloadExport } from "../registry/queries";
import { useSession } from "../session/session";
import { CheckLag } from "./check-lag";
import { Reason } from "./health-reason";
import { NeedsConfigurationBadge } from "./needs-configuration";
import { useServers, useServerUptime } from "./queries";
import { ServerState } from "./server-state";
import { StatusCounts } from "./status-counts";
import { StatusTiming } from "./status-timing";
import { LatencyCell, UptimeCell, type UptimeState } from "./uptime-cell";

// Its forms (tags) and dialogs load with the first selection, not with every visit to the list.
const BulkBar = lazy(() => import("./bulk-bar").then((m) => ({ default: m.BulkBar })));

const FILTERS = ["q", "status", "transport", "tag", "enabled", "drifted"] as const;

const option = (value: string, name = value) => ({ value, name });

const DRIFTED_LABELS: Record<(typeof EnabledFilter.options)[number], string> = {
  true: "changed since approval",
  false: "no unapproved change",
};

/** The select filters: the query parameter, its label, and every value the API accepts, named. */
const SELECTS = [
  { key: "status", label: "Health", options: HealthStatus.options.map((o) => option(o, STATUS_LABELS[o])) },
  {
    key: "transport",
    label: "Transport",
    options: Transport.options.map((o) => option(o, TRANSPORT_LABELS[o])),
  },
  { key: "enabled", label: "Enabled", options: EnabledFilter.options.map((o) => option(o)) },
  {
    key: "drifted",
    label: "Tools",
    options: EnabledFilter.options.map((o) => option(o, DRIFTED_LABELS[o])),
  },
] as const;

/** The URL's page size if the select offers it, else the default: the select shows what is asked. */
const pageSizeOf = (raw: string | null) =>
  PAGE_SIZE_OPTIONS.find((n) => String(n) === raw) ?? PAGE_SIZE_DEFAULT;

/**
 * The table's state lives in the URL, so a view can be shared and survives a reload. Each change
 * is a new history entry, so Back undoes it; `replace` rewrites the current one instead.
 */
function useUrlState() {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const params = useMemo(() => new URLSearchParams(search), [search]);
  const set = (changes: Record<string, string | null>, { replace = false } = {}) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === "") next.delete(k);
      else next.set(k, v);
    }
    if (!("page" in changes)) next.delete("page");
    const qs = next.toString();
    if (qs === params.toString()) return qs;
    navigate(`${location}${qs ? `?${qs}` : ""}`, { replace });
    return qs;
  };
  return { params, set };
}

/**
 * The search box: it follows the URL (Back, a shared link) and writes to it a moment after typing
 * stops. The first write of a search is a history entry of its own; the ones after it, while the
 * URL still holds that search, rewrite it, so Back undoes the search, not each keystroke.
 */
function useSearchBox({ params, set }: ReturnType<typeof useUrlState>) {
  const inUrl = params.get("q") ?? "";
  const [q, setQ] = useState(inUrl);
  const [seen, setSeen] = useState(inUrl);
  if (inUrl !== seen) {
    setSeen(inUrl);
    setQ(inUrl);
  }
  /** The query string the last search write left, to know whether the URL still holds it. */
  const written = useRef<string | null>(null);
  useEffect(() => {
    if (q === inUrl) return;
    const t = setTimeout(() => {
      written.current = set({ q }, { replace: written.current === params.toString() });
    }, 300);
    return () => clearTimeout(t);
  });
  return [q, setQ] as const;
}

/**
 * A column the API sorts by. TanStack Table sorts only a column with an accessor; the rows come
 * sorted from the API, so the accessor only marks the column sortable under the API's field name.
 */
const sortedBy = (field: ServerSortField & keyof ServerSummary) => ({ id: field, accessorKey: field });

const ARIA_SORT = { asc: "ascending", desc: "descending", none: "none" } as const;

/** Each row's uptime, fetched after the list: cells read it here, so the columns stay constant. */
const UptimeContext = createContext<(id: string) => UptimeState>(() => ({
  uptime: undefined,
  pending: true,
  failed: false,
}));

function RowUptime({ id, window }: { id: string; window: "24h" | "7d" }) {
  return <UptimeCell state={useContext(UptimeContext)(id)} window={window} />;
}

function RowLatency({ id }: { id: string }) {
  return <LatencyCell state={useContext(UptimeContext)(id)} />;
}

/** A checkbox that can show "some selected". */
function Checkbox({
  label,
  checked,
  indeterminate = false,
  onChange,
}: {
  label: string;
  checked: boolean;
  indeterminate?: boolean;
  onChange: (e: unknown) => void;
}) {
  return (
    <input
      type="checkbox"
      aria-label={label}
      className="h-4 w-4"
      checked={checked}
      ref={(el) => {
        if (el) el.indeterminate = indeterminate;
      }}
      onChange={onChange}
    />
  );
}

/**
 * At phone width a row keeps what tells whether a server is well (name, health, the last day's
 * uptime); the rest shows on wider screens.
 */
const RESPONSIVE: Record<string, string> = {
  uptime7d: "hidden sm:table-cell",
  latency: "hidden md:table-cell",
  tags: "hidden md:table-cell",
  transport: "hidden lg:table-cell",
  lastCheckedAt: "hidden lg:table-cell",
  updatedAt: "hidden lg:table-cell",
};

const columns: ColumnDef<ServerSummary>[] = [
  {
    id: "select",
    header: ({ table }) => (
      <Checkbox
        label="Select all servers on this page"
        checked={table.getIsAllPageRowsSelected()}
        indeterminate={table.getIsSomePageRowsSelected()}
        onChange={table.getToggleAllPageRowsSelectedHandler()}
      />
    ),
    cell: ({ row }) => (
      <Checkbox
        label={`Select ${row.original.displayName}`}
        checked={row.getIsSelected()}
        onChange={row.getToggleSelectedHandler()}
      />
    ),
  },
  {
    ...sortedBy("name"),
    header: "Name",
    cell: ({ row }) => (
      <div>
        <div className="flex flex-wrap items-center gap-x-2">
          <Link
            href={`/servers/${row.original.id}`}
            className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
          >
            {row.original.displayName}
          </Link>
          {row.original.needsConfiguration && <NeedsConfigurationBadge />}
          {row.original.pinned && row.original.drifted && (
            <span
              data-drifted
              title="The tools changed since an admin approved them: the gateway refuses the new ones until approved"
              className="rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-950 dark:bg-amber-500/15 dark:text-amber-100"
            >
              tools changed
            </span>
          )}
        </div>
        <div className="text-xs text-slate-600 dark:text-slate-400">{row.original.name}</div>
      </div>
    ),
  },
  {
    ...sortedBy("status"),
    header: "Health",
    cell: ({ row }) => (
      <div className="space-y-0.5">
        <ServerState server={row.original} />
        {row.original.enabled && (
          <div className="text-xs text-slate-600 dark:text-slate-400">
            {row.original.lastCheckedAt
              ? `${timeAgo(row.original.lastCheckedAt)} · ${row.original.lastLatencyMs ?? "—"} ms`
              : "not checked yet"}
            {row.original.lastError && row.original.status !== "healthy" && (
              <>
                {" · "}
                <Reason code={row.original.lastError} />
              </>
            )}
          </div>
        )}
        <StatusTiming server={row.original} />
      </div>
    ),
  },
  {
    id: "uptime24h",
    header: "Uptime 24 h",
    cell: ({ row }) => <RowUptime id={row.original.id} window="24h" />,
  },
  {
    id: "uptime7d",
    header: "Uptime 7 d",
    cell: ({ row }) => <RowUptime id={row.original.id} window="7d" />,
  },
  {
    id: "latency",
    header: "Latency 24 h",
    cell: ({ row }) => <RowLatency id={row.original.id} />,
  },
  {
    id: "transport",
    header: "Transport",
    cell: ({ row }) => <span className="text-sm">{TRANSPORT_LABELS[row.original.transport]}</span>,
  },
  {
    id: "tags",
    header: "Tags",
    cell: ({ row }) => (
      <div className="flex flex-wrap gap-1">
        {row.original.tags.map((t) => (
          <span key={t} className="rounded bg-slate-900/5 px-1.5 py-0.5 text-xs dark:bg-white/10">
            {t}
          </span>
        ))}
      </div>
    ),
  },
  {
    ...sortedBy("lastCheckedAt"),
    header: "Last checked",
    cell: ({ row }) => <span className="text-sm">{timeAgo(row.original.lastCheckedAt)}</span>,
  },
  {
    ...sortedBy("updatedAt"),
    header: "Updated",
    cell: ({ row }) => <span className="text-sm">{timeAgo(row.original.updatedAt)}</span>,
  },
];

export function ServersPage({ live }: { live: boolean }) {
  const { canManage } = useSession();
  const url = useUrlState();
  const { params, set } = url;
  const page = Number(params.get("page") ?? "1") || 1;
  const pageSize = pageSizeOf(params.get("pageSize"));
  const sort = params.get("sort") ?? "name";
  const [q, setQ] = useSearchBox(url);

  const apiSearch = useMemo(() => {
    const s = new URLSearchParams({ page: String(page), pageSize: String(pageSize), sort });
    for (const f of FILTERS) {
      const v = params.get(f);
      if (v) s.set(f, v);
    }
    return `?${s}`;
  }, [params, page, pageSize, sort]);
  const query = useServers(apiSearch, live);
  const rows = query.data?.items;
  const ids = useMemo(() => (rows ?? []).map((s) => s.id), [rows]);
  const uptime = useServerUptime(ids, query.dataUpdatedAt);
  const uptimeOf = (id: string): UptimeState => {
    const hit = uptime.data?.get(id);
    return {
      uptime: hit,
      // A row the previous page's numbers do not cover waits for its own.
      pending: !hit && (uptime.isPending || uptime.isPlaceholderData),
      failed: uptime.isError,
    };
  };

  // A selection belongs to the rows it was made on: another page, filter or order starts afresh.
  const [rowSelection, setRowSelection] = useState<RowSelectionState>({});
  const [selectedOn, setSelectedOn] = useState(apiSearch);
  if (selectedOn !== apiSearch) {
    setSelectedOn(apiSearch);
    setRowSelection({});
  }

  const sorting: SortingState = [{ id: sort.replace(/^-/, ""), desc: sort.startsWith("-") }];
  const table = useReactTable({
    data: rows ?? [],
    columns,
    getRowId: (s) => s.id,
    manualSorting: true,
    manualPagination: true,
    // Members read: no checkboxes, no bulk actions.
    enableRowSelection: canManage,
    onRowSelectionChange: setRowSelection,
    state: { sorting, rowSelection, columnVisibility: { select: canManage } },
    // One order at a time, as the API takes it: a click sorts ascending, the next one flips it.
    enableMultiSort: false,
    enableSortingRemoval: false,
    sortDescFirst: false,
    onSortingChange: (updater) => {
      const next = typeof updater === "function" ? updater(sorting) : updater;
      const first = next[0];
      set({ sort: first ? `${first.desc ? "-" : ""}${first.id}` : null });
    },
    getCoreRowModel: getCoreRowModel(),
  });
  const selected = canManage ? table.getSelectedRowModel().rows.map((r) => r.original) : [];
  const total = query.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const [exporting, setExporting] = useState(false);
  const exportAll = async () => {
    setExporting(true);
    try {
      const n = await downloadExport();
      toast.success(`Exported ${n} server${n === 1 ? "" : "s"} as server.json`);
    } catch (err) {
      toast.error(describeError(err));
    } finally {
      setExporting(false);
    }
  };

  return (
    <Panel
      title="MCP servers"
      actions={
        <>
          <Button variant="secondary" busy={exporting} onClick={exportAll}>
            Export
          </Button>
          {canManage && (
            <Link
              href="/servers/import"
              className="rounded-lg border border-slate-300 bg-white/70 px-3 py-2 text-sm font-medium dark:border-slate-600 dark:bg-slate-800/70"
            >
              Import
            </Link>
          )}
          {canManage && (
            <Link
              href="/servers/new"
              className="rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700 dark:bg-indigo-400 dark:hover:bg-indigo-300 dark:text-slate-950"
            >
              Register server
            </Link>
          )}
        </>
      }
    >
      <CheckLag />
      <StatusCounts params={params} onFilter={(filter) => set(filter)} />
      <div className="mb-4 grid gap-2 sm:grid-cols-2 lg:grid-cols-6">
        <label className="lg:col-span-2">
          <span className="sr-only">Search</span>
          <input
            aria-label="Search"
            className="field"
            type="search"
            placeholder="Search name, description, tags…"
            value={q}
            onChange={(e) => setQ(e.target.value)}
          />
        </label>
        {SELECTS.map(({ key, label, options }) => (
          <label key={key}>
            <span className="sr-only">{label}</span>
            <select
              aria-label={label}
              className="field"
              value={params.get(key) ?? ""}
              onChange={(e) => set({ [key]: e.target.value })}
            >
              <option value="">{label}: any</option>
              {options.map(({ value, name }) => (
                <option key={value} value={value}>
                  {label}: {name}
                </option>
              ))}
            </select>
          </label>
        ))}
        {params.get("tag") && (
          <button type="button" className="text-left text-sm underline" onClick={() => set({ tag: null })}>
            Tag: {params.get("tag")} ✕
          </button>
        )}
      </div>

      {selected.length > 0 && (
        <Suspense fallback={null}>
          <BulkBar selected={selected} onDone={() => setRowSelection({})} />
        </Suspense>
      )}
      {query.isPending ? (
        <Spinner label="Loading servers…" />
      ) : query.isError ? (
        <ErrorState error={describeError(query.error)} retry={() => query.refetch()} />
      ) : total === 0 ? (
        <EmptyState title={params.toString() ? "No server matches these filters" : "No MCP servers yet"}>
          {canManage && !params.toString() ? (
            <Link href="/servers/new" className="underline">
              Register your first server
            </Link>
          ) : null}
        </EmptyState>
      ) : (
        <div className="overflow-x-auto">
          <UptimeContext value={uptimeOf}>
            <table className="w-full text-left">
              <thead>
                {table.getHeaderGroups().map((g) => (
                  <tr
                    key={g.id}
                    className="border-b border-slate-900/10 text-xs uppercase tracking-wide text-slate-600 dark:border-white/10 dark:text-slate-400"
                  >
                    {g.headers.map((h) => {
                      const sortable = h.column.getCanSort();
                      const dir = h.column.getIsSorted();
                      return (
                        <th
                          key={h.id}
                          className={`px-2 py-2 font-medium ${RESPONSIVE[h.column.id] ?? ""}`}
                          aria-sort={sortable ? ARIA_SORT[dir || "none"] : undefined}
                        >
                          {sortable ? (
                            <button
                              type="button"
                              className="inline-flex items-center gap-1 uppercase"
                              onClick={h.column.getToggleSortingHandler()}
                            >
                              {flexRender(h.column.columnDef.header, h.getContext())}
                              <span aria-hidden>{dir === "asc" ? "▲" : dir === "desc" ? "▼" : "↕"}</span>
                            </button>
                          ) : (
                            flexRender(h.column.columnDef.header, h.getContext())
                          )}
                        </th>
                      );
                    })}
                  </tr>
                ))}
              </thead>
              <tbody>
                {table.getRowModel().rows.map((row) => (
                  <tr
                    key={row.id}
                    data-server={row.original.name}
                    className="border-b border-slate-900/5 align-top dark:border-white/5"
                  >
                    {row.getVisibleCells().map((cell) => (
                      <td key={cell.id} className={`px-2 py-2 ${RESPONSIVE[cell.column.id] ?? ""}`}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </UptimeContext>
        </div>
      )}

      <div className="mt-4 flex flex-wrap items-center justify-between gap-2 text-sm">
        <span>
          {total} server{total === 1 ? "" : "s"} · page {Math.min(page, pages)} of {pages}
          {query.isFetching && !query.isPending ? " · refreshing…" : ""}
        </span>
        <div className="flex items-center gap-2">
          <label>
            <span className="sr-only">Page size</span>
            <select
              aria-label="Page size"
              className="field w-auto py-1"
              value={pageSize}
              onChange={(e) => set({ pageSize: e.target.value })}
            >
              {PAGE_SIZE_OPTIONS.map((n) => (
                <option key={n} value={n}>
                  {n} per page
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="rounded-lg px-2 py-1 hover:bg-slate-900/5 disabled:opacity-40 dark:hover:bg-white/10"
            disabled={page <= 1}
            onClick={() => set({ page: String(page - 1) })}
          >
            Previous
          </button>
          <button
            type="button"
            className="rounded-lg px-2 py-1 hover:bg-slate-900/5 disabled:opacity-40 dark:hover:bg-white/10"
            disabled={page >= pages}
            onClick={() => set({ page: String(page + 1) })}
          >
            Next
          </button>
        </div>
      </div>
    </Panel>
  );
}
