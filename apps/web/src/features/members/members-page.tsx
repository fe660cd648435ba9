import type { Role } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import toast from "react-hot-toast/headless";
import { Button, ConfirmDialog, ErrorState, Field, Input, Panel, Spinner } from "../../components/ui";
import { api, describeError } from "../../lib/api";
import { useSession } from "../session/session";

interface FullOrganization {
  id: string;
  members: { id: string; role: Role; user: { id: string; email: string; name: string } }[];
  invitations: { id: string; email: string; role: Role; status: string }[];
}

/** Members of the active organization: invite by email, change roles, remove. Owners and admins. */
export function MembersPage() {
  const { activeOrganization, user } = useSession();
  const client = useQueryClient();
  const key = ["members", activeOrganization?.id];
  const org = useQuery({
    queryKey: key,
    queryFn: () => api<FullOrganization>("/api/auth/organization/get-full-organization"),
  });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [removing, setRemoving] = useState<{ id: string; email: string } | null>(null);
  const done = (message: string) => {
    toast.success(message);
    return client.invalidateQueries({ queryKey: key });
  };
  const fail = (err: unknown) => toast.error(describeError(err));
  const invite = useMutation({
    mutationFn: () => api("/api/auth/organization/invite-member", { method: "POST", body: { email, role } }),
    onSuccess: () => {
      setEmail("");
      return done(`Invited ${email}: they join by signing in with that address and accepting`);
    },
    onError: fail,
  });
  const changeRole = useMutation({
    mutationFn: (v: { memberId: string; role: Role }) =>
      api("/api/auth/organization/update-member-role", { method: "POST", body: v }),
    onSuccess: () => done("Role changed"),
    onError: fail,
  });
  const remove = useMutation({
    mutationFn: (memberIdOrEmail: string) =>
      api("/api/auth/organization/remove-member", { method: "POST", body: { memberIdOrEmail } }),
    onSuccess: () => done("Member removed"),
    onError: fail,
    onSettled: () => setRemoving(null),
  });

  if (org.isPending) return <Spinner label="Loading members…" />;
  if (org.isError) return <ErrorState error={describeError(org.error)} retry={() => org.refetch()} />;
  const pending = org.data.invitations.filter((i) => i.status === "pending");

  return (
    <div className="grid gap-5 lg:grid-cols-3">
      <Panel className="lg:col-span-2" title={`Members of ${activeOrganization?.name ?? ""}`}>
        <ul className="divide-y divide-slate-900/10 dark:divide-white/10">
          {org.data.members.map((m) => (
            <li key={m.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
              <div>
                <span className="font-medium">{m.user.name}</span>{" "}
                <span className="text-slate-600 dark:text-slate-400">{m.user.email}</span>
              </div>
              <div className="flex items-center gap-2">
                <label className="sr-only" htmlFor={`role-${m.id}`}>
                  Role of {m.user.email}
                </label>
                <select
                  id={`role-${m.id}`}
                  className="field w-auto py-1"
                  value={m.role}
                  disabled={m.user.id === user?.id || m.role === "owner"}
                  onChange={(e) => changeRole.mutate({ memberId: m.id, role: e.target.value as Role })}
                >
                  <option value="owner">owner</option>
                  <option value="admin">admin</option>
                  <option value="member">member</option>
                </select>
                {m.user.id !== user?.id && m.role !== "owner" && (
                  <Button variant="ghost" onClick={() => setRemoving({ id: m.id, email: m.user.email })}>
                    Remove
                  </Button>
                )}
              </div>
            </li>
          ))}
        </ul>
        {pending.length > 0 && (
          <>
            <h3 className="mt-4 text-sm font-semibold">Pending invitations</h3>
            <ul className="text-sm">
              {pending.map((i) => (
                <li key={i.id}>
                  {i.email} · {i.role}
                </li>
              ))}
            </ul>
          </>
        )}
      </Panel>
      <Panel title="Invite">
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            invite.mutate();
          }}
        >
          <Field id="invite-email" label="Email">
            <Input
              id="invite-email"
              type="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </Field>
          <Field id="invite-role" label="Role">
            <select
              id="invite-role"
              className="field"
              value={role}
              onChange={(e) => setRole(e.target.value as Role)}
            >
              <option value="member">member (reads)</option>
              <option value="admin">admin (manages servers and keys)</option>
            </select>
          </Field>
          <Button type="submit" busy={invite.isPending} disabled={!email}>
            Send invitation
          </Button>
        </form>
      </Panel>
      <ConfirmDialog
        open={!!removing}
        title="Remove this member?"
        body={<p>{removing?.email} loses access to this organization at once.</p>}
        confirmLabel="Remove"
        busy={remove.isPending}
        onConfirm={() => removing && remove.mutate(removing.id)}
        onClose={() => setRemoving(null)}
      />
    </div>
  );
}
