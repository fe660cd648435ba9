import type { HealthBucket, HealthCheck, HealthSeries, ServerEvent } from "@switchboard/shared";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { Router } from "wouter";
import { memoryLocation } from "wouter/memory-location";
import { fakeApi, renderPage, serverFixture, serverPageRoutes } from "../../test/harness";
import { HealthPanel } from "./latency-chart";
import { applyServerEvent } from "./queries";
import { ServerDetailPage } from "./server-detail";

/** What the chart engine was given: uPlot is replaced, since a test's DOM has no canvas. */
const drawn = vi.hoisted(() => ({ plots: [] as { opts: unknown; data: unknown[][] }[], destroyed: 0 }));
vi.mock("uplot", () => {
  class FakePlot {
    static pxRatio = 1;
    constructor(opts: unknown, data: unknown[][]) {
      drawn.plots.push({ opts, data });
    }
    setSize() {}
    destroy() {
      drawn.destroyed++;
    }
  }
  return { default: FakePlot };
});

beforeEach(() => {
  drawn.plots.length = 0;
  drawn.destroyed = 0;
});

const server = serverFixture({ status: "healthy" });
const base = `/mcp/servers/${server.id}`;
const T0 = Date.parse("2026-03-01T10:00:00.000Z");

const bucket = (i: number, overrides: Partial<HealthBucket> = {}): HealthBucket => ({
  at: new Date(T0 + i * 60_000).toISOString(),
  checks: 1,
  healthy: 1,
  degraded: 0,
  unhealthy: 0,
  authRequired: 0,
  avgLatencyMs: 120,
  maxLatencyMs: 130,
  ...overrides,
});

const seriesOf = (buckets: HealthBucket[], range: HealthSeries["range"] = "24h"): HealthSeries => ({
  range,
  stepSeconds: 60,
  from: new Date(T0).toISOString(),
  to: new Date(T0 + 3_600_000).toISOString(),
  buckets,
});

const failedCheck = (id: string, error: string): HealthCheck => ({
  id,
  serverId: server.id,
  checkedAt: new Date(Date.now() - 120_000).toISOString(),
  status: "unhealthy",
  latencyMs: null,
  error,
  protocolVersion: null,
  era: null,
  toolsCount: null,
});

const down = { checks: 1, healthy: 0, unhealthy: 1, avgLatencyMs: null, maxLatencyMs: null };

function showPage(
  series: (range: string) => HealthSeries,
  { path = `/servers/${server.id}`, checks = [] as HealthCheck[] } = {},
) {
  const api = fakeApi({
    ...serverPageRoutes(server),
    [`GET ${base}/health`]: () => ({ body: { items: checks } }),
    [`GET ${base}/health/series`]: (req) => ({ body: series(req.search.get("range") ?? "") }),
  });
  const page = renderPage(<ServerDetailPage id={server.id} live={false} />, { path });
  return { ...api, history: page.history };
}

const healthPanel = () => screen.findByRole("region", { name: "Health" });
const seriesRequests = (api: ReturnType<typeof fakeApi>) =>
  api.requests.filter((r) => r.path === `${base}/health/series`).map((r) => r.search.get("range"));

