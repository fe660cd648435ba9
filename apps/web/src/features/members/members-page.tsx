import { Role } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import toast from "react-hot-toast/headless";
import { Button, ConfirmDialog, ErrorState, Field, Input, Panel, Spinner } from "../../components/ui";
import { api, describeError } from "../../lib/api";
import { useSession } from "../session/session";

/** An invitation grants admin or member: an organization's owner is whoever created it. */
const INVITE_ROLES = Role.exclude(["owner"]);
const INVITE_ROLE_LABELS: Record<(typeof INVITE_ROLES.options)[number], string> = {
  member: "member (reads)",
  admin: "admin (manages servers and keys)",
};

/** What a role lets its holder do, said where a role is granted. */
const ROLE_MEANS: Record<Role, string> = {
  owner: "everything an admin does, and the organization itself.",
  admin: "manages servers and keys.",
  member: "reads servers and their health, and changes nothing.",
};

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
  const [role, setRole] = useState<Role>(Role.enum.member);
  const [removing, setRemoving] = useState<{ id: string; email: string } | null>(null);
  // Chosen in a select, applied only once confirmed; until then the select still shows the role held.
  const [promoting, setPromoting] = useState<{ memberId: string; who: string; role: Role } | null>(null);
  const done = (message: string) => {
    toast.success(message);
    return client.invalidateQueries({ queryKey: key });
  };
  const fail = (err: unknown) => toast.error(describeError(err));
  const invite = useMutation({
    mutationFn: () => api("/api/auth/organization/invite-member", { method: "POST", body: { email, role } }),
    onSuccess: () => {
      setEmail("");
      return done(`Invited ${email}: their link is under Pending invitations`);
    },
    onError: fail,
  });
  const changeRole = useMutation({
    mutationFn: ({ memberId, role }: { memberId: string; who: string; role: Role }) =>
      api("/api/auth/organization/update-member-role", { method: "POST", body: { memberId, role } }),
    onSuccess: (_d, v) => done(`${v.who} is now ${v.role}`),
    onError: fail,
    onSettled: () => setPromoting(null),
  });
  const [cancelling, setCancelling] = useState<{ id: string; email: string } | null>(null);
  const cancel = useMutation({
    mutationFn: ({ id }: { id: string; email: string }) =>
      api("/api/auth/organization/cancel-invitation", { method: "POST", body: { invitationId: id } }),
    onSuccess: (_d, v) => done(`Invitation to ${v.email} withdrawn: its link no longer works`),
    onError: fail,
    onSettled: () => setCancelling(null),
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
                  onChange={(e) =>
                    setPromoting({
                      memberId: m.id,
                      who: m.user.name || m.user.email,
                      role: e.target.value as Role,
                    })
                  }
                >
                  {Role.options.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
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
            <p className="text-xs text-slate-600 dark:text-slate-400">
              Switchboard mails each invitee their link when SMTP is set up (SMTP_URL); without it, hand the
              link over yourself. The invitee opens it signed in with the invited address.
            </p>
            <ul className="space-y-1 text-sm">
              {pending.map((i) => (
                <li key={i.id} className="flex items-start justify-between gap-2">
                  <div className="min-w-0">
                    {i.email} · {i.role}
                    <br />
                    <code className="break-all text-xs" data-invitation-link={i.email}>
                      {`${window.location.origin}/invitations/${i.id}`}
                    </code>
                  </div>
                  <Button
                    variant="ghost"
                    aria-label={`Withdraw the invitation to ${i.email}`}
                    onClick={() => setCancelling({ id: i.id, email: i.email })}
                  >
                    Withdraw
                  </Button>
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
              {INVITE_ROLES.options.map((r) => (
                <option key={r} value={r}>
                  {INVITE_ROLE_LABELS[r]}
                </option>
              ))}
            </select>
          </Field>
          <Button type="submit" busy={invite.isPending} disabled={!email}>
            Send invitation
          </Button>
        </form>
      </Panel>
      <ConfirmDialog
        open={!!promoting}
        title="Change this member's role?"
        body={
          <p>
            <strong>{promoting?.who}</strong> becomes <strong>{promoting?.role}</strong>:{" "}
            {promoting && ROLE_MEANS[promoting.role]}
          </p>
        }
        confirmLabel={`Make ${promoting?.role ?? ""}`}
        busy={changeRole.isPending}
        onConfirm={() => promoting && changeRole.mutate(promoting)}
        onClose={() => setPromoting(null)}
      />
      <ConfirmDialog
        open={!!cancelling}
        title="Withdraw this invitation?"
        body={<p>The link sent to {cancelling?.email} stops working. You can invite them again later.</p>}
        confirmLabel="Withdraw invitation"
        busy={cancel.isPending}
        onConfirm={() => cancelling && cancel.mutate(cancelling)}
        onClose={() => setCancelling(null)}
      />
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
