import { zodResolver } from "@hookform/resolvers/zod";
import {
  CHECK_INTERVAL_DEFAULT,
  CHECK_INTERVAL_MAX,
  CHECK_INTERVAL_MIN,
  CreateServerInput,
  type DeclaredHeaderInput,
  MAX_HEADERS,
  type ProbeResult,
  RepositoryInput,
  type Server,
  Transport,
  UpdateServerInput,
} from "@switchboard/shared";
import { useState } from "react";
import { useFieldArray, useForm } from "react-hook-form";
import toast from "react-hot-toast/headless";
import { useLocation } from "wouter";
import { z } from "zod";
import { Button, ErrorState, Field, HealthBadge, Input, Panel, Spinner } from "../../components/ui";
import { describeError, fieldIssues } from "../../lib/api";
import { TRANSPORT_LABELS } from "../../lib/format";
import { protocolLabel, reasonLine, reasonText } from "../../lib/health-words";
import { AuthChallengeNote } from "./auth-challenge";
import { Reason } from "./health-reason";
import { EditConflict, useServer, useServerMutations } from "./queries";

const shared = CreateServerInput.shape;

/** A box left blank is "none" (null), as the API takes it. */
const blankToNull = z.string().transform((s) => (s.trim() ? s.trim() : null));

/** "Prod, team-a, prod" → ["prod", "team-a"]: a convenience, the shared tag rules still apply. */
const parseTags = (text: string) => [
  ...new Set(
    text
      .split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  ),
];

/**
 * Tags typed as one line, held to the shared tag rules. A rule broken by one tag would land on a
 * field of its own (`tagsText.3`) that the form has not got, so it is told here, naming the tag.
 */
const TagsText = z.string().transform((text, ctx) => {
  const tags = parseTags(text);
  const checked = shared.tags.unwrap().safeParse(tags);
  if (checked.success) return checked.data;
  for (const issue of checked.error.issues) {
    const tag = typeof issue.path[0] === "number" ? tags[issue.path[0]] : undefined;
    ctx.issues.push({
      code: "custom",
      input: text,
      message: tag === undefined ? issue.message : `"${tag}" ${issue.message}`,
    });
  }
  return z.NEVER;
});

/**
 * Each field is the shared schema's, after the steps only a form needs: tags typed as one line,
 * a blank display name left out (the server then uses the name), a number box that may be empty.
 */
const fields = {
  name: shared.name,
  displayName: z
    .string()
    .transform((s) => (s.trim() ? s : undefined))
    .pipe(shared.displayName),
  description: shared.description,
  transport: shared.transport,
  url: shared.url,
  tagsText: TagsText,
  // `valueAsNumber` reads an empty box as NaN.
  checkIntervalSeconds: z.number("Enter a number of seconds").pipe(shared.checkIntervalSeconds.unwrap()),
  enabled: shared.enabled,
  registryName: blankToNull.pipe(shared.registryName.unwrap()),
  title: blankToNull.pipe(shared.title.unwrap()),
  websiteUrl: blankToNull.pipe(shared.websiteUrl.unwrap()),
  releaseVersion: blankToNull.pipe(shared.releaseVersion.unwrap()),
  repositoryUrl: z.string(),
  repositorySource: z.string(),
  repositorySubfolder: z.string(),
  /** Kept as it was: the form does not show the forge's id, and must not lose it. */
  repositoryId: z.string(),
  declaredHeaders: z
    .array(
      z
        .object({ name: z.string(), description: z.string(), isRequired: z.boolean(), isSecret: z.boolean() })
        .transform(
          ({ description, ...d }): DeclaredHeaderInput => (description.trim() ? { ...d, description } : d),
        ),
    )
    .pipe(shared.declaredHeaders.unwrap()),
};

/**
 * The repository's boxes as the shared `repository`: none when its URL and source are blank, else
 * held to the shared rules, which land on `repositoryUrl` or `repositorySource`.
 */
function withRepository<
  T extends {
    repositoryUrl: string;
    repositorySource: string;
    repositorySubfolder: string;
    repositoryId: string;
  },
