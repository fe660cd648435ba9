import { HealthStatus, PAGE_SIZE_DEFAULT, PAGE_SIZE_OPTIONS, Transport } from "@switchboard/shared";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, renderPage, serverFixture } from "../../test/harness";
import { ServersPage } from "./servers-page";

const optionValues = (label: string) =>
  [...(screen.getByLabelText(label, { selector: "select" }) as HTMLSelectElement).options].map(
    (o) => o.value,
  );

const listing = () =>
  fakeApi({
    "GET /mcp/servers": (req) => ({
      body: {
        items: [serverFixture({ transport: "sse" })],
        page: 1,
        pageSize: Number(req.search.get("pageSize")),
        total: 1,
      },
    }),
  });

const listRequests = (api: ReturnType<typeof fakeApi>) =>
  api.requests.filter((r) => r.path === "/mcp/servers");

describe("ServersPage", () => {
  it("filters by every health status and every transport the API knows", async () => {
    listing();
    renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");

    expect(optionValues("Health")).toEqual(["", ...HealthStatus.options]);
    expect(optionValues("Transport")).toEqual(["", ...Transport.options]);
  });

  it("asks the API for the chosen filter", async () => {
    const api = listing();
    renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");
    await userEvent
      .setup()
      .selectOptions(screen.getByLabelText("Health", { selector: "select" }), "degraded");

    await waitFor(() => expect(listRequests(api).at(-1)?.search.get("status")).toBe("degraded"));
  });

  it("pages by the default size, and offers the shared page sizes", async () => {
    const api = listing();
    renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");

    expect(listRequests(api)[0]?.search.get("pageSize")).toBe(String(PAGE_SIZE_DEFAULT));
    expect(optionValues("Page size")).toEqual(PAGE_SIZE_OPTIONS.map(String));
  });

  it("falls back to the default page size when the URL asks for one it does not offer", async () => {
    const api = listing();
    renderPage(<ServersPage live={false} />, { path: "/?pageSize=5000" });
    await screen.findByText("Weather");

    expect(listRequests(api)[0]?.search.get("pageSize")).toBe(String(PAGE_SIZE_DEFAULT));
  });

  it("names each server's transport", async () => {
    listing();
    renderPage(<ServersPage live={false} />);

    expect(await screen.findByText("SSE", { selector: "td span" })).toBeTruthy();
  });

  it("marks a pinned server whose tools changed since the approval, and no other", async () => {
    fakeApi({
      "GET /mcp/servers": () => ({
        body: {
          items: [
            serverFixture({ name: "weather", displayName: "Weather", pinned: true, drifted: true }),
            serverFixture({
              id: "5a8d1b63-9d2f-4e3b-8b66-1b4c2d3e4f50",
              name: "maps",
              displayName: "Maps",
              pinned: true,
              drifted: false,
            }),
          ],
          page: 1,
          pageSize: PAGE_SIZE_DEFAULT,
          total: 2,
        },
      }),
    });
    renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");

    const row = (name: string) => {
      const el = document.querySelector<HTMLElement>(`[data-server="${name}"]`);
      if (!el) throw new Error(`no row for ${name}`);
      return within(el);
    };
    expect(row("weather").getByText("tools changed")).toBeTruthy();
    expect(row("maps").queryByText("tools changed")).toBeNull();
  });

  it("shows a disabled server as disabled, never by its last (healthy) status", async () => {
    fakeApi({
      "GET /mcp/servers": () => ({
        body: {
          items: [
            serverFixture({ enabled: false, status: "healthy", lastCheckedAt: new Date().toISOString() }),
            serverFixture({
              id: "5a8d1b63-9d2f-4e3b-8b66-1b4c2d3e4f50",
              name: "maps",
              displayName: "Maps",
              status: "healthy",
            }),
          ],
          page: 1,
          pageSize: PAGE_SIZE_DEFAULT,
          total: 2,
        },
      }),
    });
    renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");

    const weather = document.querySelector<HTMLElement>('[data-server="weather"]');
    const maps = document.querySelector<HTMLElement>('[data-server="maps"]');
    expect(weather?.querySelector("[data-status]")?.getAttribute("data-status")).toBe("disabled");
    expect(weather?.querySelector('[data-status="healthy"]')).toBeNull();
    expect(within(weather as HTMLElement).getByText(/^last: Healthy/)).toBeTruthy();
    expect(maps?.querySelector("[data-status]")?.getAttribute("data-status")).toBe("healthy");
  });

  it("filters on tools changed since approval", async () => {
    const api = listing();
    renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");
    expect(optionValues("Tools")).toEqual(["", "true", "false"]);
    await userEvent.setup().selectOptions(screen.getByLabelText("Tools", { selector: "select" }), "true");

    await waitFor(() => expect(listRequests(api).at(-1)?.search.get("drifted")).toBe("true"));
  });

  it("names a status and a failure reason in words, keeping their codes", async () => {
    fakeApi({
      "GET /mcp/servers": () => ({
        body: {
          items: [
            serverFixture({
              status: "unhealthy",
              lastError: "connection_refused",
              lastCheckedAt: new Date().toISOString(),
            }),
          ],
          page: 1,
          pageSize: PAGE_SIZE_DEFAULT,
          total: 1,
        },
      }),
    });
    renderPage(<ServersPage live={false} />);

    const badge = await screen.findByText("Unhealthy");
    expect(badge.closest("[data-status]")?.getAttribute("data-status")).toBe("unhealthy");
    const reason = document.querySelector('[data-reason="connection_refused"]');
    expect(reason?.textContent).toBe(
      "Connection refused: nothing answers at that address (connection_refused)",
    );
    expect(screen.getByRole("option", { name: "Health: Sign-in required" })).toBeTruthy();
  });
});

