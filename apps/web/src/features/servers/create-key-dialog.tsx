import { zodResolver } from "@hookform/resolvers/zod";
import { API_KEY_NAME_MAX, CreateApiKeyInput, type CreatedApiKey, type Server } from "@switchboard/shared";
import { useState } from "react";
import { useForm, useWatch } from "react-hook-form";
import toast from "react-hot-toast/headless";
import { z } from "zod";
import { Button, Dialog, Field, Input } from "../../components/ui";
import { describeError, fieldIssues } from "../../lib/api";
import { ConnectSnippets, copyText, useGatewayUrl } from "./connect-snippets";
import { useServerMutations } from "./queries";

/** A `datetime-local` value (the browser's local time) as the instant the API takes; blank for none. */
const LocalDateTime = z.string().transform((text, ctx) => {
  if (!text) return undefined;
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) {
    ctx.issues.push({ code: "custom", input: text, message: "must be a date and time" });
    return z.NEVER;
  }
  return at.toISOString();
});

/**
 * The form, then the shared schema: the expiry typed in local time, the allow-list as a switch and
 * ticked tools (the switch off sends no list, which means every tool). The fields bear the body's
 * names, so the shared schema's errors and the server's land on them.
 */
const KeyForm = z
  .object({
    name: z.string(),
    expiresAt: LocalDateTime,
    restrict: z.boolean(),
    tools: z.array(z.string()),
  })
  .transform(({ name, expiresAt, restrict, tools }) => ({
    name,
    ...(expiresAt ? { expiresAt } : {}),
    ...(restrict ? { tools } : {}),
  }))
  .pipe(CreateApiKeyInput);

type FormIn = z.input<typeof KeyForm>;
const EMPTY: FormIn = { name: "", expiresAt: "", restrict: false, tools: [] };

/**
 * Creating a key of one server: its name, expiry and optional tool allow-list (from the tools the
 * server's last check listed); then the key, shown this once, with client set-ups filled in.
 */
export function CreateKeyDialog({
  server,
  open,
  onClose,
}: {
  server: Pick<Server, "id" | "name" | "transport" | "tools">;
  open: boolean;
  onClose: () => void;
}) {
  const { createKey } = useServerMutations();
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const url = useGatewayUrl(server);
  const form = useForm<FormIn, unknown, z.output<typeof KeyForm>>({
    resolver: zodResolver(KeyForm),
    defaultValues: EMPTY,
  });
  const restrict = useWatch({ control: form.control, name: "restrict" });
  const { errors, isSubmitting } = form.formState;
  const known = server.tools.map((t) => t.name);

  const close = () => {
    form.reset(EMPTY);
    onClose();
  };
  const submit = form.handleSubmit(async (input) => {
    try {
      const key = await createKey.mutateAsync({ serverId: server.id, input });
      close();
      setCreated(key);
      toast.success(`Created key ${key.name}`);
    } catch (err) {
      for (const issue of fieldIssues(err)) {
        const field = issue.field.split(".")[0] as keyof FormIn;
        if (field in EMPTY) form.setError(field, { message: issue.message });
      }
      toast.error(describeError(err));
    }
  });

  return (
    <>
      <Dialog open={open} onClose={close} title="Create an API key">
        <form className="space-y-3" onSubmit={submit} noValidate>
          <Field
            id="key-name"
            label="Name"
            error={errors.name?.message}
            hint="Who or what will use it, e.g. ci-deploy"
          >
            <Input
              id="key-name"
              maxLength={API_KEY_NAME_MAX}
              aria-invalid={!!errors.name}
              {...form.register("name")}
            />
          </Field>
          <Field id="key-expires" label="Expires (optional)" error={errors.expiresAt?.message}>
            <Input id="key-expires" type="datetime-local" {...form.register("expiresAt")} />
          </Field>
          <label className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              className="h-4 w-4"
              disabled={known.length === 0}
              {...form.register("restrict")}
            />
            Only some tools
          </label>
          {known.length === 0 ? (
            <p className="text-xs text-slate-600 dark:text-slate-400">
              This key may use every tool. Limiting it needs a check that lists the server's tools first.
            </p>
          ) : (
            restrict && (
              <fieldset className="space-y-1" aria-describedby={errors.tools ? "key-tools-error" : undefined}>
                <legend className="text-sm font-medium">Tools this key may list and call</legend>
                {known.map((name) => (
                  <label key={name} className="flex items-center gap-2 text-sm">
                    <input type="checkbox" className="h-4 w-4" value={name} {...form.register("tools")} />
                    <code>{name}</code>
                  </label>
                ))}
                {errors.tools && (
                  <p
                    id="key-tools-error"
                    role="alert"
                    className="text-xs font-medium text-rose-700 dark:text-rose-300"
                  >
                    {errors.tools.message ?? errors.tools.root?.message}
                  </p>
                )}
              </fieldset>
            )
          )}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" busy={isSubmitting}>
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
        <div className="mt-2 flex justify-end">
          <Button
            variant="secondary"
            aria-label="Copy the key"
            onClick={() => copyText(created?.key ?? "", "the key")}
          >
            Copy
          </Button>
        </div>
        {created && url && (
          <div className="mt-3 border-t border-slate-900/10 pt-3 dark:border-white/10">
            <h3 className="mb-2 text-sm font-semibold">Connect a client</h3>
            <ConnectSnippets name={server.name} url={url} transport={server.transport} apiKey={created.key} />
          </div>
        )}
        <div className="mt-3 flex justify-end">
          <Button onClick={() => setCreated(null)}>I have stored it</Button>
        </div>
      </Dialog>
    </>
  );
}