>(body: T, ctx: z.RefinementCtx) {
  const { repositoryUrl, repositorySource, repositorySubfolder, repositoryId, ...rest } = body;
  if (!repositoryUrl.trim() && !repositorySource.trim()) return { ...rest, repository: null };
  const parsed = RepositoryInput.safeParse({
    url: repositoryUrl.trim(),
    source: repositorySource.trim(),
    ...(repositoryId.trim() ? { id: repositoryId.trim() } : {}),
    ...(repositorySubfolder.trim() ? { subfolder: repositorySubfolder.trim() } : {}),
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field =
        issue.path[0] === "source"
          ? "repositorySource"
          : issue.path[0] === "subfolder"
            ? "repositorySubfolder"
            : "repositoryUrl";
      ctx.issues.push({ code: "custom", input: body, path: [field], message: issue.message });
    }
    return z.NEVER;
  }
  return { ...rest, repository: parsed.data };
}

/** A header as the form holds it: `saved` headers have a value stored that the form never sees. */
const HeaderRow = z.object({ name: z.string(), value: z.string(), saved: z.boolean() });

/** Registering: every header is new, so the shared rules ask each for a value. */
const CreateForm = z
  .object({
    ...fields,
    headers: z
      .array(HeaderRow.transform(({ name, value }) => ({ name, value })))
      .pipe(shared.headers.unwrap()),
  })
  .transform(({ tagsText, ...body }, ctx) => withRepository({ ...body, tags: tagsText }, ctx));

/**
 * Editing: a saved header left blank keeps its stored value, which the API reads from a header
 * sent without `value`; a new one sent blank still fails the shared rules. A display name left
 * out would keep the old one, so a blank one is sent as the name, as registering does.
 */
const EditForm = z
  .object({
    ...fields,
    headers: z
      .array(HeaderRow.transform(({ name, value, saved }) => (saved && !value ? { name } : { name, value })))
      .pipe(UpdateServerInput.shape.headers.unwrap()),
  })
  .transform(({ tagsText, ...body }, ctx) =>
    withRepository({ ...body, displayName: body.displayName ?? body.name, tags: tagsText }, ctx),
  );

type FormIn = z.input<typeof CreateForm>;

const toForm = (s?: Server): FormIn => ({
  name: s?.name ?? "",
  displayName: s?.displayName ?? "",
  description: s?.description ?? "",
  transport: s?.transport ?? Transport.enum["streamable-http"],
  url: s?.url ?? "",
  tagsText: s?.tags.join(", ") ?? "",
  checkIntervalSeconds: s?.checkIntervalSeconds ?? CHECK_INTERVAL_DEFAULT,
  enabled: s?.enabled ?? true,
  headers: s?.headers.map((h) => ({ name: h.name, value: "", saved: true })) ?? [],
  registryName: s?.registryName ?? "",
  title: s?.title ?? "",
  websiteUrl: s?.websiteUrl ?? "",
  releaseVersion: s?.releaseVersion ?? "",
  repositoryUrl: s?.repository?.url ?? "",
  repositorySource: s?.repository?.source ?? "",
  repositorySubfolder: s?.repository?.subfolder ?? "",
  repositoryId: s?.repository?.id ?? "",
  declaredHeaders:
    s?.declaredHeaders.map((d) => ({
      name: d.name,
      description: d.description ?? "",
      isRequired: d.isRequired,
      isSecret: d.isSecret,
    })) ?? [],
});

/** Each field as its box is labelled, to say which ones someone else changed. */
const FIELD_LABELS: Record<keyof FormIn, string> = {
  name: "Name",
  displayName: "Display name",
  description: "Description",
  transport: "Transport",
  url: "URL",
  tagsText: "Tags",
  checkIntervalSeconds: "Check every (seconds)",
  enabled: "Enabled",
  headers: "Upstream headers",
  registryName: "Registry name",
  title: "Title",
  websiteUrl: "Website",
  releaseVersion: "Release version",
  repositoryUrl: "Repository URL",
  repositorySource: "Repository source",
  repositorySubfolder: "Repository subfolder",
  repositoryId: "Repository id",
  declaredHeaders: "Declared headers",
};

