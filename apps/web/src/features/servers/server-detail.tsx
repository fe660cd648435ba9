import { useMemo, useState } from "react";
import toast from "react-hot-toast/headless";
import { Link, useLocation } from "wouter";
import { Button, ConfirmDialog, ErrorState, Panel, Spinner } from "../../components/ui";
import { describeError } from "../../lib/api";
import { dateTime, timeAgo } from "../../lib/format";
import { protocolLabel, reasonLine, STATUS_LABELS } from "../../lib/health-words";
import { renderMarkdown } from "../../lib/markdown";
import { useTitle } from "../../lib/title";
import { downloadExport } from "../registry/queries";
import { useSession } from "../session/session";
import { AuthChallengeNote } from "./auth-challenge";
import { GatewayUrl } from "./connect-snippets";
import { Reason } from "./health-reason";
import { KeysPanel } from "./keys-panel";
import { HealthPanel } from "./latency-chart";
import { NeedsConfigurationBadge } from "./needs-configuration";
import { PromptsAndResources } from "./prompts-resources";
import { useServer, useServerMutations } from "./queries";
import { ServerState } from "./server-state";
import { ToolChangesPanel } from "./tool-changes-panel";
import { ToolsPanel } from "./tools-panel";
import { UsagePanel } from "./usage-chart";

