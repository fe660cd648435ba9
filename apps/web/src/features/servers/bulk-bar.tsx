import { zodResolver } from "@hookform/resolvers/zod";
import { type BulkAction, BulkServersInput, type ServerSummary } from "@switchboard/shared";
import { useState } from "react";
import { useForm } from "react-hook-form";
import toast from "react-hot-toast/headless";
import { z } from "zod";
import { Button, ConfirmDialog, Dialog, Field, Input } from "../../components/ui";
import { describeError } from "../../lib/api";
import { useBulkServers } from "./queries";

const servers = (n: number) => `${n} server${n === 1 ? "" : "s"}`;

/** "Prod, team-a, prod" → ["prod", "team-a"]: a convenience; the shared tag rules still apply. */
const parseTags = (text: string) => [
  ...new Set(
    text
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  ),
];

/** Tags typed as one line, held to the bulk action's rules; a broken rule names its tag. */
const TagsForm = z.object({
  tags: z.string().transform((text, ctx) => {
    const tags = parseTags(text);
    const checked = BulkServersInput.shape.tags.unwrap().safeParse(tags);
    if (checked.success) return checked.data;
    for (const issue of checked.error.issues) {
      const tag = typeof issue.path[0] === "number" ? tags[issue.path[0]] : undefined;
      ctx.issues.push({
        code: "custom",
        input: text,
        message: tag === undefined ? `Tags ${issue.message}` : `"${tag}" ${issue.message}`,
      });
    }
    return z.NEVER;
  }),
});

/** How the servers an action left as they were stood: what made the action a no-op for them. */
const ALREADY = { enable: "enabled", disable: "disabled", tag: "tagged", untag: "without it" } as const;

/** What the toast says once an action went through: `changed` of `asked` servers changed. */
function done(action: BulkAction, changed: number, asked: number, tags: string[] = []) {
  const rest = asked - changed;
  const list = tags.join(", ");
  switch (action) {
    case "check":
      if (changed === 0) return "None of them is checked while disabled: nothing to check";
      return rest === 0
        ? `Scheduled ${servers(changed)} for a check`
        : `Scheduled ${changed} of ${servers(asked)} for a check (the rest are disabled or not configured)`;
    case "delete":
      return `Deleted ${servers(changed)}${rest > 0 ? ` (${rest} no longer existed)` : ""}`;
  }
  const unchanged = rest > 0 ? ` (${rest} already ${ALREADY[action]})` : "";
  switch (action) {
    case "enable":
      return `Enabled ${servers(changed)}${unchanged}`;
    case "disable":
      return `Disabled ${servers(changed)}${unchanged}`;
    case "tag":
      return `Tagged ${servers(changed)} with ${list}${unchanged}`;
    case "untag":
      return `Removed ${list} from ${servers(changed)}${unchanged}`;
  }
}

type Asking = "delete" | "disable" | "tag" | "untag" | null;

/**
 * What can be done to the servers selected on the page. Deleting, disabling and changing tags ask
 * first, naming how many servers; checking and enabling are harmless and act at once.
 */
