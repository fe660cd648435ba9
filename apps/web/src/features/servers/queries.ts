import type {
  ApiKey,
  BulkServersInput,
  BulkServersResult,
  CheckResult,
  CreateApiKeyInput,
  CreatedApiKey,
  CreateServerInput,
  FleetOverview,
  HealthCheck,
  KeyUsageList,
  ProbeInput,
  ProbeResult,
  Server,
  ServerEvent,
  ServerPage,
  ServerUptime,
  ServerUptimeList,
  ToolDrift,
  UpdateServerInput,
} from "@switchboard/shared";
import { type QueryClient, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { ApiError, api } from "../../lib/api";

export const serverKeys = {
  all: ["servers"] as const,
  lists: () => [...serverKeys.all, "list"] as const,
  list: (search: string) => [...serverKeys.lists(), search] as const,
  detail: (id: string) => [...serverKeys.all, "detail", id] as const,
  health: (id: string) => [...serverKeys.all, "health", id] as const,
  keys: (id: string) => [...serverKeys.all, "keys", id] as const,
  drift: (id: string) => [...serverKeys.all, "drift", id] as const,
  overview: () => [...serverKeys.all, "overview"] as const,
  usage: (id: string) => [...serverKeys.all, "usage", id] as const,
  keyUsage: (id: string) => [...serverKeys.all, "key-usage", id] as const,
  /** `ids`: the servers of a page, comma-separated, as the API takes them. */
  uptime: (ids: string) => [...serverKeys.all, "uptime", ids] as const,
};

/** Usage is counted per minute and written within seconds: a minute between reads is enough. */
const USAGE_REFRESH_MS = 60_000;

/** Polls only while live events are down. */
const poll = (live: boolean) => (live ? false : 10_000);

export const useServers = (search: string, live: boolean) =>
  useQuery({
    queryKey: serverKeys.list(search),
    queryFn: () => api<ServerPage>(`/mcp/servers${search}`),
    placeholderData: (previous) => previous,
    refetchInterval: poll(live),
  });

/** Servers by health and the checks' lag: read every 15 s, since health events change it constantly. */
export const useFleetOverview = () =>
  useQuery({
    queryKey: serverKeys.overview(),
    queryFn: () => api<FleetOverview>("/mcp/servers/overview"),
    refetchInterval: 15_000,
  });

/** Uptime moves by the hour: a list refreshed by every health event need not fetch it each time. */
const UPTIME_FRESH_MS = 15_000;

/**
 * The uptime and latency of the servers a page shows, keyed by server id. Asked for after the
 * list arrives (the list stays fast), and again whenever the list is read again (`listUpdatedAt`),
 * unless the numbers are fresher than UPTIME_FRESH_MS.
 */
export function useServerUptime(ids: string[], listUpdatedAt: number) {
  const client = useQueryClient();
  const joined = ids.join(",");
  const query = useQuery({
    queryKey: serverKeys.uptime(joined),
    queryFn: async () => {
      // One request: the API takes as many ids as the largest page holds.
      const list = await api<ServerUptimeList>(`/mcp/servers/uptime?ids=${joined}`);
      return new Map<string, ServerUptime>(list.items.map((u) => [u.serverId, u]));
    },
    enabled: ids.length > 0,
    staleTime: UPTIME_FRESH_MS,
    // While another page's numbers load, the rows both pages share keep theirs.
    placeholderData: (previous) => previous,
  });
  const seen = useRef(listUpdatedAt);
  useEffect(() => {
    if (seen.current === listUpdatedAt) return;
    seen.current = listUpdatedAt;
    void client.refetchQueries({ queryKey: serverKeys.uptime(joined), stale: true });
  }, [client, joined, listUpdatedAt]);
  return query;
}

/**
 * The server as a list already holds it (the row that was just clicked, most likely): a list
 * carries counts, not definitions, so its tools, prompts and resources wait for the server's own.
 */
function fromLists(client: QueryClient, id: string): Server | undefined {
  for (const [, page] of client.getQueriesData<ServerPage>({ queryKey: serverKeys.lists() })) {
    const hit = page?.items.find((s) => s.id === id);
    if (hit) return { ...hit, tools: [], prompts: [], resources: [] };
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

export const useDrift = (id: string, live: boolean) =>
  useQuery({
    queryKey: serverKeys.drift(id),
    queryFn: () => api<{ items: ToolDrift[] }>(`/mcp/servers/${id}/drift?limit=20`),
    refetchInterval: poll(live),
  });

/**
 * Keys change behind the page's back when they are used (their "last used"), and no event says so:
 * read them again every 15 s while the page is open (and on focus, as every query does).
 */
export const KEYS_REFRESH_MS = 15_000;

export const useKeys = (id: string) =>
  useQuery({
    queryKey: serverKeys.keys(id),
    queryFn: () => api<{ items: ApiKey[] }>(`/mcp/servers/${id}/keys`),
    refetchInterval: KEYS_REFRESH_MS,
  });

/** Each key's gateway calls over the last 24 hours. */
export const useKeyUsage = (id: string) =>
  useQuery({
    queryKey: serverKeys.keyUsage(id),
    queryFn: () => api<KeyUsageList>(`/mcp/servers/${id}/usage/keys`),
    refetchInterval: USAGE_REFRESH_MS,
  });

/** Acts on the servers selected (at most a page of them) in one request: all of them or none. */
export function useBulkServers() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: BulkServersInput) =>
      api<BulkServersResult>("/mcp/servers/bulk", { method: "POST", body: input }),
    onSuccess: (result) => {
      if (result.action === "delete")
        for (const id of result.ids) client.removeQueries({ queryKey: serverKeys.detail(id) });
    },
    // Lists, counts, uptime and the details of the servers changed: everything about servers.
    onSettled: () => client.invalidateQueries({ queryKey: serverKeys.all }),
  });
}

