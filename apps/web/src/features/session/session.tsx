import { MANAGER_ROLES, type Role } from "@switchboard/shared";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext, useMemo } from "react";
import { api } from "../../lib/api";

export interface Organization {
  id: string;
  name: string;
  slug: string;
}

interface SessionState {
  loading: boolean;
  user: { id: string; email: string; name: string } | null;
  organizations: Organization[];
  activeOrganization: Organization | null;
  role: Role | null;
  /** Owners and admins see write controls; members read. */
  canManage: boolean;
  /** Re-reads session, organizations and role (after sign-in, switching, …). */
  refresh: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export const sessionKeys = { all: ["session"] as const };

interface SessionAnswer {
  session: { activeOrganizationId: string | null };
  user: { id: string; email: string; name: string };
}

/** The signed-in user, their organizations and their role in the active one, for the whole app. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const query = useQuery({
    queryKey: sessionKeys.all,
    queryFn: async () => {
      // All three at once: each needs only the cookie, and waiting for one before the next would
      // add two round trips to every first render.
      const organizations = api<Organization[]>("/api/auth/organization/list");
      // Signed out, this one fails; signed in, awaiting it below still throws what it threw.
      organizations.catch(() => {});
      const member = api<{ role: Role } | null>("/api/auth/organization/get-active-member").catch(() => null);
      const session = await api<SessionAnswer | null>("/api/auth/get-session");
      if (!session) return null;
      const role = session.session.activeOrganizationId ? ((await member)?.role ?? null) : null;
      return { ...session, organizations: await organizations, role };
    },
    staleTime: 60_000,
  });

  const value = useMemo<SessionState>(() => {
    const data = query.data;
    const activeId = data?.session.activeOrganizationId ?? null;
    return {
      loading: query.isPending,
      user: data?.user ?? null,
      organizations: data?.organizations ?? [],
      activeOrganization: data?.organizations.find((o) => o.id === activeId) ?? null,
      role: data?.role ?? null,
      canManage: !!data?.role && MANAGER_ROLES.includes(data.role),
      refresh: async () => {
        await client.invalidateQueries();
      },
    };
  }, [query.data, query.isPending, client]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}
