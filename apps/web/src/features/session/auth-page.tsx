import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import toast from "react-hot-toast/headless";
import { Link, useLocation, useSearch } from "wouter";
import { z } from "zod";
import { Button, Field, Input, Panel } from "../../components/ui";
import { api, describeError } from "../../lib/api";
import { nextPage } from "./next-page";
import { useSession } from "./session";

const SignIn = z.object({
  email: z.email("Enter an email address"),
  password: z.string().min(8, "At least 8 characters"),
});
const SignUp = SignIn.extend({ name: z.string().trim().min(1, "Tell us your name").max(100) });
type SignUpValues = z.infer<typeof SignUp>;

/** Sign-in and sign-up: one form, two modes. */
export function AuthPage({ mode }: { mode: "sign-in" | "sign-up" }) {
  const { refresh } = useSession();
  const [, navigate] = useLocation();
  // `?next=` (the page asked for before signing in) is kept between the two modes.
  const search = useSearch();
  const carried = search ? `?${search}` : "";
  const [error, setError] = useState<string | null>(null);
  const form = useForm<SignUpValues>({
    resolver: zodResolver(
      mode === "sign-up" ? SignUp : SignIn.extend({ name: z.string().optional().default("") }),
    ) as never,
    defaultValues: { email: "", password: "", name: "" },
  });
  const { errors, isSubmitting } = form.formState;

  const submit = form.handleSubmit(async (values) => {
    setError(null);
    try {
      // Sign-up answers alike for a new and a taken address and starts no session: sign in next.
      if (mode === "sign-up") await api("/api/auth/sign-up/email", { method: "POST", body: values });
      await api("/api/auth/sign-in/email", {
        method: "POST",
        body: { email: values.email, password: values.password },
      });
      await refresh();
      toast.success(mode === "sign-up" ? "Welcome to Switchboard" : "Signed in");
      navigate(nextPage(search));
    } catch (err) {
      setError(describeError(err));
      toast.error(describeError(err));
    }
  });

  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center p-4">
      <h1 className="mb-6 text-center text-3xl font-semibold tracking-tight">Switchboard</h1>
      <Panel title={mode === "sign-up" ? "Create your account" : "Sign in"}>
        <form onSubmit={submit} noValidate className="space-y-4">
          {mode === "sign-up" && (
            <Field id="name" label="Name" error={errors.name?.message}>
              <Input id="name" autoComplete="name" {...form.register("name")} aria-invalid={!!errors.name} />
            </Field>
          )}
          <Field id="email" label="Email" error={errors.email?.message}>
            <Input
              id="email"
              type="email"
              autoComplete="email"
              {...form.register("email")}
              aria-invalid={!!errors.email}
            />
          </Field>
          <Field id="password" label="Password" error={errors.password?.message}>
            <Input
              id="password"
              type="password"
              autoComplete={mode === "sign-up" ? "new-password" : "current-password"}
              {...form.register("password")}
              aria-invalid={!!errors.password}
            />
          </Field>
          {error && (
            <p role="alert" className="text-sm text-rose-700 dark:text-rose-300">
              {error}
            </p>
          )}
          <Button type="submit" busy={isSubmitting} className="w-full">
            {mode === "sign-up" ? "Create account" : "Sign in"}
          </Button>
        </form>
        <p className="mt-4 text-center text-sm">
          {mode === "sign-up" ? (
            <>
              Have an account?{" "}
              <Link className="underline" href={`/sign-in${carried}`}>
                Sign in
              </Link>
            </>
          ) : (
            <>
              New here?{" "}
              <Link className="underline" href={`/sign-up${carried}`}>
                Create an account
              </Link>
            </>
          )}
        </p>
      </Panel>
    </main>
  );
}