export function BulkBar({ selected, onDone }: { selected: ServerSummary[]; onDone: () => void }) {
  const bulk = useBulkServers();
  const [asking, setAsking] = useState<Asking>(null);
  const n = selected.length;
  const running = bulk.isPending ? bulk.variables?.action : undefined;

  const run = async (action: BulkAction, tags?: string[]) => {
    const ids = selected.map((s) => s.id);
    try {
      const result = await bulk.mutateAsync({ action, ids, ...(tags ? { tags } : {}) });
      toast.success(done(action, result.ids.length, ids.length, tags));
      setAsking(null);
      onDone();
    } catch (err) {
      toast.error(describeError(err));
    }
  };

  return (
    <div
      role="toolbar"
      aria-label="Bulk actions"
      className="mb-3 flex flex-wrap items-center gap-2 rounded-lg bg-indigo-50 px-3 py-2 text-sm dark:bg-indigo-950/60"
    >
      <span className="mr-1 font-medium" aria-live="polite">
        {servers(n)} selected
      </span>
      <Button
        variant="secondary"
        busy={running === "check"}
        disabled={bulk.isPending}
        onClick={() => run("check")}
      >
        Check now
      </Button>
      <Button
        variant="secondary"
        busy={running === "enable"}
        disabled={bulk.isPending}
        onClick={() => run("enable")}
      >
        Enable
      </Button>
      <Button variant="secondary" disabled={bulk.isPending} onClick={() => setAsking("disable")}>
        Disable
      </Button>
      <Button variant="secondary" disabled={bulk.isPending} onClick={() => setAsking("tag")}>
        Add tag…
      </Button>
      <Button variant="secondary" disabled={bulk.isPending} onClick={() => setAsking("untag")}>
        Remove tag…
      </Button>
      <Button variant="danger" disabled={bulk.isPending} onClick={() => setAsking("delete")}>
        Delete
      </Button>
      <Button variant="ghost" onClick={onDone}>
        Clear selection
      </Button>

      <ConfirmDialog
        open={asking === "delete"}
        title={`Delete ${servers(n)}?`}
        body={
          <p>
            This deletes {servers(n)}, their API keys and their health history. The gateway stops serving them
            at once. It cannot be undone.
          </p>
        }
        confirmLabel={`Delete ${servers(n)}`}
        busy={bulk.isPending}
        onConfirm={() => run("delete")}
        onClose={() => setAsking(null)}
      />
      <ConfirmDialog
        open={asking === "disable"}
        title={`Disable ${servers(n)}?`}
        body={
          <p>
            Disabled servers are no longer checked, and the gateway refuses their clients until they are
            enabled again.
          </p>
        }
        confirmLabel={`Disable ${servers(n)}`}
        busy={bulk.isPending}
        onConfirm={() => run("disable")}
        onClose={() => setAsking(null)}
      />
      <TagDialog
        // A fresh form each time it is opened.
        key={asking ?? "closed"}
        action={asking === "tag" || asking === "untag" ? asking : null}
        count={n}
        busy={bulk.isPending}
        onSubmit={(action, tags) => run(action, tags)}
        onClose={() => setAsking(null)}
      />
    </div>
  );
}

/** Asks which tags to add to (or remove from) the selected servers. */
function TagDialog({
  action,
  count,
  busy,
  onSubmit,
  onClose,
}: {
  action: "tag" | "untag" | null;
  count: number;
  busy: boolean;
  onSubmit: (action: "tag" | "untag", tags: string[]) => Promise<void>;
  onClose: () => void;
}) {
  const form = useForm<z.input<typeof TagsForm>, unknown, z.output<typeof TagsForm>>({
    resolver: zodResolver(TagsForm),
    defaultValues: { tags: "" },
  });
  const error = form.formState.errors.tags?.message;
  const close = () => {
    form.reset();
    onClose();
  };
  const adding = action !== "untag";
  const submit = form.handleSubmit(async ({ tags }) => {
    if (action) await onSubmit(action, tags);
  });
  return (
    <Dialog
      open={action !== null}
      onClose={close}
      title={adding ? `Add tags to ${servers(count)}` : `Remove tags from ${servers(count)}`}
    >
      <form className="space-y-3" onSubmit={submit} noValidate>
        <Field id="bulk-tags" label="Tags" error={error} hint="Separated by commas, e.g. prod, team-a">
          <Input
            id="bulk-tags"
            autoComplete="off"
            aria-invalid={!!error}
            aria-describedby={error ? "bulk-tags-error" : undefined}
            {...form.register("tags")}
          />
        </Field>
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={close}>
            Cancel
          </Button>
          <Button type="submit" busy={busy}>
            {adding ? `Add to ${servers(count)}` : `Remove from ${servers(count)}`}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
