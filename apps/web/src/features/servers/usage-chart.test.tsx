import type { ApiKey, KeyUsage, ServerUsage } from "@switchboard/shared";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, renderPage, serverFixture, serverPageRoutes } from "../../test/harness";
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

function showServer(usage: ServerUsage, path = `/servers/${server.id}`) {
  const api = fakeApi({
    [`GET ${base}`]: () => ({ body: server }),
    [`GET ${base}/health`]: () => ({ body: { items: [] } }),
    [`GET ${base}/keys`]: () => ({ body: { items: [] } }),
    [`GET ${base}/drift`]: () => ({ body: { items: [] } }),
    [`GET ${base}/usage`]: () => ({ body: usage }),
    [`GET ${base}/usage/keys`]: () => ({ body: { from: usage.from, to: usage.to, items: [] } }),
  });
  const page = renderPage(<ServerDetailPage id={server.id} live={false} />, { path });
  return { ...api, history: page.history };
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
    const panel = await screen.findByRole("region", { name: "Gateway traffic" });
    const totals = await within(panel).findByTestId("usage-totals");
    expect(totals.textContent).toBe(`${(1234).toLocaleString()} calls · 12 errors (1.0%) · mean 35 ms`);
    const busiest = `busiest at ${new Date("2026-03-01T10:05:00.000Z").toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })} with 834 calls`;
    const caption = panel.querySelector("figcaption")?.textContent ?? "";
    expect(caption).toContain("every 5 min");
    expect(caption).toContain(busiest);
    // The canvas's text alternative says the same for those who cannot see it.
    expect(within(panel).getByRole("img").getAttribute("aria-label")).toBe(
      `Gateway calls and errors over the last 24 hours. 24 h: ${(1234).toLocaleString()} calls, 12 errors; ${busiest}.`,
    );
    const asked = api.requests.find((r) => r.path === `${base}/usage`);
    expect(asked?.search.get("step")).toBe("300");
    const from = Date.parse(asked?.search.get("from") ?? "");
    const to = Date.parse(asked?.search.get("to") ?? "");
    expect(to - from).toBe(86_400_000);
  });

  it("asks for the range picked, in hour steps for a week, and keeps the range in the URL", async () => {
    const { requests, history } = showServer(usageOf([{ calls: 3, errors: 0 }]));
    const panel = await screen.findByRole("region", { name: "Gateway traffic" });
    await within(panel).findByTestId("usage-totals");
    const picker = within(panel).getByRole("group", { name: "Gateway traffic time range" });
    expect(within(picker).getByRole<HTMLInputElement>("radio", { name: "24 h" }).checked).toBe(true);

    await userEvent.setup().click(within(picker).getByRole("radio", { name: "7 d" }));

    await waitFor(() =>
      expect(requests.some((r) => r.path === `${base}/usage` && r.search.get("step") === "3600")).toBe(true),
    );
    const week = requests.find((r) => r.search.get("step") === "3600");
    expect(Date.parse(week?.search.get("to") ?? "") - Date.parse(week?.search.get("from") ?? "")).toBe(
      604_800_000,
    );
    expect(history.at(-1)).toBe(`/servers/${server.id}?range=7d`);
    expect(within(picker).getByRole<HTMLInputElement>("radio", { name: "7 d" }).checked).toBe(true);
  });

  it("opens on the range the URL names", async () => {
    const { requests } = showServer(usageOf([{ calls: 3, errors: 0 }]), `/servers/${server.id}?range=1h`);
    const panel = await screen.findByRole("region", { name: "Gateway traffic" });
    await within(panel).findByTestId("usage-totals");
    expect(requests.find((r) => r.path === `${base}/usage`)?.search.get("step")).toBe("60");
    expect(within(panel).getByRole<HTMLInputElement>("radio", { name: "1 h" }).checked).toBe(true);
  });

  it("shows the error and reads again on Try again", async () => {
    let calls = 0;
    fakeApi({
      ...serverPageRoutes(server),
      [`GET ${base}/usage`]: () =>
        ++calls === 1
          ? { status: 500, body: { status: 500, code: "INTERNAL", detail: "Usage store unavailable" } }
          : { body: usageOf([{ calls: 5, errors: 1 }]) },
    });
    renderPage(<ServerDetailPage id={server.id} live={false} />, { path: `/servers/${server.id}` });
    const panel = await screen.findByRole("region", { name: "Gateway traffic" });
    expect((await within(panel).findByRole("alert")).textContent).toContain("Usage store unavailable");
    await userEvent.setup().click(within(panel).getByRole("button", { name: "Try again" }));
    expect((await within(panel).findByTestId("usage-totals")).textContent).toContain("5 calls");
  });

  it("says so when the server had no gateway calls", async () => {
    showServer(usageOf([{ calls: 0, errors: 0 }]));
    const panel = await screen.findByRole("region", { name: "Gateway traffic" });
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
