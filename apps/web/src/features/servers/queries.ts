import type {
  ApiKey,
  CheckResult,
  CreatedApiKey,
  CreateServerInput,
  HealthCheck,
  ProbeInput,
  ProbeResult,
  Server,
  ServerEvent,
  ServerPage,
  UpdateServerInput,
} from "@switchboard/shared";
import { type QueryClient, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../lib/api";

export const serverKeys = {
  all: ["servers"] as const,
  lists: () => [...serverKeys.all, "list"] as const,
  list: (search: string) => [...serverKeys.lists(), search] as const,
  detail: (id: string) => [...serverKeys.all, "detail", id] as const,
  health: (id: string) => [...serverKeys.all, "health", id] as const,
  keys: (id: string) => [...serverKeys.all, "keys", id] as const,
};

/** Polls only while live events are down. */
const poll = (live: boolean) => (live ? false : 10_000);

export const useServers = (search: string, live: boolean) =>
  useQuery({
    queryKey: serverKeys.list(search),
    queryFn: () => api<ServerPage>(`/mcp/servers${search}`),
    placeholderData: (previous) => previous,
    refetchInterval: poll(live),
  });

/** The server as a list already holds it: the row that was just clicked, most likely. */
function fromLists(client: QueryClient, id: string): Server | undefined {
  for (const [, page] of client.getQueriesData<ServerPage>({ queryKey: serverKeys.lists() })) {
    const hit = page?.items.find((s) => s.id === id);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * One server. With `fromList`, a list's copy shows at once while the server's own request is on
 * its way (a form keeps waiting for the fresh copy, since it starts from what it first sees).
 */
export function useServer(id: string, live: boolean, { fromList = false } = {}) {
  const client = useQueryClient();
  return useQuery({
    queryKey: serverKeys.detail(id),
    queryFn: () => api<Server>(`/mcp/servers/${id}`),
    ...(fromList ? { placeholderData: () => fromLists(client, id) } : {}),
    refetchInterval: poll(live),
  });
}

export const useHealth = (id: string, live: boolean) =>
  useQuery({
    queryKey: serverKeys.health(id),
    queryFn: () => api<{ items: HealthCheck[] }>(`/mcp/servers/${id}/health?limit=100`),
    refetchInterval: poll(live),
  });

export const useKeys = (id: string) =>
  useQuery({
    queryKey: serverKeys.keys(id),
    queryFn: () => api<{ items: ApiKey[] }>(`/mcp/servers/${id}/keys`),
  });

export function useServerMutations() {
  const client = useQueryClient();
  const settle = (server?: Server) => {
    if (server) client.setQueryData(serverKeys.detail(server.id), server);
    return client.invalidateQueries({ queryKey: serverKeys.lists() });
  };
  return {
    create: useMutation({
      mutationFn: (input: CreateServerInput) => api<Server>("/mcp/servers", { method: "POST", body: input }),
      onSuccess: settle,
    }),
    update: useMutation({
      mutationFn: ({ id, input, version }: { id: string; input: UpdateServerInput; version?: number }) =>
        api<Server>(`/mcp/servers/${id}`, {
          method: "PATCH",
          body: input,
          headers: version === undefined ? {} : { "if-match": String(version) },
        }),
      onSuccess: settle,
    }),
    remove: useMutation({
      mutationFn: (id: string) => api<void>(`/mcp/servers/${id}`, { method: "DELETE" }),
      onSuccess: (_d, id) => {
        client.removeQueries({ queryKey: serverKeys.detail(id) });
        return settle();
      },
    }),
    check: useMutation({
      mutationFn: (id: string) => api<CheckResult>(`/mcp/servers/${id}/check`, { method: "POST" }),
      onSuccess: (result) => {
        client.invalidateQueries({ queryKey: serverKeys.health(result.server.id) });
        return settle(result.server);
      },
    }),
    probe: useMutation({
      mutationFn: (input: ProbeInput) => api<ProbeResult>("/mcp/probe", { method: "POST", body: input }),
    }),
    createKey: useMutation({
      mutationFn: ({ serverId, name, expiresAt }: { serverId: string; name: string; expiresAt?: string }) =>
        api<CreatedApiKey>(`/mcp/servers/${serverId}/keys`, {
          method: "POST",
          body: { name, ...(expiresAt ? { expiresAt } : {}) },
        }),
      onSuccess: (key) => client.invalidateQueries({ queryKey: serverKeys.keys(key.serverId) }),
    }),
    revokeKey: useMutation({
      mutationFn: ({ serverId, keyId }: { serverId: string; keyId: string }) =>
        api<void>(`/mcp/servers/${serverId}/keys/${keyId}`, { method: "DELETE" }),
      onSuccess: (_d, v) => client.invalidateQueries({ queryKey: serverKeys.keys(v.serverId) }),
    }),
  };
}

/** Applies a live event to the cache: details in place, lists and history refetched. */
export function applyServerEvent(client: QueryClient, event: ServerEvent) {
  if (event.type === "server.deleted") {
    client.removeQueries({ queryKey: serverKeys.detail(event.serverId) });
  } else if (event.type === "health.changed") {
    client.setQueryData<Server>(serverKeys.detail(event.serverId), (s) =>
      s
        ? {
            ...s,
            status: event.status,
            lastLatencyMs: event.latencyMs,
            lastError: event.error,
            lastCheckedAt: event.checkedAt,
          }
        : s,
    );
    client.invalidateQueries({ queryKey: serverKeys.health(event.serverId) });
    client.invalidateQueries({ queryKey: serverKeys.detail(event.serverId) });
  } else {
    client.setQueryData(serverKeys.detail(event.server.id), event.server);
  }
  client.invalidateQueries({ queryKey: serverKeys.lists() });
}