describe("ServersPage history", () => {
  const paged = () =>
    fakeApi({
      "GET /mcp/servers": (req) => ({
        body: {
          items: [serverFixture()],
          page: Number(req.search.get("page") ?? 1),
          pageSize: PAGE_SIZE_DEFAULT,
          total: PAGE_SIZE_DEFAULT * 3,
        },
      }),
    });

  it("makes each filter and page change a history entry of its own, so Back undoes it", async () => {
    paged();
    const { history } = renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");
    const user = userEvent.setup();

    await user.selectOptions(screen.getByLabelText("Health", { selector: "select" }), "degraded");
    await user.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(history).toEqual(["/", "/?status=degraded", "/?status=degraded&page=2"]));
  });

  it("adds one entry for a search however many keystrokes it took, and a new one after another change", async () => {
    paged();
    const { history } = renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");
    const user = userEvent.setup();
    const box = screen.getByLabelText("Search");

    await user.type(box, "wea");
    await waitFor(() => expect(history.at(-1)).toBe("/?q=wea"));
    await user.type(box, "ther");
    await waitFor(() => expect(history).toEqual(["/", "/?q=weather"]));
    await user.selectOptions(screen.getByLabelText("Transport", { selector: "select" }), "sse");
    await user.type(box, "s");
    await waitFor(() =>
      expect(history).toEqual([
        "/",
        "/?q=weather",
        "/?q=weather&transport=sse",
        "/?q=weathers&transport=sse",
      ]),
    );
  });
});

describe("ServersPage sorting", () => {
  const header = (name: string) => screen.getByRole("columnheader", { name });
  const sortButton = (name: string) => within(header(name)).getByRole("button", { name });

  it("sorts by a column when its header is clicked, then flips the order, keeping it in the URL", async () => {
    const api = listing();
    const { history } = renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");
    const user = userEvent.setup();

    await user.click(sortButton("Health"));
    await waitFor(() => expect(listRequests(api).at(-1)?.search.get("sort")).toBe("status"));
    expect(history.at(-1)).toBe("/?sort=status");
    expect(header("Health").getAttribute("aria-sort")).toBe("ascending");
    expect(header("Name").getAttribute("aria-sort")).toBe("none");

    await user.click(sortButton("Health"));
    await waitFor(() => expect(listRequests(api).at(-1)?.search.get("sort")).toBe("-status"));
    expect(history.at(-1)).toBe("/?sort=-status");
    expect(header("Health").getAttribute("aria-sort")).toBe("descending");
  });

  it("sorts from the keyboard, with Enter and with Space", async () => {
    const api = listing();
    renderPage(<ServersPage live={false} />, { path: "/?sort=-updatedAt" });
    await screen.findByText("Weather");
    expect(header("Updated").getAttribute("aria-sort")).toBe("descending");
    const user = userEvent.setup();

    sortButton("Last checked").focus();
    await user.keyboard("{Enter}");
    await waitFor(() => expect(listRequests(api).at(-1)?.search.get("sort")).toBe("lastCheckedAt"));
    await user.keyboard(" ");
    await waitFor(() => expect(listRequests(api).at(-1)?.search.get("sort")).toBe("-lastCheckedAt"));
    expect(header("Updated").getAttribute("aria-sort")).toBe("none");
  });

  it("offers sorting only on the columns the API sorts by", async () => {
    listing();
    renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");

    const sortable = screen
      .getAllByRole("columnheader")
      .filter((th) => th.hasAttribute("aria-sort"))
      .map((th) => th.textContent?.replace(/[▲▼↕]/, ""));
    expect(sortable).toEqual(["Name", "Health", "Last checked", "Updated"]);
    expect(within(header("Transport")).queryByRole("button")).toBeNull();
    expect(header("Name").getAttribute("aria-sort")).toBe("ascending");
  });
});

describe("ServersPage while checks run behind", () => {
  const overview = (lagSeconds: number, overdue: number) =>
    fakeApi({
      "GET /mcp/servers": () => ({ body: { items: [serverFixture()], page: 1, pageSize: 50, total: 1 } }),
      "GET /mcp/servers/overview": () => ({
        body: {
          total: 1,
          counts: { unknown: 0, healthy: 1, degraded: 0, unhealthy: 0, auth_required: 0, disabled: 0 },
          checks: { overdue, lagSeconds },
        },
      }),
    });

  it("says how many servers are overdue and by how long", async () => {
    overview(750, 1200);
    renderPage(<ServersPage live={false} />);
    expect(await screen.findByText(/1200 servers are overdue, the oldest by 13 minutes/)).toBeTruthy();
  });

  it("says nothing while checks keep to their schedule", async () => {
    const api = overview(3, 2);
    renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");
    await waitFor(() => expect(api.requests.some((r) => r.path === "/mcp/servers/overview")).toBe(true));
    await new Promise((settled) => setTimeout(settled, 100)); // the answer rendered, if it shows anything
    expect(screen.queryByText(/overdue/)).toBeNull();
  });
});
