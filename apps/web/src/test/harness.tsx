import type { Server } from "@switchboard/shared";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { vi } from "vitest";
import { Router } from "wouter";
import { memoryLocation } from "wouter/memory-location";
import { Toaster } from "../components/toaster";
import { SessionProvider } from "../features/session/session";

/** One request the dashboard sent, as the server would have received it. */
export interface SentRequest {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Headers;
  body: unknown;
}

/** What a fake route answers: a status (200 unless said) and a JSON body. */
export interface Reply {
  status?: number;
  body?: unknown;
}

type Route = (req: SentRequest) => Reply;

/** A signed-in admin of one organization: the session endpoints every page asks first. */
const SIGNED_IN: Record<string, Route> = {
  "GET /api/auth/get-session": () => ({
    body: {
      session: { activeOrganizationId: "org-1" },
      user: { id: "user-1", email: "ada@example.com", name: "Ada" },
    },
  }),
  "GET /api/auth/organization/list": () => ({ body: [{ id: "org-1", name: "Acme", slug: "acme" }] }),
  "GET /api/auth/organization/get-active-member": () => ({ body: { role: "admin" } }),
};

/**
 * Replaces `fetch`, the one boundary between the dashboard and the API, with routes keyed by
 * "METHOD /path" (query string aside). Every request is recorded; one without a route gets a 404.
 */
export function fakeApi(routes: Record<string, Route> = {}) {
  const all = { ...SIGNED_IN, ...routes };
  const requests: SentRequest[] = [];
  vi.stubGlobal("fetch", async (input: string, init: RequestInit = {}) => {
    const url = new URL(input, "http://dashboard.test");
    const req: SentRequest = {
      method: init.method ?? "GET",
      path: url.pathname,
      search: url.searchParams,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    requests.push(req);
    const route = all[`${req.method} ${req.path}`];
    const reply = route ? route(req) : { status: 404, body: { detail: `No route for ${req.path}` } };
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status ?? 200,
      headers: { "content-type": "application/json" },
    });
  });
  return {
    requests,
    /** The requests that would have changed something (anything but GET). */
    writes: () => requests.filter((r) => r.method !== "GET"),
  };
}

/** Renders a page as the app does (query cache, session, router, toasts) at a given URL. */
export function renderPage(ui: ReactNode, { path = "/" } = {}) {
  const [pathname = "/", search = ""] = path.split("?");
  const location = memoryLocation({ path: pathname, searchPath: search, record: true });
  const client = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  const view = render(
    <QueryClientProvider client={client}>
      <SessionProvider>
        <Router hook={location.hook} searchHook={location.searchHook}>
          {ui}
        </Router>
        <Toaster />
      </SessionProvider>
    </QueryClientProvider>,
  );
  return { ...view, history: location.history };
}

/** The error text a form shows under the field with this id, if any. */
export const fieldError = (id: string) => document.getElementById(`${id}-error`)?.textContent ?? null;

/**
 * What a server's page asks for, answered as for a quiet server: no history, keys, tool changes or
 * gateway traffic. Tests spread their own routes after these to say more.
 */
export function serverPageRoutes(server: Server): Record<string, Route> {
  const base = `/mcp/servers/${server.id}`;
  const from = "2026-03-01T00:00:00.000Z";
  const to = "2026-03-02T00:00:00.000Z";
  const none = { calls: 0, errors: 0, latencyMsAvg: null, latencyMsMax: null, bytesIn: 0, bytesOut: 0 };
  return {
    [`GET ${base}`]: () => ({ body: server }),
    [`GET ${base}/health`]: () => ({ body: { items: [] } }),
    [`GET ${base}/health/series`]: () => ({
      body: { range: "24h", stepSeconds: 600, from, to, buckets: [] },
    }),
    [`GET ${base}/keys`]: () => ({ body: { items: [] } }),
    [`GET ${base}/drift`]: () => ({ body: { items: [] } }),
    [`GET ${base}/usage`]: () => ({
      body: { serverId: server.id, keyId: null, from, to, step: 300, points: [], totals: none },
    }),
    [`GET ${base}/usage/keys`]: () => ({ body: { from, to, items: [] } }),
  };
}

/** A server as the API returns it. */
export function serverFixture(overrides: Partial<Server> = {}): Server {
  return {
    id: "4f7c0a52-8c1e-4d2a-9a55-0a3b1c2d3e4f",
    name: "weather",
    displayName: "Weather",
    description: "",
    transport: "streamable-http",
    url: "https://mcp.example.com/mcp",
    headers: [],
    tags: [],
    enabled: true,
    checkIntervalSeconds: 60,
    registryName: null,
    title: null,
    websiteUrl: null,
    repository: null,
    releaseVersion: null,
    declaredHeaders: [],
    needsConfiguration: false,
    status: "unknown",
    statusSince: null,
    lastCheckedAt: null,
    lastLatencyMs: null,
    consecutiveFailures: 0,
    nextCheckAt: null,
    lastError: null,
    serverInfo: null,
    toolsCount: 0,
    promptsCount: 0,
    resourcesCount: 0,
    toolsHash: null,
    pinned: false,
    pinnedAt: null,
    drifted: false,
    authChallenge: null,
    tools: [],
    prompts: [],
    resources: [],
    createdBy: "user-1",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    version: 1,
    ...overrides,
  };
}