/** An edit refused (412) because the server changed since its version was read; `current` is the server now. */
export class EditConflict extends Error {
  constructor(readonly current: Server) {
    super("Someone changed this server since you opened it");
  }
}

export function useServerMutations() {
  const client = useQueryClient();
  const settle = (server?: Server) => {
    if (server) client.setQueryData(serverKeys.detail(server.id), server);
    return client.invalidateQueries({ queryKey: serverKeys.lists() });
  };
  return {
    create: useMutation({
      mutationFn: (input: CreateServerInput) => api<Server>("/mcp/servers", { method: "POST", body: input }),
      onSuccess: (server) => {
        // The scheduler places a new server's first check somewhere in its interval (so that a
        // fleet registered at once is spread); one registered by hand is checked now. Its outcome
        // arrives as a health event, or with the next fetch.
        if (server.enabled)
          void api<CheckResult>(`/mcp/servers/${server.id}/check`, { method: "POST" })
            .then((result) => settle(result.server))
            .catch(() => {});
        return settle(server);
      },
    }),
    update: useMutation({
      mutationFn: async ({
        id,
        input,
        version,
      }: {
        id: string;
        input: UpdateServerInput;
        version?: number;
      }) => {
        try {
          return await api<Server>(`/mcp/servers/${id}`, {
            method: "PATCH",
            body: input,
            headers: version === undefined ? {} : { "if-match": String(version) },
          });
        } catch (err) {
          // The 412 says only that the version is stale: what changed is in the server's copy now.
          if (err instanceof ApiError && err.status === 412)
            throw new EditConflict(await api<Server>(`/mcp/servers/${id}`));
          throw err;
        }
      },
      onSuccess: settle,
      onError: (err) => {
        if (err instanceof EditConflict) settle(err.current);
      },
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
        // A check is what finds a change of tools, and the socket may be down.
        client.invalidateQueries({ queryKey: serverKeys.drift(result.server.id) });
        return settle(result.server);
      },
    }),
    /** Approves the tools as reviewed: `toolsHash` makes the API refuse (412) a set that changed since. */
    pinTools: useMutation({
      mutationFn: ({ id, toolsHash }: { id: string; toolsHash: string }) =>
        api<Server>(`/mcp/servers/${id}/tools/pin`, { method: "PUT", body: { toolsHash } }),
      onSuccess: settle,
      onError: (err, { id }) => {
        // Refused because the tools changed meanwhile: show the new ones to review.
        if (err instanceof ApiError && err.status === 412) {
          client.invalidateQueries({ queryKey: serverKeys.detail(id) });
          client.invalidateQueries({ queryKey: serverKeys.drift(id) });
        }
      },
    }),
    unpinTools: useMutation({
      mutationFn: (id: string) => api<Server>(`/mcp/servers/${id}/tools/pin`, { method: "DELETE" }),
      onSuccess: settle,
    }),
    probe: useMutation({
      mutationFn: (input: ProbeInput) => api<ProbeResult>("/mcp/probe", { method: "POST", body: input }),
    }),
    createKey: useMutation({
      mutationFn: ({ serverId, input }: { serverId: string; input: CreateApiKeyInput }) =>
        api<CreatedApiKey>(`/mcp/servers/${serverId}/keys`, { method: "POST", body: input }),
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
  } else if (event.type === "tools.drifted") {
    client.invalidateQueries({ queryKey: serverKeys.detail(event.serverId) });
    client.invalidateQueries({ queryKey: serverKeys.drift(event.serverId) });
  } else {
    client.setQueryData(serverKeys.detail(event.server.id), event.server);
  }
  client.invalidateQueries({ queryKey: serverKeys.lists() });
  client.invalidateQueries({ queryKey: serverKeys.overview() });
}
