import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi } from "../../test/harness";
import { applyServerEvent, serverKeys, useServerUptime } from "./queries";

const ID = "4f7c0a52-8c1e-4d2a-9a55-0a3b1c2d3e4f";

function withClient() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>{children}</QueryClientProvider>
  );
  return { client, wrapper };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("useServerUptime", () => {
  it("reads the uptime again when the list is read again, unless it is only seconds old", async () => {
    const api = fakeApi({
      "GET /mcp/servers/uptime": () => ({
        body: {
          items: [{ serverId: ID, uptime24h: 1, uptime7d: 1, checks24h: 1, checks7d: 1, latency24h: [] }],
        },
      }),
    });
    const uptimeReads = () => api.requests.filter((r) => r.path === "/mcp/servers/uptime").length;
    const { wrapper } = withClient();
    const { result, rerender } = renderHook(({ listAt }) => useServerUptime([ID], listAt), {
      wrapper,
      initialProps: { listAt: 1 },
    });
    await waitFor(() => expect(result.current.data?.get(ID)?.uptime24h).toBe(1));

    rerender({ listAt: 2 });
    await new Promise((settled) => setTimeout(settled, 50));
    expect(uptimeReads()).toBe(1);

    const later = Date.now() + 20_000;
    vi.spyOn(Date, "now").mockReturnValue(later);
    rerender({ listAt: 3 });
    await waitFor(() => expect(uptimeReads()).toBe(2));
  });
});

describe("applyServerEvent", () => {
  it("marks the counts by health stale, so that they follow live health changes", () => {
    const { client } = withClient();
    client.setQueryData(serverKeys.overview(), { total: 0 });
    applyServerEvent(client, {
      type: "health.changed",
      serverId: ID,
      status: "unhealthy",
      previousStatus: "healthy",
      latencyMs: null,
      error: "timeout",
      checkedAt: new Date().toISOString(),
    });

    expect(client.getQueryState(serverKeys.overview())?.isInvalidated).toBe(true);
  });
});