describe("the server page's health chart", () => {
  it("sums the range up in words, as a line and as the chart's text alternative", async () => {
    showPage(() => seriesOf([bucket(0), bucket(1), bucket(2, down), bucket(3, { avgLatencyMs: 200 })]));
    const panel = await healthPanel();
    const summary = await within(panel).findByTestId("health-summary");
    expect(summary.textContent).toBe("24 h: 75.0% up, median 120 ms, 1 failure");
    expect(within(panel).getByRole("img").getAttribute("aria-label")).toBe(
      "Latency and status over the last 24 hours. 24 h: 75.0% up, median 120 ms, 1 failure.",
    );
  });

  it("asks for the range picked and keeps it in the URL", async () => {
    const api = showPage((range) => seriesOf([bucket(0)], range as HealthSeries["range"]));
    const panel = await healthPanel();
    await within(panel).findByTestId("health-summary");
    expect(seriesRequests(api)).toEqual(["24h"]);

    await userEvent.setup().click(within(panel).getByRole("radio", { name: "1 h" }));

    expect((await within(panel).findByTestId("health-summary")).textContent).toMatch(/^1 h: /);
    expect(seriesRequests(api)).toContain("1h");
    expect(api.history.at(-1)).toBe(`/servers/${server.id}?range=1h`);
  });

  it("opens on the range the URL names", async () => {
    const api = showPage(() => seriesOf([bucket(0)]), { path: `/servers/${server.id}?range=7d` });
    const panel = await healthPanel();
    await within(panel).findByTestId("health-summary");
    expect(seriesRequests(api)).toEqual(["7d"]);
    expect(within(panel).getByRole<HTMLInputElement>("radio", { name: "7 d" }).checked).toBe(true);
  });

  it("falls back to 24 hours for a range it does not know", async () => {
    const api = showPage(() => seriesOf([bucket(0)]), { path: `/servers/${server.id}?range=1y` });
    await within(await healthPanel()).findByTestId("health-summary");
    expect(seriesRequests(api)).toEqual(["24h"]);
  });

  it("says so when no check ran in the range", async () => {
    showPage(() => seriesOf([]));
    const panel = await healthPanel();
    expect(await within(panel).findByText("No checks in the last 24 hours")).toBeTruthy();
    expect(within(panel).queryByRole("img")).toBeNull();
  });

  it("shows the error and reads again on Try again", async () => {
    let calls = 0;
    fakeApi({
      ...serverPageRoutes(server),
      [`GET ${base}/health/series`]: () =>
        ++calls === 1
          ? { status: 503, body: { status: 503, code: "INTERNAL", detail: "Health store unavailable" } }
          : { body: seriesOf([bucket(0)]) },
    });
    renderPage(<ServerDetailPage id={server.id} live={false} />, { path: `/servers/${server.id}` });
    const panel = await healthPanel();
    expect((await within(panel).findByRole("alert")).textContent).toContain("Health store unavailable");
    await userEvent.setup().click(within(panel).getByRole("button", { name: "Try again" }));
    expect((await within(panel).findByTestId("health-summary")).textContent).toContain("100% up");
  });

  it("says how many recent checks failed and why, the latest first", async () => {
    showPage(() => seriesOf([bucket(0, down)]), {
      checks: [
        failedCheck("0b0c0d0e-0000-4000-8000-000000000001", "timeout"),
        {
          ...failedCheck("0b0c0d0e-0000-4000-8000-000000000002", "http_503"),
          status: "healthy",
          error: null,
        },
        failedCheck("0b0c0d0e-0000-4000-8000-000000000003", "http_503"),
      ],
    });
    const panel = await healthPanel();
    const summary = await waitFor(() => {
      const el = panel.querySelector("details summary");
      if (!el) throw new Error("no failures summary yet");
      return el;
    });
    expect(summary.textContent).toMatch(
      /^2 of the last 3 checks failed · latest .+: No answer in time \(timeout\)$/,
    );
    const list = within(panel).getByRole("list", { name: "Recent failed checks" });
    expect([...list.querySelectorAll("[data-reason]")].map((r) => r.getAttribute("data-reason"))).toEqual([
      "timeout",
      "http_503",
    ]);
  });

  it("says so when none of the recent checks failed", async () => {
    showPage(() => seriesOf([bucket(0)]), {
      checks: [
        { ...failedCheck("0b0c0d0e-0000-4000-8000-000000000001", "timeout"), status: "healthy", error: null },
      ],
    });
    expect(
      await within(await healthPanel()).findByText("The one check recorded got an answer."),
    ).toBeTruthy();
  });
});

describe("the health chart's drawing", () => {
  it("hands uPlot a gap, not a zero, where checks failed, and draws bands and failure marks", async () => {
    vi.stubGlobal("matchMedia", () => ({ matches: false, addEventListener() {}, removeEventListener() {} }));
    showPage(() => seriesOf([bucket(0), bucket(1, down), bucket(2)]));
    await waitFor(() => expect(drawn.plots.length).toBeGreaterThan(0));
    const plot = drawn.plots.at(-1);
    expect(plot?.data[1]?.slice(0, 4)).toEqual([120, null, 120, null]);
    const opts = plot?.opts as {
      hooks: { drawClear: unknown[]; draw: unknown[] };
      series: { label?: string }[];
    };
    expect(opts.series.map((s) => s.label)).toEqual([undefined, "Mean latency", "Highest"]);
    expect(opts.hooks.drawClear).toHaveLength(1);
    expect(opts.hooks.draw).toHaveLength(1);
  });

  it("draws again in dark colours when the page turns dark, leaving one chart", async () => {
    vi.stubGlobal("matchMedia", () => ({ matches: false, addEventListener() {}, removeEventListener() {} }));
    showPage(() => seriesOf([bucket(0)]));
    const stroke = () => {
      const opts = drawn.plots.at(-1)?.opts as { series: { stroke?: string }[] } | undefined;
      return opts?.series[1]?.stroke;
    };
    await waitFor(() => expect(stroke()).toBe("#4f46e5"));

    document.documentElement.classList.add("dark");
    try {
      await waitFor(() => expect(stroke()).toBe("#a5b4fc"));
      // Each chart drawn before was taken down: one canvas, not one per theme.
      expect(drawn.plots.length - drawn.destroyed).toBe(1);
    } finally {
      document.documentElement.classList.remove("dark");
    }
  });
});

describe("live health events", () => {
  it("read the series again when a check of the server lands", async () => {
    const api = fakeApi({
      [`GET ${base}/health`]: () => ({ body: { items: [] } }),
      [`GET ${base}/health/series`]: () => ({ body: seriesOf([bucket(0)]) }),
    });
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const location = memoryLocation({ path: `/servers/${server.id}` });
    render(
      <QueryClientProvider client={client}>
        <Router hook={location.hook} searchHook={location.searchHook}>
          <HealthPanel serverId={server.id} live enabled />
        </Router>
      </QueryClientProvider>,
    );
    await screen.findByTestId("health-summary");
    expect(seriesRequests(api)).toEqual(["24h"]);

    const event: ServerEvent = {
      type: "health.changed",
      serverId: server.id,
      status: "unhealthy",
      previousStatus: "healthy",
      latencyMs: null,
      error: "timeout",
      checkedAt: new Date().toISOString(),
    };
    applyServerEvent(client, event);

    await waitFor(() => expect(seriesRequests(api)).toEqual(["24h", "24h"]));
  });
});
