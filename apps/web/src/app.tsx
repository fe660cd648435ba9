import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect } from "react";
import { Redirect, Route, Switch } from "wouter";
import { Layout } from "./components/layout";
import { Toaster } from "./components/toaster";
import { Spinner } from "./components/ui";
import { applyServerEvent } from "./features/servers/queries";
import { ServersPage } from "./features/servers/servers-page";
import { InvitationsBanner } from "./features/session/invitations";
import { sessionKeys, useSession } from "./features/session/session";
import { useLiveEvents } from "./lib/events";

// Every page but the servers list loads on first visit, so that the first render parses only
// what it shows (Markdown, charts and forms stay out of the main bundle).
const AuditPage = lazy(() => import("./features/audit/audit-page").then((m) => ({ default: m.AuditPage })));
const MembersPage = lazy(() =>
  import("./features/members/members-page").then((m) => ({ default: m.MembersPage })),
);
const loadServerDetail = () => import("./features/servers/server-detail");
const ServerDetailPage = lazy(() => loadServerDetail().then((m) => ({ default: m.ServerDetailPage })));
const ServerForm = lazy(() =>
  import("./features/servers/server-form").then((m) => ({ default: m.ServerForm })),
);
const EditServerPage = lazy(() =>
  import("./features/servers/server-form").then((m) => ({ default: m.EditServerPage })),
);
const CreateOrgPage = lazy(() =>
  import("./features/session/create-org-page").then((m) => ({ default: m.CreateOrgPage })),
);
const AuthPage = lazy(() => import("./features/session/auth-page").then((m) => ({ default: m.AuthPage })));

const loadingPage = <Spinner label="Loading…" />;

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
  const live = useLiveEvents(
    !!user && !!activeOrganization,
    (event) => applyServerEvent(client, event),
    () => void client.invalidateQueries({ queryKey: sessionKeys.all }),
  );
  // A server's page is the next most likely stop: fetch its code once the browser is idle.
  useEffect(() => {
    if (!user) return;
    const idle = window.requestIdleCallback ?? ((fn: () => void) => window.setTimeout(fn, 1000));
    idle(() => void loadServerDetail());
  }, [user]);

  if (loading) {
    return (
      <div className="grid min-h-screen place-items-center">
        <Spinner label="Loading Switchboard…" />
      </div>
    );
  }
  if (!user) {
    return (
      <Suspense fallback={loadingPage}>
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
      </Suspense>
    );
  }
  if (!activeOrganization) {
    return (
      <div className="mx-auto max-w-lg p-4">
        <div className="pt-6">
          <InvitationsBanner />
        </div>
        <Suspense fallback={loadingPage}>
          <CreateOrgPage />
        </Suspense>
      </div>
    );
  }
  const isLive = live === "live";
  return (
    <Layout live={live}>
      <InvitationsBanner />
      <Suspense fallback={loadingPage}>
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
      </Suspense>
    </Layout>
  );
}
