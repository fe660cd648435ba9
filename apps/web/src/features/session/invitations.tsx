import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import toast from "react-hot-toast/headless";
import { useLocation } from "wouter";
import { Button, ConfirmDialog, Panel } from "../../components/ui";
import { api, describeError } from "../../lib/api";
import { useSession } from "./session";

interface Invitation {
  id: string;
  organizationId: string;
  organizationName?: string;
  role: string;
  status: string;
}

const nameOf = (i: Invitation) => i.organizationName ?? i.organizationId;

const answerInvitation = (id: string, verb: "accept" | "reject") =>
  api(`/api/invitations/${encodeURIComponent(id)}/${verb}`, { method: "POST" });

/**
 * The page an invitation link opens: accept or decline, signed in with the invited address. The
 * link's id proves the address, so it works before the address is verified by mail.
 */
export function InvitationPage({ id }: { id: string }) {
  const { refresh } = useSession();
  const [, navigate] = useLocation();
  const [declining, setDeclining] = useState(false);
  const answer = useMutation({
    mutationFn: (verb: "accept" | "reject") => answerInvitation(id, verb),
    onSuccess: async (_d, verb) => {
      toast.success(verb === "accept" ? "Invitation accepted" : "Invitation declined");
      await refresh();
      navigate("/");
    },
    onError: (err) => toast.error(describeError(err)),
    onSettled: () => setDeclining(false),
  });
  return (
    <Panel title="An invitation to an organization">
      <p className="mb-4 text-sm">
        Someone invited the address you are signed in with to their organization on Switchboard.
      </p>
      {answer.isError && (
        <p role="alert" className="mb-3 text-sm text-rose-700 dark:text-rose-300">
          {describeError(answer.error)}
        </p>
      )}
      <div className="flex gap-2">
        <Button
          busy={answer.isPending && answer.variables === "accept"}
          onClick={() => answer.mutate("accept")}
        >
          Accept
        </Button>
        <Button variant="secondary" onClick={() => setDeclining(true)}>
          Decline
        </Button>
      </div>
      <ConfirmDialog
        open={declining}
        title="Decline this invitation?"
        body={<p>Its link stops working; to join later, ask for a new invitation.</p>}
        confirmLabel="Decline invitation"
        busy={answer.isPending && answer.variables === "reject"}
        onConfirm={() => answer.mutate("reject")}
        onClose={() => setDeclining(false)}
      />
    </Panel>
  );
}

/** Invitations waiting for the signed-in user: accept in one click, or decline once confirmed. */
export function InvitationsBanner() {
  const { refresh } = useSession();
  const client = useQueryClient();
  // Listed for a verified address only (403 otherwise): the invitation link works either way.
  const invitations = useQuery({
    queryKey: ["my-invitations"],
    queryFn: () => api<Invitation[]>("/api/me/invitations"),
    retry: false,
  });
  const [declining, setDeclining] = useState<Invitation | null>(null);
  const answer = useMutation({
    mutationFn: ({ id, verb }: { id: string; verb: "accept" | "reject" }) => answerInvitation(id, verb),
    onSuccess: async (_d, { verb }) => {
      toast.success(verb === "accept" ? "Invitation accepted" : "Invitation declined");
      await client.invalidateQueries({ queryKey: ["my-invitations"] });
      if (verb === "accept") await refresh();
    },
    onError: (err) => toast.error(describeError(err)),
    onSettled: () => setDeclining(null),
  });
  const busy = (id: string, verb: "accept" | "reject") =>
    answer.isPending && answer.variables.id === id && answer.variables.verb === verb;
  const pending = (invitations.data ?? []).filter((i) => i.status === "pending");
  if (pending.length === 0) return null;
  return (
    <section aria-label="Invitations" className="glass mb-5 space-y-2 p-4 text-sm">
      {pending.map((i) => (
        <div key={i.id} className="flex flex-wrap items-center justify-between gap-2">
          <span>
            You are invited to <strong>{nameOf(i)}</strong> as {i.role}.
          </span>
          <div className="flex gap-2">
            <Button busy={busy(i.id, "accept")} onClick={() => answer.mutate({ id: i.id, verb: "accept" })}>
              Accept
            </Button>
            <Button variant="secondary" onClick={() => setDeclining(i)}>
              Decline
            </Button>
          </div>
        </div>
      ))}
      <ConfirmDialog
        open={!!declining}
        title="Decline this invitation?"
        body={
          <p>You will not join {declining && nameOf(declining)}; to join later, ask for a new invitation.</p>
        }
        confirmLabel="Decline invitation"
        busy={!!declining && busy(declining.id, "reject")}
        onConfirm={() => declining && answer.mutate({ id: declining.id, verb: "reject" })}
        onClose={() => setDeclining(null)}
      />
    </section>
  );
}
