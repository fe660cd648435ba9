import { useQueryClient } from "@tanstack/react-query";
import { lazy, type ReactNode, Suspense, useEffect } from "react";
import { Link, Redirect, Route, Switch, useLocation, useSearch } from "wouter";
import { Layout } from "./components/layout";
import { Toaster } from "./components/toaster";
import { Spinner } from "./components/ui";
import { applyServerEvent } from "./features/servers/queries";
import { ServersPage } from "./features/servers/servers-page";
import { InvitationPage, InvitationsBanner } from "./features/session/invitations";
import { nextPage, signInFor } from "./features/session/next-page";
import { sessionKeys, useSession } from "./features/session/session";
import { useLiveEvents } from "./lib/events";
import { Titled } from "./lib/title";

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
const ImportPage = lazy(() =>
  import("./features/registry/import-page").then((m) => ({ default: m.ImportPage })),
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

export function Routes() {
  const { loading, user, activeOrganization } = useSession();
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
            <Titled title="Create your account">
              <AuthPage mode="sign-up" />
            </Titled>
          </Route>
          <Route path="/sign-in">
            <Titled title="Sign in">
              <AuthPage mode="sign-in" />
            </Titled>
          </Route>
          <Route>
            <SignInFirst />
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
          <Switch>
            <Route path="/invitations/:id">
              {(p) => (
                <Titled title="Invitation">
                  <InvitationPage id={p.id} />
                </Titled>
              )}
            </Route>
            <Route>
              <Titled title="Create an organization">
                <CreateOrgPage />
              </Titled>
            </Route>
          </Switch>
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
            <Titled title="Servers">
              <ServersPage live={isLive} />
            </Titled>
          </Route>
          <Route path="/servers/new">
            <ManagersOnly title="Register a server">
              <ServerForm />
            </ManagersOnly>
          </Route>
          <Route path="/servers/import">
            <ManagersOnly title="Import servers">
              <ImportPage />
            </ManagersOnly>
          </Route>
          <Route path="/servers/:id/edit">
            {(p) => (
              <ManagersOnly title="Edit server">
                <EditServerPage id={p.id} />
              </ManagersOnly>
            )}
          </Route>
          {/* Titled by the server's own name, once it is loaded. */}
          <Route path="/servers/:id">{(p) => <ServerDetailPage id={p.id} live={isLive} />}</Route>
          <Route path="/invitations/:id">
            {(p) => (
              <Titled title="Invitation">
                <InvitationPage id={p.id} />
              </Titled>
            )}
          </Route>
          <Route path="/audit">
            <ManagersOnly title="Audit log">
              <AuditPage />
            </ManagersOnly>
          </Route>
          <Route path="/members">
            <ManagersOnly title="Members">
              <MembersPage />
            </ManagersOnly>
          </Route>
          <Route path="/organizations/new">
            <Titled title="Create an organization">
              <CreateOrgPage />
            </Titled>
          </Route>
          <Route path="/sign-in">
            <AfterSignIn />
          </Route>
          <Route path="/sign-up">
            <AfterSignIn />
          </Route>
          <Route>
            <Titled title="Page not found">
              <p className="glass p-5">This page does not exist.</p>
            </Titled>
          </Route>
        </Switch>
      </Suspense>
    </Layout>
  );
}

/** Signed out on any page: sign in first, then come back to it. */
function SignInFirst() {
  const [path] = useLocation();
  return <Redirect to={signInFor(path, useSearch())} />;
}

/** Signed in already (or just now): on to the page that was asked for. */
function AfterSignIn() {
  return <Redirect to={nextPage(useSearch())} />;
}

/**
 * A page for owners and admins. A member who opens one (a shared link, say) is told why they
 * cannot see it, rather than sent elsewhere without a word.
 */
function ManagersOnly({ title, children }: { title: string; children: ReactNode }) {
  const { canManage, role, activeOrganization } = useSession();
  if (canManage) return <Titled title={title}>{children}</Titled>;
  return (
    <Titled title={title}>
      <section className="glass space-y-3 p-5">
        <h1 className="text-xl font-semibold">{title}</h1>
        <p>
          Only owners and admins of {activeOrganization?.name ?? "this organization"} can open this page, and
          your role there is {role ?? "member"}. Ask an owner or admin if you need it.
        </p>
        <Link className="underline" href="/">
          Back to servers
        </Link>
      </section>
    </Titled>
  );
}
