import { zodResolver } from "@hookform/resolvers/zod";
import {
  HeaderName,
  httpUrl,
  type ProbeResult,
  type Server,
  ServerName,
  Tag,
  Transport,
} from "@switchboard/shared";
import { useFieldArray, useForm } from "react-hook-form";
import toast from "react-hot-toast/headless";
import { useLocation } from "wouter";
import { z } from "zod";
import { Button, ErrorState, Field, HealthBadge, Input, Panel, Spinner } from "../../components/ui";
import { ApiError, describeError, fieldIssues } from "../../lib/api";
import { useServer, useServerMutations } from "./queries";

/** The shared rules, plus what only a form needs: tags typed as one comma-separated line. */
const FormSchema = z.object({
  name: ServerName,
  displayName: z.string().trim().max(100, "At most 100 characters"),
  description: z.string().max(2000, "At most 2,000 characters"),
  transport: Transport,
  url: httpUrl,
  tagsText: z
    .string()
    .transform((s) => [
      ...new Set(
        s
          .split(",")
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(Tag).max(20, "At most 20 tags")),
  checkIntervalSeconds: z.coerce.number().int().min(10, "At least 10 seconds").max(86_400, "At most a day"),
  enabled: z.boolean(),
  headers: z.array(z.object({ name: HeaderName, value: z.string().max(4096), saved: z.boolean() })).max(20),
});
type FormIn = z.input<typeof FormSchema>;
type FormOut = z.output<typeof FormSchema>;

const toForm = (s?: Server): FormIn => ({
  name: s?.name ?? "",
  displayName: s?.displayName ?? "",
  description: s?.description ?? "",
  transport: s?.transport ?? "streamable-http",
  url: s?.url ?? "",
  tagsText: s?.tags.join(", ") ?? "",
  checkIntervalSeconds: s?.checkIntervalSeconds ?? 60,
  enabled: s?.enabled ?? true,
  headers: s?.headers.map((h) => ({ name: h.name, value: "", saved: true })) ?? [],
});

export function EditServerPage({ id }: { id: string }) {
  const query = useServer(id, true);
  if (query.isPending) return <Spinner label="Loading server…" />;
  if (query.isError) return <ErrorState error={describeError(query.error)} retry={() => query.refetch()} />;
  return <ServerForm server={query.data} />;
}

/** Register a server, or edit one: field errors from the client and from the server, and "Test connection". */
export function ServerForm({ server }: { server?: Server }) {
  const [, navigate] = useLocation();
  const { create, update, probe } = useServerMutations();
  const form = useForm<FormIn, unknown, FormOut>({
    resolver: zodResolver(FormSchema),
    defaultValues: toForm(server),
  });
  const headers = useFieldArray({ control: form.control, name: "headers" });
  const { errors, isSubmitting } = form.formState;

  const submit = form.handleSubmit(async (v) => {
    for (const [i, h] of v.headers.entries()) {
      if (!h.saved && !h.value)
        form.setError(`headers.${i}.value`, { message: "Enter a value for a new header" });
    }
    if (v.headers.some((h) => !h.saved && !h.value)) return;
    const base = {
      name: v.name,
      displayName: v.displayName || v.name,
      description: v.description,
      transport: v.transport,
      url: v.url,
      tags: v.tagsText,
      checkIntervalSeconds: v.checkIntervalSeconds,
      enabled: v.enabled,
    };
    try {
      const saved = server
        ? await update.mutateAsync({
            id: server.id,
            version: server.version,
            input: {
              ...base,
              headers: v.headers.map((h) => (h.value ? { name: h.name, value: h.value } : { name: h.name })),
            },
          })
        : await create.mutateAsync({
            ...base,
            headers: v.headers.map((h) => ({ name: h.name, value: h.value })),
          });
      toast.success(server ? `Saved ${saved.displayName}` : `Registered ${saved.displayName}`);
      navigate(`/servers/${saved.id}`);
    } catch (err) {
      for (const issue of fieldIssues(err)) {
        const field = issue.field === "tags" || issue.field.startsWith("tags.") ? "tagsText" : issue.field;
        form.setError(field as keyof FormIn, { message: issue.message });
      }
      if (err instanceof ApiError && err.status === 412)
        toast.error("Someone changed this server meanwhile: reload to see their changes.");
      else toast.error(describeError(err));
    }
  });

  const testConnection = async () => {
    const ok = await form.trigger(["url", "transport", "headers"]);
    if (!ok) return;
    const v = form.getValues();
    try {
      const result = await probe.mutateAsync({
        url: v.url,
        transport: v.transport,
        headers: (v.headers ?? []).filter((h) => h.value).map((h) => ({ name: h.name, value: h.value })),
      });
      if (result.status === "unhealthy") toast.error(`Connection failed: ${result.error}`);
      else toast.success(`Connected: ${result.tools.length} tools in ${result.latencyMs} ms`);
    } catch (err) {
      toast.error(describeError(err));
    }
  };

  return (
    <Panel title={server ? `Edit ${server.displayName}` : "Register an MCP server"}>
      <form onSubmit={submit} noValidate className="grid gap-4 md:grid-cols-2">
        <Field
          id="name"
          label="Name"
          error={errors.name?.message}
          hint="A slug: lowercase letters, digits and '-'"
        >
          <Input id="name" {...form.register("name")} aria-invalid={!!errors.name} />
        </Field>
        <Field id="displayName" label="Display name" error={errors.displayName?.message}>
          <Input id="displayName" {...form.register("displayName")} />
        </Field>
        <Field
          id="url"
          label="URL"
          error={errors.url?.message}
          hint="The MCP endpoint, e.g. https://mcp.example.com/mcp"
        >
          <Input id="url" type="url" {...form.register("url")} aria-invalid={!!errors.url} />
        </Field>
        <Field id="transport" label="Transport" error={errors.transport?.message}>
          <select id="transport" className="field" {...form.register("transport")}>
            <option value="streamable-http">Streamable HTTP</option>
            <option value="sse">SSE</option>
          </select>
        </Field>
        <div className="md:col-span-2">
          <Field id="description" label="Description (Markdown)" error={errors.description?.message}>
            <textarea id="description" rows={4} className="field" {...form.register("description")} />
          </Field>
        </div>
        <Field
          id="tagsText"
          label="Tags"
          error={errors.tagsText?.message}
          hint="Comma-separated, e.g. prod, team-a"
        >
          <Input id="tagsText" {...form.register("tagsText")} />
        </Field>
        <Field
          id="checkIntervalSeconds"
          label="Check every (seconds)"
          error={errors.checkIntervalSeconds?.message}
        >
          <Input
            id="checkIntervalSeconds"
            type="number"
            min={10}
            {...form.register("checkIntervalSeconds")}
          />
        </Field>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" className="h-4 w-4" {...form.register("enabled")} /> Enabled (checked on
          schedule)
        </label>

        <fieldset className="space-y-2 md:col-span-2">
          <legend className="text-sm font-medium">Upstream headers</legend>
          <p className="text-xs text-slate-600 dark:text-slate-400">
            Sent to the MCP server with every check, e.g. Authorization. Values are encrypted and never shown
            again; leave a saved value blank to keep it.
          </p>
          {headers.fields.map((f, i) => (
            <div key={f.id} className="grid gap-2 sm:grid-cols-[1fr_2fr_auto]">
              <Field
                id={`headers.${i}.name`}
                label={`Header ${i + 1} name`}
                error={errors.headers?.[i]?.name?.message}
              >
                <Input id={`headers.${i}.name`} {...form.register(`headers.${i}.name`)} />
              </Field>
              <Field
                id={`headers.${i}.value`}
                label={`Header ${i + 1} value`}
                error={errors.headers?.[i]?.value?.message}
              >
                <Input
                  id={`headers.${i}.value`}
                  type="password"
                  autoComplete="off"
                  placeholder={f.saved ? "•••••••• saved (unchanged)" : ""}
                  {...form.register(`headers.${i}.value`)}
                />
              </Field>
              <Button
                variant="ghost"
                className="self-end"
                onClick={() => headers.remove(i)}
                aria-label={`Remove header ${i + 1}`}
              >
                Remove
              </Button>
            </div>
          ))}
          <Button
            variant="secondary"
            onClick={() => headers.append({ name: "", value: "", saved: false })}
            disabled={headers.fields.length >= 20}
          >
            Add header
          </Button>
        </fieldset>

        <div className="flex flex-wrap items-center gap-2 md:col-span-2">
          <Button type="submit" busy={isSubmitting}>
            {server ? "Save changes" : "Register server"}
          </Button>
          <Button variant="secondary" busy={probe.isPending} onClick={testConnection}>
            Test connection
          </Button>
          <Button variant="ghost" onClick={() => history.back()}>
            Cancel
          </Button>
        </div>
        {probe.data && <ProbeSummary result={probe.data} />}
      </form>
    </Panel>
  );
}

function ProbeSummary({ result }: { result: ProbeResult }) {
  return (
    <div
      role="status"
      className="rounded-lg border border-slate-900/10 p-3 text-sm md:col-span-2 dark:border-white/10"
    >
      <div className="flex items-center gap-2">
        <HealthBadge status={result.status} /> {result.latencyMs} ms{" "}
        {result.error && <span>· {result.error}</span>}
      </div>
      {result.serverInfo && (
        <p className="mt-1">
          {result.serverInfo.name} {result.serverInfo.version} · protocol {result.serverInfo.protocolVersion}
        </p>
      )}
      {result.tools.length > 0 && <p className="mt-1">Tools: {result.tools.map((t) => t.name).join(", ")}</p>}
    </div>
  );
}