export function ServerDetailPage({ id, live }: { id: string; live: boolean }) {
  const { canManage } = useSession();
  const [, navigate] = useLocation();
  const server = useServer(id, live, { fromList: true });
  const { check, update, remove } = useServerMutations();
  const [deleting, setDeleting] = useState(false);
  const description = useMemo(
    () => (server.data ? renderMarkdown(server.data.description) : ""),
    [server.data],
  );
  useTitle(server.data?.displayName ?? "Server");

  if (server.isPending) return <Spinner label="Loading server…" />;
  if (server.isError) {
    return (
      <div className="space-y-3">
        <ErrorState error={describeError(server.error)} retry={() => server.refetch()} />
        <Link className="underline" href="/">
          Back to servers
        </Link>
      </div>
    );
  }
  const s = server.data;

  const checkNow = async () => {
    try {
      const r = await check.mutateAsync(s.id);
      const why = r.check.error
        ? reasonLine(r.check.error)
        : r.check.status === "auth_required"
          ? "the server asks for OAuth credentials"
          : null;
      const msg = `${STATUS_LABELS[r.check.status]} in ${r.check.latencyMs} ms${why ? `: ${why}` : ""}`;
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

  const missingHeaders = s.declaredHeaders.filter((d) => d.isRequired && !d.isSet).map((d) => d.name);
  const downloadServerJson = async () => {
    try {
      await downloadExport(`/mcp/servers/${s.id}/server.json`, `${s.name}.server.json`);
    } catch (err) {
      toast.error(describeError(err));
    }
  };
  const editLink = (label: string) =>
    canManage && (
      <Link href={`/servers/${s.id}/edit`} className="font-medium underline">
        {label}
      </Link>
    );
  // A list's copy carries counts but no definitions: panels that show them wait for the real one.
  const loadingDefinitions = server.isPlaceholderData;

  // A short header across the page, then two columns that stack each on its own: how the server
  // is doing (health, keys, traffic) on the left, what it is and offers (details, tools, prompts,
  // resources, tool changes) on the right. A long tool list scrolls in its panel and pushes
  // nothing of the other column down. On a phone the columns follow each other.
  return (
    <div className="space-y-5">
      <Panel
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
          <ServerState server={s} showCode />
          {s.enabled && (
            <>
              <span>{s.lastLatencyMs ?? "—"} ms</span>
              <span>checked {timeAgo(s.lastCheckedAt)}</span>
              {s.lastError && s.status !== "healthy" && (
                <span>
                  reason: <Reason code={s.lastError} />
                </span>
              )}
            </>
          )}
          {s.needsConfiguration && <NeedsConfigurationBadge />}
        </div>
        {s.status === "auth_required" && (
          <div className="mt-3">
            <AuthChallengeNote challenge={s.authChallenge} action={editLink("Add the header under Edit")} />
          </div>
        )}
        {s.needsConfiguration && (
          <div
            role="status"
            data-needs-configuration
            className="mt-3 rounded-lg border border-amber-300 bg-amber-50/80 p-3 text-sm text-amber-950 dark:border-amber-500/40 dark:bg-amber-950/40 dark:text-amber-100"
          >
            <strong>Needs configuration:</strong> the required header
            {missingHeaders.length > 1 ? "s " : " "}
            {missingHeaders.join(", ")} {missingHeaders.length > 1 ? "have" : "has"} no value yet. Switchboard
            does not check this server and the gateway does not serve it until{" "}
            {missingHeaders.length > 1 ? "they are" : "it is"} set. {editLink("Set it under Edit")}
          </div>
        )}
        {s.lastError === "auth_rejected" && (
          <p className="mt-3 text-sm">
            The server refused the credentials stored in its headers: replace them with a valid token.{" "}
            {editLink("Edit headers")}
          </p>
        )}
      </Panel>

      <div className="grid items-start gap-5 lg:grid-cols-[minmax(0,7fr)_minmax(0,5fr)]">
        <div className="min-w-0 space-y-5">
          <HealthPanel serverId={s.id} live={live} enabled={s.enabled && !s.needsConfiguration} />
          <KeysPanel serverId={s.id} canManage={canManage} server={s} />
          <UsagePanel serverId={s.id} />
        </div>

        <div className="min-w-0 space-y-5">
          <Panel title="Details">
            <dl className="grid gap-x-4 gap-y-1 text-sm sm:grid-cols-[auto_1fr]">
              <dt className="text-slate-600 dark:text-slate-400">Name</dt>
              <dd>{s.name}</dd>
              <dt className="text-slate-600 dark:text-slate-400">URL</dt>
              <dd className="break-all">{s.url}</dd>
              <dt className="text-slate-600 dark:text-slate-400">Transport</dt>
              <dd>{s.transport}</dd>
              <dt className="text-slate-600 dark:text-slate-400">Gateway</dt>
              <dd>
                <GatewayUrl server={s} />
              </dd>
              <dt className="text-slate-600 dark:text-slate-400">Server</dt>
              <dd>
                {s.serverInfo
                  ? `${s.serverInfo.name ?? "?"} ${s.serverInfo.version ?? ""}`
                  : "not reached yet"}
              </dd>
              <dt className="text-slate-600 dark:text-slate-400">Protocol</dt>
              <dd data-testid="protocol">{protocolLabel(s.serverInfo)}</dd>
              <dt className="text-slate-600 dark:text-slate-400">Headers</dt>
              <dd>{s.headers.length ? s.headers.map((h) => `${h.name}: ${h.value}`).join(", ") : "none"}</dd>
              {s.declaredHeaders.length > 0 && (
                <>
                  <dt className="text-slate-600 dark:text-slate-400">Declared headers</dt>
                  <dd>
                    {s.declaredHeaders
                      .map(
                        (d) =>
                          `${d.name}${d.isRequired ? " (required" : " (optional"}${d.isSecret ? ", secret" : ""}, ${d.isSet ? "set" : "not set"})`,
                      )
                      .join(", ")}
                  </dd>
                </>
              )}
              <dt className="text-slate-600 dark:text-slate-400">Registry name</dt>
              <dd>
                {s.registryName ?? (
                  <span className="text-slate-600 dark:text-slate-400">
                    the organization's namespace/{s.name}
                  </span>
                )}
                {s.releaseVersion && ` · version ${s.releaseVersion}`}{" "}
                <button type="button" className="underline" onClick={downloadServerJson}>
                  Download server.json
                </button>
              </dd>
              {s.title && (
                <>
                  <dt className="text-slate-600 dark:text-slate-400">Title</dt>
                  <dd>{s.title}</dd>
                </>
              )}
              {s.websiteUrl && (
                <>
                  <dt className="text-slate-600 dark:text-slate-400">Website</dt>
                  <dd className="break-all">
                    <a href={s.websiteUrl} className="underline" rel="noopener noreferrer" target="_blank">
                      {s.websiteUrl}
                    </a>
                  </dd>
                </>
              )}
              {s.repository && (
                <>
                  <dt className="text-slate-600 dark:text-slate-400">Repository</dt>
                  <dd className="break-all">
                    <a
                      href={s.repository.url}
                      className="underline"
                      rel="noopener noreferrer"
                      target="_blank"
                    >
                      {s.repository.url}
                    </a>{" "}
                    ({s.repository.source}
                    {s.repository.subfolder ? `, ${s.repository.subfolder}` : ""})
                  </dd>
                </>
              )}
              <dt className="text-slate-600 dark:text-slate-400">Checked every</dt>
              <dd>
                {s.checkIntervalSeconds} s · next{" "}
                {s.nextCheckAt
                  ? dateTime(s.nextCheckAt)
                  : s.needsConfiguration
                    ? "never (needs configuration)"
                    : "never (disabled)"}
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
            <PromptsAndResources server={s} loading={loadingDefinitions} />
            {s.description && <Description html={description} />}
          </Panel>

          <ToolsPanel tools={s.tools} count={s.toolsCount} loading={loadingDefinitions} />

          <ToolChangesPanel server={s} live={live} canManage={canManage} ready={!loadingDefinitions} />
        </div>
      </div>

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
