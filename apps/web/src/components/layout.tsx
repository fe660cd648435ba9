import type { ReactNode } from "react";
import toast from "react-hot-toast/headless";
import { Link, useLocation } from "wouter";
import { useSession } from "../features/session/session";
import { api, describeError } from "../lib/api";
import type { LiveStatus } from "../lib/events";
import { setTheme, storedTheme, type ThemeChoice } from "../lib/theme";

const LIVE: Record<LiveStatus, { label: string; className: string }> = {
  live: { label: "Live", className: "bg-emerald-500" },
  connecting: { label: "Connecting…", className: "bg-slate-400" },
  polling: { label: "Reconnecting — refreshing every 10 s", className: "bg-amber-500" },
};

export function Layout({ children, live }: { children: ReactNode; live: LiveStatus }) {
  const { user, organizations, activeOrganization, role, canManage, refresh } = useSession();
  const [location, navigate] = useLocation();

  const switchOrg = async (id: string) => {
    if (id === "__new") return navigate("/organizations/new");
    try {
      await api("/api/auth/organization/set-active", { method: "POST", body: { organizationId: id } });
      await refresh();
      navigate("/");
      toast.success("Switched organization");
    } catch (err) {
      toast.error(describeError(err));
    }
  };
  const signOut = async () => {
    try {
      await api("/api/auth/sign-out", { method: "POST", body: {} });
    } finally {
      await refresh();
      navigate("/sign-in");
    }
  };
  const nav = [
    { href: "/", label: "Servers" },
    ...(canManage
      ? [
          { href: "/audit", label: "Audit log" },
          { href: "/members", label: "Members" },
        ]
      : []),
  ];

  return (
    <div className="mx-auto max-w-7xl p-3 sm:p-5">
      <header className="glass mb-5 flex flex-wrap items-center gap-3 px-4 py-3">
        <Link href="/" className="text-lg font-semibold tracking-tight">
          Switchboard
        </Link>
        <nav aria-label="Main" className="flex gap-1">
          {nav.map((n) => (
            <Link
              key={n.href}
              href={n.href}
              aria-current={location === n.href ? "page" : undefined}
              className="rounded-lg px-3 py-1.5 text-sm hover:bg-slate-900/5 aria-[current=page]:bg-indigo-600/10 aria-[current=page]:font-semibold dark:hover:bg-white/10 dark:aria-[current=page]:bg-indigo-400/20"
            >
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="ml-auto flex flex-wrap items-center gap-2 text-sm">
          <span className="flex items-center gap-1.5" role="status" aria-live="polite" data-live={live}>
            <span aria-hidden className={`h-2 w-2 rounded-full ${LIVE[live].className}`} />
            <span className="hidden sm:inline">{LIVE[live].label}</span>
          </span>
          <label className="sr-only" htmlFor="org-switcher">
            Organization
          </label>
          <select
            id="org-switcher"
            className="field w-auto py-1"
            value={activeOrganization?.id ?? ""}
            onChange={(e) => switchOrg(e.target.value)}
          >
            {!activeOrganization && <option value="">Choose an organization</option>}
            {organizations.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
            <option value="__new">+ New organization</option>
          </select>
          {role && (
            <span className="rounded-full bg-slate-900/5 px-2 py-0.5 text-xs dark:bg-white/10">{role}</span>
          )}
          <label className="sr-only" htmlFor="theme">
            Theme
          </label>
          <select
            id="theme"
            className="field w-auto py-1"
            defaultValue={storedTheme()}
            onChange={(e) => setTheme(e.target.value as ThemeChoice)}
          >
            <option value="system">System theme</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
          <button
            type="button"
            onClick={signOut}
            className="rounded-lg px-2 py-1 hover:bg-slate-900/5 dark:hover:bg-white/10"
            title={user?.email}
          >
            Sign out
          </button>
        </div>
      </header>
      <main>{children}</main>
    </div>
  );
}
