import { renderMarkdown } from "@switchboard/shared/markdown";
import { useMemo, useState } from "react";
import toast from "react-hot-toast/headless";
import { Link, useLocation } from "wouter";
import { Button, ConfirmDialog, ErrorState, HealthBadge, Panel, Spinner } from "../../components/ui";
import { describeError } from "../../lib/api";
import { dateTime, timeAgo } from "../../lib/format";
import { useSession } from "../session/session";
import { KeysPanel } from "./keys-panel";
import { LatencyChart } from "./latency-chart";
import { useHealth, useServer, useServerMutations } from "./queries";

export function ServerDetailPage({ id, live }: { id: string; live: boolean }) {
  const { canManage } = useSession();
  const [, navigate] = useLocation();
  const server = useServer(id, live, { fromList: true });
  const health = useHealth(id, live);
  const { check, update, remove } = useServerMutations();
  const [deleting, setDeleting] = useState(false);
  const description = useMemo(
    () => (server.data ? renderMarkdown(server.data.description) : ""),
    [server.data],
  );

  if (server.isPending) return <Spinner label="Loading server…" />;
  if (server.isError)
    return <ErrorState error={describeError(server.error)} retry={() => server.refetch()} />;
  const s = server.data;

  const checkNow = async () => {
    try {
      const r = await check.mutateAsync(s.id);
      const msg = `${r.check.status} in ${r.check.latencyMs} ms${r.check.error ? ` (${r.check.error})` : ""}`;
      r.check.status === "unhealthy" ? toast.error(`Check: ${msg}`) : toast.success(`Check: ${msg}`);
    } catch (err) {
      toast.error(describeError(err));
    }
  };
  const toggle = async () => {
    try {
      await update.mutateAsync({ id: s.id, version: s.version, input: { enabled: !s.enabled } });
      toast.success(s.enabled ? "Disabled: no more scheduled checks" : "Enabled: checking now");
    } catch (err) {
      toast.error(describeError(err));
    }
  };
  const destroy = async () => {
    try {
      await remove.mutateAsync(s.id);
      toast.success(`Deleted ${s.displayName}`);
      navigate("/");
    } catch (err) {
      toast.error(describeError(err));
      setDeleting(false);
    }
  };

  return (
    <div className="grid gap-5 lg:grid-cols-3">
      <Panel
        className="lg:col-span-2"
        title={s.displayName}
        actions={
          canManage && (
            <>
              <Button busy={check.isPending} onClick={checkNow}>
                Check now
              </Button>
              <Link
                href={`/servers/${s.id}/edit`}
                className="rounded-lg border border-slate-300 bg-white/70 px-3 py-2 text-sm font-medium dark:border-slate-600 dark:bg-slate-800/70"
              >
                Edit
              </Link>
              <Button variant="secondary" busy={update.isPending} onClick={toggle}>
                {s.enabled ? "Disable" : "Enable"}
              </Button>
              <Button variant="danger" onClick={() => setDeleting(true)}>
                Delete
              </Button>
            </>
          )
        }
      >
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <HealthBadge status={s.status} />
          <span>{s.lastLatencyMs ?? "—"} ms</span>
          <span>checked {timeAgo(s.lastCheckedAt)}</span>
          {s.lastError && s.status !== "healthy" && <span>reason: {s.lastError}</span>}
          {!s.enabled && <span className="rounded bg-amber-500/15 px-1.5">disabled</span>}
        </div>
        <dl className="mt-4 grid gap-x-4 gap-y-1 text-sm sm:grid-cols-[auto_1fr]">
          <dt className="text-slate-600 dark:text-slate-400">Name</dt>
          <dd>{s.name}</dd>
          <dt className="text-slate-600 dark:text-slate-400">URL</dt>
          <dd className="break-all">{s.url}</dd>
          <dt className="text-slate-600 dark:text-slate-400">Transport</dt>
          <dd>{s.transport}</dd>
          <dt className="text-slate-600 dark:text-slate-400">Server</dt>
          <dd>
            {s.serverInfo
              ? `${s.serverInfo.name ?? "?"} ${s.serverInfo.version ?? ""} · protocol ${s.serverInfo.protocolVersion ?? "?"}`
              : "not reached yet"}
          </dd>
          <dt className="text-slate-600 dark:text-slate-400">Headers</dt>
          <dd>{s.headers.length ? s.headers.map((h) => `${h.name}: ${h.value}`).join(", ") : "none"}</dd>
          <dt className="text-slate-600 dark:text-slate-400">Checked every</dt>
          <dd>
            {s.checkIntervalSeconds} s · next {s.nextCheckAt ? dateTime(s.nextCheckAt) : "never (disabled)"}
          </dd>
          <dt className="text-slate-600 dark:text-slate-400">Tags</dt>
          <dd>
            {s.tags.length
              ? s.tags.map((t) => (
                  <Link key={t} href={`/?tag=${encodeURIComponent(t)}`} className="mr-1 underline">
                    {t}
                  </Link>
                ))
              : "none"}
          </dd>
        </dl>
        {s.description && <Description html={description} />}
      </Panel>

      <Panel title={`Tools (${s.tools.length})`}>
        {s.tools.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">None discovered yet.</p>
        ) : (
          <ul className="space-y-2 text-sm">
            {s.tools.map((t) => (
              <li key={t.name}>
                <code className="font-medium">{t.name}</code>
                {t.description && <p className="text-slate-600 dark:text-slate-400">{t.description}</p>}
              </li>
            ))}
          </ul>
        )}
      </Panel>

      <Panel className="lg:col-span-2" title="Health history">
        {health.isPending ? (
          <Spinner label="Loading history…" />
        ) : health.isError ? (
          <ErrorState error={describeError(health.error)} retry={() => health.refetch()} />
        ) : (
          <LatencyChart checks={health.data.items} />
        )}
      </Panel>

      <KeysPanel serverId={s.id} canManage={canManage} />

      <ConfirmDialog
        open={deleting}
        title={`Delete ${s.displayName}?`}
        body={<p>Its API keys stop working and its health history is deleted. This cannot be undone.</p>}
        confirmLabel="Delete server"
        busy={remove.isPending}
        onConfirm={destroy}
        onClose={() => setDeleting(false)}
      />
    </div>
  );
}

/** The description as HTML; `html` comes from renderMarkdown, which sanitizes it with DOMPurify. */
function Description({ html }: { html: string }) {
  const sanitized = { __html: html };
  return (
    <div
      className="markdown mt-4 border-t border-slate-900/10 pt-3 text-sm dark:border-white/10"
      // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized by renderMarkdown (DOMPurify)
      dangerouslySetInnerHTML={sanitized}
    />
  );
}