const shown = (value: FormIn[keyof FormIn]) =>
  Array.isArray(value)
    ? value.map((h) => h.name).join(", ") || "(none)"
    : typeof value === "boolean"
      ? value
        ? "yes"
        : "no"
      : String(value) || "(empty)";

/** The fields whose boxes would read differently for `after` than for `before`. */
function changedFields(before: Server, after: Server) {
  const was = toForm(before);
  const now = toForm(after);
  return (Object.keys(FIELD_LABELS) as (keyof FormIn)[])
    .filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]))
    .map((k) => ({ field: k, label: FIELD_LABELS[k], was: shown(was[k]), theirs: shown(now[k]) }));
}

/** The API's issue paths name the body's fields; the form types tags as `tagsText`, the repository in parts. */
const formField = (path: string) =>
  path === "tags" || path.startsWith("tags.")
    ? "tagsText"
    : path === "repository.source"
      ? "repositorySource"
      : path.startsWith("repository")
        ? "repositoryUrl"
        : path;

export function EditServerPage({ id }: { id: string }) {
  const query = useServer(id, true);
  if (query.isPending) return <Spinner label="Loading server…" />;
  if (query.isError) return <ErrorState error={describeError(query.error)} retry={() => query.refetch()} />;
  return <ServerForm server={query.data} />;
}

/** Register a server, or edit one: field errors from the client and from the server, and "Test connection". */
export function ServerForm({ server }: { server?: Server }) {
  const { create, update } = useServerMutations();
  return server ? (
    <ServerFormFields
      server={server}
      schema={EditForm}
      send={(input, version) => update.mutateAsync({ id: server.id, version, input })}
    />
  ) : (
    <ServerFormFields schema={CreateForm} send={(input) => create.mutateAsync(input)} />
  );
}

