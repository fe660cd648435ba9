import { zodResolver } from "@hookform/resolvers/zod";
import { SLUG } from "@switchboard/shared";
import { useForm } from "react-hook-form";
import toast from "react-hot-toast/headless";
import { useLocation } from "wouter";
import { z } from "zod";
import { Button, Field, Input, Panel } from "../../components/ui";
import { api, describeError } from "../../lib/api";
import { useSession } from "./session";

const CreateOrg = z.object({
  name: z.string().trim().min(1, "Name your organization").max(100),
  slug: z.string().regex(SLUG, "Lowercase letters, digits and '-'"),
});
type Values = z.infer<typeof CreateOrg>;

const slugify = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);

/** Creates an organization (a tenant); it becomes the active one. */
export function CreateOrgPage() {
  const { refresh, organizations } = useSession();
  const [, navigate] = useLocation();
  const form = useForm<Values>({ resolver: zodResolver(CreateOrg), defaultValues: { name: "", slug: "" } });
  const { errors, isSubmitting } = form.formState;
  const submit = form.handleSubmit(async (values) => {
    try {
      await api("/api/auth/organization/create", { method: "POST", body: values });
      await refresh();
      toast.success(`Created ${values.name}`);
      navigate("/");
    } catch (err) {
      toast.error(describeError(err));
    }
  });
  return (
    <main className="mx-auto max-w-lg p-4 pt-10">
      <Panel title="Create an organization">
        <p className="mb-4 text-sm text-slate-600 dark:text-slate-300">
          {organizations.length === 0
            ? "Your MCP servers, keys and audit trail live in an organization. Create one to start."
            : "A new organization starts empty; you will be its owner."}
        </p>
        <form onSubmit={submit} noValidate className="space-y-4">
          <Field id="org-name" label="Name" error={errors.name?.message}>
            <Input
              id="org-name"
              {...form.register("name", {
                onChange: (e) =>
                  form.setValue("slug", slugify(e.target.value), {
                    shouldValidate: form.formState.isSubmitted,
                  }),
              })}
            />
          </Field>
          <Field
            id="org-slug"
            label="Slug"
            error={errors.slug?.message}
            hint="Used in links; lowercase letters, digits and '-'"
          >
            <Input id="org-slug" {...form.register("slug")} />
          </Field>
          <Button type="submit" busy={isSubmitting}>
            Create organization
          </Button>
        </form>
      </Panel>
    </main>
  );
}
