import { SERVER_SORT_FIELDS, type Server } from "@switchboard/shared";
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  type SortingState,
  useReactTable,
} from "@tanstack/react-table";
import { useEffect, useMemo, useState } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { EmptyState, ErrorState, HealthBadge, Panel, Spinner } from "../../components/ui";
import { describeError } from "../../lib/api";
import { timeAgo } from "../../lib/format";
import { useSession } from "../session/session";
import { useServers } from "./queries";

const FILTERS = ["q", "status", "transport", "tag", "enabled"] as const;
const SORTABLE = new Set<string>(SERVER_SORT_FIELDS);

/** The table's state lives in the URL, so a view can be shared and survives a reload. */
function useUrlState() {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const params = useMemo(() => new URLSearchParams(search), [search]);
  const set = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === "") next.delete(k);
      else next.set(k, v);
    }
    if (!("page" in changes)) next.delete("page");
    const qs = next.toString();
    navigate(`${location}${qs ? `?${qs}` : ""}`, { replace: true });
  };
  return { params, set };
}

const columns: ColumnDef<Server>[] = [
  {
    id: "name",
    header: "Name",
    cell: ({ row }) => (
      <div>
        <Link
          href={`/servers/${row.original.id}`}
          className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
        >
          {row.original.displayName}
        </Link>
        <div className="text-xs text-slate-600 dark:text-slate-400">{row.original.name}</div>
      </div>
    ),
  },
  {
    id: "status",
    header: "Health",
    cell: ({ row }) => (
      <div className="space-y-0.5">
        <HealthBadge status={row.original.status} />
        <div className="text-xs text-slate-600 dark:text-slate-400">
          {row.original.lastCheckedAt
            ? `${timeAgo(row.original.lastCheckedAt)} · ${row.original.lastLatencyMs ?? "—"} ms`
            : "not checked yet"}
          {row.original.lastError && row.original.status !== "healthy" ? ` · ${row.original.lastError}` : ""}
        </div>
      </div>
    ),
  },
  {
    id: "transport",
    header: "Transport",
    enableSorting: false,
    cell: ({ row }) => <span className="text-sm">{row.original.transport}</span>,
  },
  {
    id: "tags",
    header: "Tags",
    enableSorting: false,
    cell: ({ row }) => (
      <div className="flex flex-wrap gap-1">
        {row.original.tags.map((t) => (
          <span key={t} className="rounded bg-slate-900/5 px-1.5 py-0.5 text-xs dark:bg-white/10">
            {t}
          </span>
        ))}
        {!row.original.enabled && (
          <span className="rounded bg-amber-500/15 px-1.5 py-0.5 text-xs">disabled</span>
        )}
      </div>
    ),
  },
  {
    id: "lastCheckedAt",
    header: "Last checked",
    cell: ({ row }) => <span className="text-sm">{timeAgo(row.original.lastCheckedAt)}</span>,
  },
  {
    id: "updatedAt",
    header: "Updated",
    cell: ({ row }) => <span className="text-sm">{timeAgo(row.original.updatedAt)}</span>,
  },
];

export function ServersPage({ live }: { live: boolean }) {
  const { canManage } = useSession();
  const { params, set } = useUrlState();
  const page = Number(params.get("page") ?? "1") || 1;
  const pageSize = Number(params.get("pageSize") ?? "50") || 50;
  const sort = params.get("sort") ?? "name";
  const [q, setQ] = useState(params.get("q") ?? "");

  // Search as the user types, a moment after they stop.
  useEffect(() => {
    const t = setTimeout(() => {
      if (q !== (params.get("q") ?? "")) set({ q });
    }, 300);
    return () => clearTimeout(t);
  });

  const apiSearch = useMemo(() => {
    const s = new URLSearchParams({ page: String(page), pageSize: String(pageSize), sort });
    for (const f of FILTERS) {
      const v = params.get(f);
      if (v) s.set(f, v);
    }
    return `?${s}`;
  }, [params, page, pageSize, sort]);
  const query = useServers(apiSearch, live);

  const sorting: SortingState = [{ id: sort.replace(/^-/, ""), desc: sort.startsWith("-") }];
  const table = useReactTable({
    data: query.data?.items ?? [],
    columns,
    manualSorting: true,
    manualPagination: true,
    state: { sorting },
    onSortingChange: (updater) => {
      const next = typeof updater === "function" ? updater(sorting) : updater;
      const first = next[0];
      set({ sort: first ? `${first.desc ? "-" : ""}${first.id}` : null });
    },
    getCoreRowModel: getCoreRowModel(),
  });
  const total = query.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / pageSize));

  return (
    <Panel
      title="MCP servers"
      actions={
        canManage && (
          <Link
            href="/servers/new"
            className="rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700 dark:bg-indigo-400 dark:hover:bg-indigo-300 dark:text-slate-950"
          >
            Register server
          </Link>
        )
      }
    >
      <div className="mb-4 grid gap-2 sm:grid-cols-2 lg:grid-cols-5">
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
        {(
          [
            ["status", "Health", ["healthy", "degraded", "unhealthy", "unknown"]],
            ["transport", "Transport", ["streamable-http", "sse"]],
            ["enabled", "Enabled", ["true", "false"]],
          ] as const
        ).map(([key, label, options]) => (
          <label key={key}>
            <span className="sr-only">{label}</span>
            <select
              aria-label={label}
              className="field"
              value={params.get(key) ?? ""}
              onChange={(e) => set({ [key]: e.target.value })}
            >
              <option value="">{label}: any</option>
              {options.map((o) => (
                <option key={o} value={o}>
                  {label}: {o}
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
          <table className="w-full text-left">
            <thead>
              {table.getHeaderGroups().map((g) => (
                <tr
                  key={g.id}
                  className="border-b border-slate-900/10 text-xs uppercase tracking-wide text-slate-600 dark:border-white/10 dark:text-slate-400"
                >
                  {g.headers.map((h) => {
                    const sortable = SORTABLE.has(h.column.id);
                    const dir = h.column.getIsSorted();
                    return (
                      <th
                        key={h.id}
                        className="px-2 py-2 font-medium"
                        aria-sort={dir ? (dir === "desc" ? "descending" : "ascending") : undefined}
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
                    <td key={cell.id} className="px-2 py-2">
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
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
              className="field w-auto py-1"
              value={pageSize}
              onChange={(e) => set({ pageSize: e.target.value })}
            >
              {[25, 50, 100, 200].map((n) => (
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
