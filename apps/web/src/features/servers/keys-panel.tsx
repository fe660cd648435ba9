import type { Server } from "@switchboard/shared";
import { useState } from "react";
import toast from "react-hot-toast/headless";
import { Button, ConfirmDialog, EmptyState, ErrorState, Panel, Spinner } from "../../components/ui";
import { describeError } from "../../lib/api";
import { dateTime, timeAgo } from "../../lib/format";
import { CreateKeyDialog } from "./create-key-dialog";
import { useKeys, useKeyUsage, useServerMutations } from "./queries";

const count = new Intl.NumberFormat();

/** API keys of one server: create (shown once, with client set-ups), list, revoke. */
export function KeysPanel({
  serverId,
  canManage,
  server,
}: {
  serverId: string;
  canManage: boolean;
  server: Pick<Server, "id" | "name" | "transport" | "tools">;
}) {
  const keys = useKeys(serverId);
  // Each key's calls in the last 24 h; a key that made none is not listed, so it shows 0.
  const usage = useKeyUsage(serverId);
  const callsOf = (keyId: string) =>
    usage.data ? (usage.data.items.find((u) => u.keyId === keyId)?.calls ?? 0) : null;
  const { revokeKey } = useServerMutations();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<{ id: string; name: string } | null>(null);
  const revoke = async () => {
    if (!revoking) return;
    try {
      await revokeKey.mutateAsync({ serverId, keyId: revoking.id });
      toast.success(`Revoked ${revoking.name}`);
    } catch (err) {
      toast.error(describeError(err));
    } finally {
      setRevoking(null);
    }
  };

  return (
    <Panel
      title="API keys"
      actions={canManage && <Button onClick={() => setCreating(true)}>Create key</Button>}
    >
      {keys.isPending ? (
        <Spinner label="Loading keys…" />
      ) : keys.isError ? (
        <ErrorState error={describeError(keys.error)} retry={() => keys.refetch()} />
      ) : keys.data.items.length === 0 ? (
        <EmptyState title="No keys yet" />
      ) : (
        <ul className="divide-y divide-slate-900/10 dark:divide-white/10">
          {keys.data.items.map((k) => (
            <li
              key={k.id}
              data-key={k.name}
              className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm"
            >
              <div>
                <span className="font-medium">{k.name}</span> <code className="text-xs">{k.prefix}…</code>
                <div className="text-xs text-slate-600 dark:text-slate-400">
                  created {timeAgo(k.createdAt)} · last used {timeAgo(k.lastUsedAt)} ·{" "}
                  {k.expiresAt ? `expires ${dateTime(k.expiresAt)}` : "no expiry"}
                  <KeyCalls calls={callsOf(k.id)} />
                </div>
              </div>
              {k.revokedAt ? (
                <span className="rounded bg-rose-500/15 px-2 py-0.5 text-xs">
                  revoked {timeAgo(k.revokedAt)}
                </span>
              ) : (
                canManage && (
                  <Button variant="secondary" onClick={() => setRevoking({ id: k.id, name: k.name })}>
                    Revoke
                  </Button>
                )
              )}
            </li>
          ))}
        </ul>
      )}

      <CreateKeyDialog server={server} open={creating} onClose={() => setCreating(false)} />

      <ConfirmDialog
        open={!!revoking}
        title="Revoke this key?"
        body={<p>Anything using “{revoking?.name}” stops working at once. This cannot be undone.</p>}
        confirmLabel="Revoke key"
        busy={revokeKey.isPending}
        onConfirm={revoke}
        onClose={() => setRevoking(null)}
      />
    </Panel>
  );
}

/** A key's calls in the last 24 h, once they are known. */
function KeyCalls({ calls }: { calls: number | null }) {
  if (calls === null) return null;
  return (
    <span data-testid="key-calls">
      {" "}
      · {count.format(calls)} {calls === 1 ? "call" : "calls"} in 24 h
    </span>
  );
}
