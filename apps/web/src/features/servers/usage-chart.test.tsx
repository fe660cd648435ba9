import type { ApiKey, KeyUsage, ServerUsage } from "@switchboard/shared";
import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { fakeApi, renderPage, serverFixture } from "../../test/harness";
import { KeysPanel } from "./keys-panel";
import { ServerDetailPage } from "./server-detail";

const server = serverFixture({ status: "healthy" });
const base = `/mcp/servers/${server.id}`;

const figures = { latencyMsAvg: null, latencyMsMax: null, bytesIn: 0, bytesOut: 0 };
function usageOf(points: { calls: number; errors: number }[]): ServerUsage {
  const from = Date.parse("2026-03-01T10:00:00.000Z");
  const calls = points.reduce((n, p) => n + p.calls, 0);
  const errors = points.reduce((n, p) => n + p.errors, 0);
  return {
    serverId: server.id,
    keyId: null,
    from: new Date(from).toISOString(),
    to: new Date(from + points.length * 300_000).toISOString(),
    step: 300,
    points: points.map((p, i) => ({
      ...figures,
      ...p,
      ...(p.calls ? { latencyMsAvg: 35, latencyMsMax: 80 } : {}),
      at: new Date(from + i * 300_000).toISOString(),
    })),
    totals: { ...figures, calls, errors, latencyMsAvg: calls ? 35 : null, latencyMsMax: calls ? 80 : null },
  };
}

function showServer(usage: ServerUsage) {
  const api = fakeApi({
    [`GET ${base}`]: () => ({ body: server }),
    [`GET ${base}/health`]: () => ({ body: { items: [] } }),
    [`GET ${base}/keys`]: () => ({ body: { items: [] } }),
    [`GET ${base}/drift`]: () => ({ body: { items: [] } }),
    [`GET ${base}/usage`]: () => ({ body: usage }),
    [`GET ${base}/usage/keys`]: () => ({ body: { from: usage.from, to: usage.to, items: [] } }),
  });
  renderPage(<ServerDetailPage id={server.id} live={false} />, { path: `/servers/${server.id}` });
  return api;
}

describe("the server page's gateway traffic", () => {
  it("shows the last 24 hours' calls, errors and mean latency, and when it was busiest", async () => {
    const api = showServer(
      usageOf([
        { calls: 400, errors: 2 },
        { calls: 834, errors: 10 },
        { calls: 0, errors: 0 },
      ]),
    );
    const panel = await screen.findByRole("region", { name: "Gateway traffic, last 24 hours" });
    const totals = await within(panel).findByTestId("usage-totals");
    expect(totals.textContent).toBe(`${(1234).toLocaleString()} calls · 12 errors (1.0%) · mean 35 ms`);
    const caption = panel.querySelector("figcaption")?.textContent ?? "";
    expect(caption).toContain("every 5 minutes");
    expect(caption).toContain(
      `busiest at ${new Date("2026-03-01T10:05:00.000Z").toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })} with 834 calls`,
    );
    expect(api.requests.some((r) => r.path === `${base}/usage`)).toBe(true);
  });

  it("says so when the server had no gateway calls", async () => {
    showServer(usageOf([{ calls: 0, errors: 0 }]));
    const panel = await screen.findByRole("region", { name: "Gateway traffic, last 24 hours" });
    expect(await within(panel).findByText("No gateway calls in the last 24 hours")).toBeTruthy();
    expect(within(panel).queryByTestId("usage-chart")).toBeNull();
  });
});

describe("the keys panel", () => {
  const key = (id: string, name: string): ApiKey => ({
    id,
    serverId: server.id,
    name,
    prefix: "mcp_abcdefgh",
    createdBy: "user-1",
    createdAt: "2026-01-01T00:00:00.000Z",
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    tools: null,
  });
  const used = (keyId: string, calls: number): KeyUsage => ({
    keyId,
    calls,
    errors: 0,
    latencyMsAvg: 10,
    latencyMsMax: 20,
    bytesIn: 1,
    bytesOut: 1,
    lastCallAt: "2026-03-01T10:00:00.000Z",
  });

  it("shows each key's calls in the last 24 hours, 0 for a key that made none", async () => {
    const ids = [
      "0b0c0d0e-0000-4000-8000-000000000001",
      "0b0c0d0e-0000-4000-8000-000000000002",
      "0b0c0d0e-0000-4000-8000-000000000003",
    ];
    fakeApi({
      [`GET ${base}/keys`]: () => ({
        body: {
          items: [
            key(ids[0] as string, "ci"),
            key(ids[1] as string, "laptop"),
            key(ids[2] as string, "spare"),
          ],
        },
      }),
      [`GET ${base}/usage/keys`]: () => ({
        body: {
          from: "2026-03-01T00:00:00.000Z",
          to: "2026-03-02T00:00:00.000Z",
          items: [used(ids[0] as string, 1200), used(ids[1] as string, 1)],
        },
      }),
    });
    renderPage(<KeysPanel serverId={server.id} canManage={false} server={server} />);
    const callsOf = async (name: string) =>
      (await screen.findByText(name)).closest("li")?.querySelector("[data-testid=key-calls]")?.textContent;
    await screen.findAllByTestId("key-calls");
    expect(await callsOf("ci")).toBe(` · ${(1200).toLocaleString()} calls in 24 h`);
    expect(await callsOf("laptop")).toBe(" · 1 call in 24 h");
    expect(await callsOf("spare")).toBe(" · 0 calls in 24 h");
  });
});