function ServerFormFields<Body>({
  server,
  schema,
  send,
}: {
  server?: Server;
  schema: z.ZodType<Body, FormIn>;
  send: (body: Body, version?: number) => Promise<Server>;
}) {
  const [, navigate] = useLocation();
  const { probe } = useServerMutations();
  // The copy the form opened on (or was reloaded to). Live updates keep refreshing `server`, so its
  // version is not the one of the values in the boxes: saving on it would silently overwrite
  // whatever someone else changed meanwhile.
  const [opened, setOpened] = useState(server);
  /** The server as it is now, after an edit was refused because it changed since `opened`. */
  const [conflict, setConflict] = useState<Server | null>(null);
  const form = useForm<FormIn, unknown, Body>({
    resolver: zodResolver(schema),
    defaultValues: toForm(server),
  });
  const headers = useFieldArray({ control: form.control, name: "headers" });
  const declared = useFieldArray({ control: form.control, name: "declaredHeaders" });
  const { errors, isSubmitting } = form.formState;
  // Rules on the whole list (how many, no name twice) land on the list, not on a row.
  const headerListError = errors.headers?.root?.message ?? errors.headers?.message;

  /** Saves the boxes over `version` of the server: the one opened, or, knowingly, the one now. */
  const save = (version = opened?.version) =>
    form.handleSubmit(async (body) => {
      try {
        const saved = await send(body, version);
        toast.success(server ? `Saved ${saved.displayName}` : `Registered ${saved.displayName}`);
        navigate(`/servers/${saved.id}`);
      } catch (err) {
        if (err instanceof EditConflict) {
          setConflict(err.current); // the conflict panel says it, field by field
          return;
        }
        for (const issue of fieldIssues(err)) {
          form.setError(formField(issue.field) as keyof FormIn, { message: issue.message });
        }
        toast.error(describeError(err));
      }
    });
  const submit = save();
  const reload = (current: Server) => {
    form.reset(toForm(current));
    setOpened(current);
    setConflict(null);
  };

  const testConnection = async () => {
    const ok = await form.trigger(["url", "transport", "headers"]);
    if (!ok) return;
    const v = form.getValues();
    try {
      const result = await probe.mutateAsync({
        url: v.url,
        transport: v.transport,
        // A saved header's value stays on the server, so a test of unsaved settings goes without it.
        headers: v.headers.filter((h) => h.value).map((h) => ({ name: h.name, value: h.value })),
      });
      // Refused before any connection: the URL is the thing to change, so it is said at the field.
      if (result.error === "target_refused") form.setError("url", { message: reasonText(result.error) });
      if (result.status === "unhealthy")
        toast.error(`Connection failed: ${reasonLine(result.error ?? "error")}`);
      else if (result.status === "auth_required")
        toast.success("Reachable, but it asks for OAuth sign-in: add an Authorization header");
      else toast.success(`Connected: ${result.tools.length} tools in ${result.latencyMs} ms`);
    } catch (err) {
      toast.error(describeError(err));
    }
  };

  return (
    <Panel title={opened ? `Edit ${opened.displayName}` : "Register an MCP server"}>
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
            {Transport.options.map((t) => (
              <option key={t} value={t}>
                {TRANSPORT_LABELS[t]}
              </option>
            ))}
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
            min={CHECK_INTERVAL_MIN}
            max={CHECK_INTERVAL_MAX}
            {...form.register("checkIntervalSeconds", { valueAsNumber: true })}
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
          {headerListError && (
            <p
              id="headers-error"
              role="alert"
              className="text-xs font-medium text-rose-700 dark:text-rose-300"
            >
              {headerListError}
            </p>
          )}
          <Button
            variant="secondary"
            onClick={() => headers.append({ name: "", value: "", saved: false })}
            disabled={headers.fields.length >= MAX_HEADERS}
          >
            Add header
          </Button>
        </fieldset>

        <fieldset className="space-y-2 md:col-span-2">
          <legend className="text-sm font-medium">Declared headers</legend>
          <p className="text-xs text-slate-600 dark:text-slate-400">
            Headers the server expects, as server.json declares them. A required one without a value above
            leaves the server "needs configuration": listed, but not checked nor served by the gateway.
          </p>
          {declared.fields.map((f, i) => (
            <div key={f.id} className="grid gap-2 sm:grid-cols-[1fr_2fr_auto_auto_auto] sm:items-end">
              <Field
                id={`declaredHeaders.${i}.name`}
                label={`Declared header ${i + 1} name`}
                error={errors.declaredHeaders?.[i]?.name?.message}
              >
                <Input id={`declaredHeaders.${i}.name`} {...form.register(`declaredHeaders.${i}.name`)} />
              </Field>
              <Field
                id={`declaredHeaders.${i}.description`}
                label={`Declared header ${i + 1} description`}
                error={errors.declaredHeaders?.[i]?.description?.message}
              >
                <Input
                  id={`declaredHeaders.${i}.description`}
                  {...form.register(`declaredHeaders.${i}.description`)}
                />
              </Field>
              <label className="flex items-center gap-1 pb-2 text-sm">
                <input type="checkbox" {...form.register(`declaredHeaders.${i}.isRequired`)} /> Required
              </label>
              <label className="flex items-center gap-1 pb-2 text-sm">
                <input type="checkbox" {...form.register(`declaredHeaders.${i}.isSecret`)} /> Secret
              </label>
              <Button
                variant="ghost"
                onClick={() => declared.remove(i)}
                aria-label={`Remove declared header ${i + 1}`}
              >
                Remove
              </Button>
            </div>
          ))}
          {(errors.declaredHeaders?.root?.message ?? errors.declaredHeaders?.message) && (
            <p role="alert" className="text-xs font-medium text-rose-700 dark:text-rose-300">
              {errors.declaredHeaders?.root?.message ?? errors.declaredHeaders?.message}
            </p>
          )}
          <Button
            variant="secondary"
            onClick={() => declared.append({ name: "", description: "", isRequired: true, isSecret: true })}
            disabled={declared.fields.length >= MAX_HEADERS}
          >
            Declare a header
          </Button>
        </fieldset>

        <fieldset className="grid gap-4 md:col-span-2 md:grid-cols-2">
          <legend className="mb-2 text-sm font-medium">Registry (server.json)</legend>
          <Field
            id="registryName"
            label="Registry name"
            error={errors.registryName?.message}
            hint="namespace/name, e.g. com.acme/weather; blank: the organization's namespace and the name"
          >
            <Input id="registryName" {...form.register("registryName")} />
          </Field>
          <Field id="title" label="Title" error={errors.title?.message}>
            <Input id="title" {...form.register("title")} />
          </Field>
          <Field
            id="releaseVersion"
            label="Release version"
            error={errors.releaseVersion?.message}
            hint="The server's own version, e.g. 1.4.0"
          >
            <Input id="releaseVersion" {...form.register("releaseVersion")} />
          </Field>
          <Field id="websiteUrl" label="Website" error={errors.websiteUrl?.message}>
            <Input id="websiteUrl" type="url" {...form.register("websiteUrl")} />
          </Field>
          <Field id="repositoryUrl" label="Repository URL" error={errors.repositoryUrl?.message}>
            <Input id="repositoryUrl" type="url" {...form.register("repositoryUrl")} />
          </Field>
          <Field
            id="repositorySource"
            label="Repository source"
            error={errors.repositorySource?.message}
            hint="e.g. github"
          >
            <Input id="repositorySource" {...form.register("repositorySource")} />
          </Field>
          <Field
            id="repositorySubfolder"
            label="Repository subfolder"
            error={errors.repositorySubfolder?.message}
          >
            <Input id="repositorySubfolder" {...form.register("repositorySubfolder")} />
          </Field>
        </fieldset>

        {opened && conflict && (
          <ConflictPanel
            opened={opened}
            current={conflict}
            busy={isSubmitting}
            onReload={() => reload(conflict)}
            onOverwrite={save(conflict.version)}
          />
        )}
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

/** What someone else changed since the form opened, and the two ways on: theirs, or mine over it. */
function ConflictPanel({
  opened,
  current,
  busy,
  onReload,
  onOverwrite,
}: {
  opened: Server;
  current: Server;
  busy: boolean;
  onReload: () => void;
  onOverwrite: () => void;
}) {
  const changes = changedFields(opened, current);
  return (
    <div
      role="alert"
      aria-labelledby="conflict-title"
      className="space-y-3 rounded-lg border border-amber-400 bg-amber-50/90 p-4 text-sm text-amber-950 md:col-span-2 dark:border-amber-500/40 dark:bg-amber-950/40 dark:text-amber-100"
    >
      <h3 id="conflict-title" className="font-semibold">
        Someone changed this server since you opened it
      </h3>
      {changes.length > 0 ? (
        <table className="w-full text-left">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">When you opened it</th>
              <th scope="col">Theirs now</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((c) => (
              <tr key={c.field} data-field={c.field} className="align-top">
                <th scope="row" className="pr-3 font-medium">
                  {c.label}
                </th>
                <td className="whitespace-pre-wrap break-words pr-3">{c.was}</td>
                <td className="whitespace-pre-wrap break-words">{c.theirs}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>None of the fields shown here changed: a stored header value may have.</p>
      )}
      <p>Reload their version to start again from it, or overwrite it with what you entered.</p>
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" onClick={onReload}>
          Reload their version
        </Button>
        <Button variant="danger" busy={busy} onClick={onOverwrite}>
          Overwrite with mine
        </Button>
      </div>
    </div>
  );
}

function ProbeSummary({ result }: { result: ProbeResult }) {
  return (
    <div
      role="status"
      className="rounded-lg border border-slate-900/10 p-3 text-sm md:col-span-2 dark:border-white/10"
    >
      <div className="flex items-center gap-2">
        <HealthBadge status={result.status} showCode /> {result.latencyMs} ms{" "}
        {result.error && (
          <span>
            · <Reason code={result.error} />
          </span>
        )}
      </div>
      {result.status === "auth_required" && (
        <div className="mt-2">
          <AuthChallengeNote challenge={result.authChallenge} />
        </div>
      )}
      {result.serverInfo && (
        <p className="mt-1">
          {result.serverInfo.name} {result.serverInfo.version} · protocol {protocolLabel(result.serverInfo)}
        </p>
      )}
      {result.tools.length > 0 && <p className="mt-1">Tools: {result.tools.map((t) => t.name).join(", ")}</p>}
    </div>
  );
}
