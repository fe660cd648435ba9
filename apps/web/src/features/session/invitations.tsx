import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import toast from "react-hot-toast/headless";
import { Button } from "../../components/ui";
import { api, describeError } from "../../lib/api";
import { useSession } from "./session";

interface Invitation {
  id: string;
  organizationId: string;
  organizationName?: string;
  role: string;
  status: string;
}

/** Invitations waiting for the signed-in user, to accept in one click. */
export function InvitationsBanner() {
  const { refresh } = useSession();
  const client = useQueryClient();
  const invitations = useQuery({
    queryKey: ["my-invitations"],
    queryFn: () => api<Invitation[]>("/api/me/invitations"),
  });
  const accept = useMutation({
    mutationFn: (invitationId: string) =>
      api("/api/auth/organization/accept-invitation", { method: "POST", body: { invitationId } }),
    onSuccess: async () => {
      toast.success("Invitation accepted");
      await client.invalidateQueries({ queryKey: ["my-invitations"] });
      await refresh();
    },
    onError: (err) => toast.error(describeError(err)),
  });
  const pending = (invitations.data ?? []).filter((i) => i.status === "pending");
  if (pending.length === 0) return null;
  return (
    <section aria-label="Invitations" className="glass mb-5 space-y-2 p-4 text-sm">
      {pending.map((i) => (
        <div key={i.id} className="flex flex-wrap items-center justify-between gap-2">
          <span>
            You are invited to <strong>{i.organizationName ?? i.organizationId}</strong> as {i.role}.
          </span>
          <Button busy={accept.isPending} onClick={() => accept.mutate(i.id)}>
            Accept
          </Button>
        </div>
      ))}
    </section>
  );
}
