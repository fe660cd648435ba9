import type { AuditLog, AuditLogPage } from "@switchboard/shared";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Button, EmptyState, ErrorState, Input, Panel, Spinner } from "../../components/ui";
import { api, describeError } from "../../lib/api";
import { dateTime } from "../../lib/format";

const ACTIONS = [
  "server.create",
  "server.update",
  "server.delete",
  "server.check",
  "server.probe",
  "key.create",
  "key.revoke",
  "organization.create",
  "organization.update",
  "member.add",
  "member.remove",
  "member.role_update",
  "invitation.create",
  "invitation.accept",
];

interface Filters {
  action: string;
  actorId: string;
  targetId: string;
  from: string;
  to: string;
}
const EMPTY: Filters = { action: "", actorId: "", targetId: "", from: "", to: "" };

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [page, setPage] = useState(1);
  const params = new URLSearchParams({ page: String(page), pageSize: "25" });
  for (const [k, v] of Object.entries(filters)) {
    if (v) params.set(k, k === "from" || k === "to" ? new Date(v).toISOString() : v.trim());
  }
  const query = useQuery({
    queryKey: ["audit", params.toString()],
    queryFn: () => api<AuditLogPage>(`/mcp/audit-logs?${params}`),
    placeholderData: (p) => p,
  });
  const pages = Math.max(1, Math.ceil((query.data?.total ?? 0) / 25));

  return (
    <Panel title="Audit log">
      <form
        className="mb-4 grid gap-2 sm:grid-cols-2 lg:grid-cols-6"
        onSubmit={(e) => {
          e.preventDefault();
          setPage(1);
          setFilters(draft);
        }}
      >
        <label>
          <span className="sr-only">Action</span>
          <select
            className="field"
            value={draft.action}
            onChange={(e) => setDraft({ ...draft, action: e.target.value })}
          >
            <option value="">Any action</option>
            {ACTIONS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label htmlFor="audit-actorId">
          <span className="sr-only">Actor id</span>
          <Input
            id="audit-actorId"
            placeholder="Actor id"
            value={draft.actorId}
            onChange={(e) => setDraft({ ...draft, actorId: e.target.value })}
          />
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
            value={draft.from}
            onChange={(e) => setDraft({ ...draft, from: e.target.value })}
          />
        </label>
        <label htmlFor="audit-to">
          <span className="sr-only">To</span>
          <Input
            id="audit-to"
            type="datetime-local"
            value={draft.to}
            onChange={(e) => setDraft({ ...draft, to: e.target.value })}
          />
        </label>
        <div className="flex gap-2">
          <Button type="submit">Filter</Button>
          <Button
            variant="ghost"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
              setPage(1);
            }}
          >
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
      <div className="mt-4 flex items-center justify-between text-sm">
        <span>
          {query.data?.total ?? 0} entries · page {page} of {pages}
        </span>
        <div className="flex gap-2">
          <Button variant="ghost" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Previous
          </Button>
          <Button variant="ghost" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            Next
          </Button>
        </div>
      </div>
    </Panel>
  );
}

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** One entry: who did what to what, and a before → after table of what changed. */
function AuditEntry({ entry }: { entry: AuditLog }) {
  const changes = Object.entries(entry.changes ?? {});
  return (
    <li data-action={entry.action} className="py-3 text-sm">
      <div className="flex flex-wrap items-baseline gap-x-3">
        <code className="font-semibold">{entry.action}</code>
        <span>
          {entry.targetType} {entry.targetId && <code className="text-xs">{entry.targetId}</code>}
        </span>
        <span className="text-slate-600 dark:text-slate-400">
          by {entry.actorType} <code className="text-xs">{entry.actorId}</code> · {dateTime(entry.createdAt)}
          {entry.ip ? ` · ${entry.ip}` : ""}
        </span>
      </div>
      {changes.length > 0 && (
        <details className="mt-1">
          <summary className="cursor-pointer text-indigo-700 dark:text-indigo-300">Changes</summary>
          <table className="mt-1 w-full text-xs">
            <thead>
              <tr className="text-left text-slate-600 dark:text-slate-400">
                <th className="pr-2 font-medium">Field</th>
                <th className="pr-2 font-medium">Before</th>
                <th className="font-medium">After</th>
              </tr>
            </thead>
            <tbody>
              {changes.map(([field, value]) => {
                const diff =
                  value && typeof value === "object" && "from" in value && "to" in value
                    ? (value as { from: unknown; to: unknown })
                    : null;
                return (
                  <tr key={field} className="align-top">
                    <td className="pr-2 font-medium">{field}</td>
                    <td className="break-all pr-2 text-rose-800 dark:text-rose-300">
                      {diff ? show(diff.from) : ""}
                    </td>
                    <td className="break-all text-emerald-800 dark:text-emerald-300">
                      {diff ? show(diff.to) : show(value)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </details>
      )}
    </li>
  );
}
