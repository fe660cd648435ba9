import { useQueryClient } from "@tanstack/react-query";
import { Redirect, Route, Switch } from "wouter";
import { Layout } from "./components/layout";
import { Toaster } from "./components/toaster";
import { Spinner } from "./components/ui";
import { AuditPage } from "./features/audit/audit-page";
import { MembersPage } from "./features/members/members-page";
import { applyServerEvent } from "./features/servers/queries";
import { ServerDetailPage } from "./features/servers/server-detail";
import { EditServerPage, ServerForm } from "./features/servers/server-form";
import { ServersPage } from "./features/servers/servers-page";
import { AuthPage } from "./features/session/auth-page";
import { CreateOrgPage } from "./features/session/create-org-page";
import { InvitationsBanner } from "./features/session/invitations";
import { useSession } from "./features/session/session";
import { useLiveEvents } from "./lib/events";

export function App() {
  return (
    <>
      <Toaster />
      <Routes />
    </>
  );
}

function Routes() {
  const { loading, user, activeOrganization, canManage } = useSession();
  const client = useQueryClient();
  const live = useLiveEvents(!!user && !!activeOrganization, (event) => applyServerEvent(client, event));

  if (loading) {
    return (
      <div className="grid min-h-screen place-items-center">
        <Spinner label="Loading Switchboard…" />
      </div>
    );
  }
  if (!user) {
    return (
      <Switch>
        <Route path="/sign-up">
          <AuthPage mode="sign-up" />
        </Route>
        <Route path="/sign-in">
          <AuthPage mode="sign-in" />
        </Route>
        <Route>
          <Redirect to="/sign-in" />
        </Route>
      </Switch>
    );
  }
  if (!activeOrganization) {
    return (
      <div className="mx-auto max-w-lg p-4">
        <div className="pt-6">
          <InvitationsBanner />
        </div>
        <CreateOrgPage />
      </div>
    );
  }
  const isLive = live === "live";
  return (
    <Layout live={live}>
      <InvitationsBanner />
      <Switch>
        <Route path="/">
          <ServersPage live={isLive} />
        </Route>
        <Route path="/servers/new">{canManage ? <ServerForm /> : <Redirect to="/" />}</Route>
        <Route path="/servers/:id/edit">
          {(p) => (canManage ? <EditServerPage id={p.id} /> : <Redirect to="/" />)}
        </Route>
        <Route path="/servers/:id">{(p) => <ServerDetailPage id={p.id} live={isLive} />}</Route>
        <Route path="/audit">{canManage ? <AuditPage /> : <Redirect to="/" />}</Route>
        <Route path="/members">{canManage ? <MembersPage /> : <Redirect to="/" />}</Route>
        <Route path="/organizations/new">
          <CreateOrgPage />
        </Route>
        <Route path="/sign-in">
          <Redirect to="/" />
        </Route>
        <Route path="/sign-up">
          <Redirect to="/" />
        </Route>
        <Route>
          <p className="glass p-5">This page does not exist.</p>
        </Route>
      </Switch>
    </Layout>
  );
}
