import type { Server, ToolDefinition, ToolDrift } from "@switchboard/shared";
import toast from "react-hot-toast/headless";
import { Button, ErrorState, Panel, Spinner } from "../../components/ui";
import { ApiError, describeError } from "../../lib/api";
import { dateTime, timeAgo } from "../../lib/format";
import { JsonBlock } from "./json-block";
import { useDrift, useServerMutations } from "./queries";

/** The parts of a definition a change can touch, as a person would name them. */
const FIELDS = {
  title: "title",
  description: "description",
  inputSchema: "input schema",
  outputSchema: "output schema",
  annotations: "annotations",
} as const satisfies Partial<Record<keyof ToolDefinition, string>>;

const changedFields = (before: ToolDefinition, after: ToolDefinition) =>
  (Object.keys(FIELDS) as (keyof typeof FIELDS)[])
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => FIELDS[k]);

export const STALE_APPROVAL = "The tools changed since you looked: review and approve again";

/**
 * A server's tool changes, newest first, and its approved (pinned) tool set: owners and admins
 * approve the tools they see, and a change after that is held back by the gateway until approved.
 * `ready` is false while the page shows a list's copy: approving needs the tools actually shown.
 */
export function ToolChangesPanel({
  server,
  live,
  canManage,
  ready,
}: {
  server: Server;
  live: boolean;
  canManage: boolean;
  ready: boolean;
}) {
  const drift = useDrift(server.id, live);
  const { pinTools, unpinTools } = useServerMutations();
  const { toolsHash } = server;

  const approve = async () => {
    if (!toolsHash) return;
    try {
      const s = await pinTools.mutateAsync({ id: server.id, toolsHash });
      toast.success(
        `Approved ${s.toolsCount} tool${s.toolsCount === 1 ? "" : "s"}: the gateway serves only these`,
      );
    } catch (err) {
      toast.error(err instanceof ApiError && err.status === 412 ? STALE_APPROVAL : describeError(err));
    }
  };
  const unpin = async () => {
    try {
      await unpinTools.mutateAsync(server.id);
      toast.success("Unpinned: the gateway serves whatever tools the server offers");
    } catch (err) {
      toast.error(describeError(err));
    }
  };

  const actions = canManage && (
    <>
      {(!server.pinned || server.drifted) && toolsHash && (
        <Button busy={pinTools.isPending} disabled={!ready} onClick={approve}>
          Approve current tools
        </Button>
      )}
      {server.pinned && (
        <Button variant="secondary" busy={unpinTools.isPending} onClick={unpin}>
          Unpin
        </Button>
      )}
    </>
  );

  return (
    <Panel title="Tool changes" actions={actions}>
      <PinState server={server} />
      {drift.isPending ? (
        <Spinner label="Loading tool changes…" />
      ) : drift.isError ? (
        <ErrorState error={describeError(drift.error)} retry={() => drift.refetch()} />
      ) : drift.data.items.length === 0 ? (
        // A line, not a large empty state: most servers never change their tools.
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
          No tool changes recorded: Switchboard compares the tools at every check and lists each change here.
        </p>
      ) : (
        <ol
          className="mt-3 divide-y divide-slate-900/10 dark:divide-white/10"
          aria-label="Tool change timeline"
        >
          {drift.data.items.map((d) => (
            <DriftEntry key={d.id} drift={d} />
          ))}
        </ol>
      )}
    </Panel>
  );
}

function PinState({ server }: { server: Server }) {
  if (!server.pinned) {
    return (
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Not approved: the gateway serves whatever tools the server offers.
        {server.toolsHash === null && " Approving them needs a check that lists them first."}
      </p>
    );
  }
  if (server.drifted) {
    return (
      <p
        data-drifted
        className="rounded-lg bg-amber-100 p-2 text-sm font-medium text-amber-950 dark:bg-amber-500/15 dark:text-amber-100"
      >
        The tools changed since an admin approved them ({timeAgo(server.pinnedAt)}): the gateway refuses the
        unapproved ones until the changes below are reviewed and approved.
      </p>
    );
  }
  return <p className="text-sm">Approved {timeAgo(server.pinnedAt)}: the tools match the approved set.</p>;
}

const Names = ({ label, tools }: { label: string; tools: ToolDefinition[] }) =>
  tools.length ? (
    <p className="text-sm">
      <span className="font-medium">{label}:</span>{" "}
      {tools.map((t, i) => (
        <span key={t.name}>
          {i > 0 && ", "}
          <code>{t.name}</code>
        </span>
      ))}
    </p>
  ) : null;

function DriftEntry({ drift }: { drift: ToolDrift }) {
  return (
    <li data-drift={drift.id} className="space-y-1 py-3">
      <p className="text-xs text-slate-600 dark:text-slate-400">
        <time dateTime={drift.detectedAt}>{dateTime(drift.detectedAt)}</time> · {timeAgo(drift.detectedAt)}
      </p>
      <Names label="Added" tools={drift.added} />
      <Names label="Removed" tools={drift.removed} />
      {drift.changed.map((c) => (
        <details key={c.name} data-changed-tool={c.name} className="text-sm">
          <summary className="cursor-pointer">
            <span className="font-medium">Changed:</span> <code>{c.name}</code>{" "}
            <span className="text-slate-600 dark:text-slate-400">
              ({changedFields(c.before, c.after).join(", ") || "definition"})
            </span>
          </summary>
          <div className="mt-1 grid gap-2 md:grid-cols-2">
            <div>
              <p className="text-xs font-medium">Before</p>
              <JsonBlock value={c.before} />
            </div>
            <div>
              <p className="text-xs font-medium">After</p>
              <JsonBlock value={c.after} />
            </div>
          </div>
        </details>
      ))}
    </li>
  );
}
