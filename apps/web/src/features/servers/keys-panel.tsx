import type { CreatedApiKey } from "@switchboard/shared";
import { useState } from "react";
import toast from "react-hot-toast/headless";
import {
  Button,
  ConfirmDialog,
  Dialog,
  EmptyState,
  ErrorState,
  Field,
  Input,
  Panel,
  Spinner,
} from "../../components/ui";
import { describeError } from "../../lib/api";
import { dateTime, timeAgo } from "../../lib/format";
import { useKeys, useServerMutations } from "./queries";

/** API keys of one server: create (shown once), list, revoke. */
export function KeysPanel({ serverId, canManage }: { serverId: string; canManage: boolean }) {
  const keys = useKeys(serverId);
  const { createKey, revokeKey } = useServerMutations();
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [revoking, setRevoking] = useState<{ id: string; name: string } | null>(null);

  const create = async () => {
    try {
      const key = await createKey.mutateAsync({
        serverId,
        name: name.trim(),
        ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}),
      });
      setCreating(false);
      setName("");
      setExpires("");
      setCreated(key);
      toast.success(`Created key ${key.name}`);
    } catch (err) {
      toast.error(describeError(err));
    }
  };
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

      <Dialog open={creating} onClose={() => setCreating(false)} title="Create an API key">
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <Field id="key-name" label="Name" hint="Who or what will use it, e.g. ci-deploy">
            <Input
              id="key-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              maxLength={100}
            />
          </Field>
          <Field id="key-expires" label="Expires (optional)">
            <Input
              id="key-expires"
              type="datetime-local"
              value={expires}
              onChange={(e) => setExpires(e.target.value)}
            />
          </Field>
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setCreating(false)}>
              Cancel
            </Button>
            <Button type="submit" busy={createKey.isPending} disabled={!name.trim()}>
              Create
            </Button>
          </div>
        </form>
      </Dialog>

      <Dialog open={!!created} onClose={() => setCreated(null)} title="Your new API key">
        <p className="mb-2 rounded-lg bg-amber-500/15 p-2 text-sm font-medium">
          Copy it now: this is the only time Switchboard shows it. Store it somewhere safe.
        </p>
        <code
          data-testid="new-key"
          className="block break-all rounded bg-slate-900/5 p-2 text-sm dark:bg-white/10"
        >
          {created?.key}
        </code>
        <div className="mt-3 flex justify-end gap-2">
          <Button
            variant="secondary"
            onClick={async () => {
              await navigator.clipboard.writeText(created?.key ?? "").then(
                () => toast.success("Copied"),
                () => toast.error("Could not copy: select the key and copy it by hand"),
              );
            }}
          >
            Copy
          </Button>
          <Button onClick={() => setCreated(null)}>I have stored it</Button>
        </div>
      </Dialog>

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
