import {
  HealthStatus,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_OPTIONS,
  type Server,
  Transport,
} from "@switchboard/shared";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, describe, expect, it } from "vitest";
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

const WEATHER = "4f7c0a52-8c1e-4d2a-9a55-0a3b1c2d3e4f";
const MAPS = "5a8d1b63-9d2f-4e3b-8b66-1b4c2d3e4f50";

/** Two servers, the counts by health, their uptime, and whatever else a test adds. */
function fleet({
  role = "admin",
  servers = [
    serverFixture({ status: "healthy" }),
    serverFixture({ id: MAPS, name: "maps", displayName: "Maps", status: "unhealthy" }),
  ],
  routes = {},
}: {
  role?: string;
  servers?: Server[];
  routes?: Parameters<typeof fakeApi>[0];
} = {}) {
  return fakeApi({
    "GET /api/auth/organization/get-active-member": () => ({ body: { role } }),
    "GET /mcp/servers": () => ({
      body: { items: servers, page: 1, pageSize: PAGE_SIZE_DEFAULT, total: servers.length },
    }),
    "GET /mcp/servers/overview": () => ({
      body: {
        total: 12,
        counts: { unknown: 0, healthy: 7, degraded: 1, unhealthy: 2, auth_required: 0, disabled: 2 },
        checks: { overdue: 0, lagSeconds: 0 },
      },
    }),
    "GET /mcp/servers/uptime": () => ({ body: { items: [] } }),
    ...routes,
  });
}

const rowOf = (name: string) => {
  const el = document.querySelector<HTMLElement>(`[data-server="${name}"]`);
  if (!el) throw new Error(`no row for ${name}`);
  return within(el);
};

describe("ServersPage counts by health", () => {
  const chip = (name: RegExp) => screen.findByRole("button", { name });

  it("shows how many servers are in each health, and filters the list by the one clicked", async () => {
    const api = fleet();
    const { history } = renderPage(<ServersPage live={false} />);
    const user = userEvent.setup();

    const unhealthy = await chip(/^Unhealthy 2$/);
    expect((await chip(/^Healthy 7$/)).getAttribute("aria-pressed")).toBe("false");
    expect(await chip(/^Degraded 1$/)).toBeTruthy();
    expect(await chip(/^Sign-in required 0$/)).toBeTruthy();
    expect(await chip(/^Disabled 2$/)).toBeTruthy();
    expect(unhealthy.getAttribute("aria-pressed")).toBe("false");

    await user.click(unhealthy);
    await waitFor(() => expect(listRequests(api).at(-1)?.search.get("status")).toBe("unhealthy"));
    // The counts are of enabled servers: so is the list they open.
    expect(listRequests(api).at(-1)?.search.get("enabled")).toBe("true");
    expect((await chip(/^Unhealthy 2$/)).getAttribute("aria-pressed")).toBe("true");
    expect(history.at(-1)).toBe("/?status=unhealthy&enabled=true");
  });

  it("lists the disabled servers from their chip, and every server again when the chosen chip is clicked", async () => {
    const api = fleet();
    const { history } = renderPage(<ServersPage live={false} />, { path: "/?status=healthy" });
    const user = userEvent.setup();

    expect((await chip(/^Healthy 7$/)).getAttribute("aria-pressed")).toBe("true");
    await user.click(await chip(/^Disabled 2$/));
    await waitFor(() => expect(listRequests(api).at(-1)?.search.get("enabled")).toBe("false"));
    expect(listRequests(api).at(-1)?.search.has("status")).toBe(false);
    expect((await chip(/^Disabled 2$/)).getAttribute("aria-pressed")).toBe("true");
    expect((await chip(/^Healthy 7$/)).getAttribute("aria-pressed")).toBe("false");

    await user.click(await chip(/^Disabled 2$/));
    await waitFor(() => expect(history.at(-1)).toBe("/"));
    expect((await chip(/^Disabled 2$/)).getAttribute("aria-pressed")).toBe("false");
  });
});

describe("ServersPage uptime and latency", () => {
  const hours = (values: (number | null)[]) => [...Array(24 - values.length).fill(null), ...values];

  it("asks for the uptime of the servers on the page and shows it with a latency line", async () => {
    const api = fleet({
      routes: {
        "GET /mcp/servers/uptime": () => ({
          body: {
            items: [
              {
                serverId: WEATHER,
                uptime24h: 0.9994,
                uptime7d: 0.95,
                checks24h: 1440,
                checks7d: 10080,
                latency24h: hours([80, 95, null, 110, 120]),
              },
              {
                serverId: MAPS,
                uptime24h: null,
                uptime7d: null,
                checks24h: 0,
                checks7d: 0,
                latency24h: hours([]),
              },
            ],
          },
        }),
      },
    });
    renderPage(<ServersPage live={false} />);

    const weather = await waitFor(() => rowOf("weather"));
    expect(await weather.findByText("99.9%")).toBeTruthy();
    expect(weather.getByText("95.0%")).toBeTruthy();
    const line = weather.getByRole("img", { name: "Latency over 24 h, last 120 ms" });
    // The hour without a check breaks the line in two.
    expect(line.querySelector("path")?.getAttribute("d")?.match(/M/g)).toHaveLength(2);

    const maps = rowOf("maps");
    expect(maps.getAllByText("—")).toHaveLength(3);
    expect(maps.queryByRole("img")).toBeNull();

    const asked = api.requests.filter((r) => r.path === "/mcp/servers/uptime");
    expect(asked.map((r) => r.search.get("ids"))).toEqual([`${WEATHER},${MAPS}`]);
  });

  it("says so when the uptime cannot be loaded, and still shows the list", async () => {
    fleet({ routes: { "GET /mcp/servers/uptime": () => ({ status: 500, body: { detail: "boom" } }) } });
    renderPage(<ServersPage live={false} />);

    await waitFor(() => expect(rowOf("weather").getAllByTitle("Uptime could not be loaded")).toHaveLength(3));
    expect(rowOf("maps").getByText("Maps")).toBeTruthy();
  });
});

describe("ServersPage status since and next check", () => {
  it("says how long a server has been down and when it is checked next, with the times in tooltips", async () => {
    const since = new Date(Date.now() - 3 * 3600_000 - 60_000).toISOString();
    fleet({
      servers: [
        serverFixture({
          status: "unhealthy",
          statusSince: since,
          nextCheckAt: new Date(Date.now() + 45_500).toISOString(),
        }),
        serverFixture({
          id: MAPS,
          name: "maps",
          displayName: "Maps",
          status: "healthy",
          statusSince: since,
          nextCheckAt: new Date(Date.now() - 5_000).toISOString(),
        }),
      ],
    });
    renderPage(<ServersPage live={false} />);

    const down = await waitFor(() => rowOf("weather").getByText("Down for 3 h"));
    expect(down.getAttribute("title")).toContain(new Date(since).toLocaleString());
    expect(rowOf("weather").getByText(/^next check in 4\d s$/)).toBeTruthy();
    // Healthy is no news: only when its check is due.
    expect(rowOf("maps").queryByText(/for \d/)).toBeNull();
    expect(rowOf("maps").getByText("next check due now")).toBeTruthy();
  });
});

describe("ServersPage bulk actions", () => {
  beforeAll(() => {
    // jsdom has <dialog> without its methods: these open and close it by its attribute, as a browser does.
    HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
      this.setAttribute("open", "");
    };
    HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
      this.removeAttribute("open");
      this.dispatchEvent(new Event("close"));
    };
  });

  const bulkRequests = (api: ReturnType<typeof fakeApi>) =>
    api.writes().filter((r) => r.path === "/mcp/servers/bulk");

  it("shows a member no checkboxes and no bulk actions", async () => {
    const api = fleet({ role: "member" });
    renderPage(<ServersPage live={false} />);
    await screen.findByText("Weather");
    await waitFor(() =>
      expect(api.requests.some((r) => r.path === "/api/auth/organization/get-active-member")).toBe(true),
    );
    await new Promise((settled) => setTimeout(settled, 100)); // the role is applied, whatever it shows

    expect(screen.queryAllByRole("checkbox")).toEqual([]);
    expect(screen.queryByRole("toolbar", { name: "Bulk actions" })).toBeNull();
  });

  it("asks before deleting the selected servers, naming how many, then deletes them", async () => {
    const api = fleet({
      routes: {
        "POST /mcp/servers/bulk": (req) => ({
          body: { action: "delete", ids: (req.body as { ids: string[] }).ids },
        }),
      },
    });
    renderPage(<ServersPage live={false} />);
    const user = userEvent.setup();

    await user.click(await screen.findByRole("checkbox", { name: "Select all servers on this page" }));
    expect((screen.getByRole("checkbox", { name: "Select Maps" }) as HTMLInputElement).checked).toBe(true);
    const bar = await screen.findByRole("toolbar", { name: "Bulk actions" });
    expect(within(bar).getByText("2 servers selected")).toBeTruthy();

    await user.click(within(bar).getByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete 2 servers?" });
    expect(bulkRequests(api)).toEqual([]);
    await user.click(within(dialog).getByRole("button", { name: "Delete 2 servers" }));

    await waitFor(() => expect(bulkRequests(api)).toHaveLength(1));
    expect(bulkRequests(api)[0]?.body).toEqual({ action: "delete", ids: [WEATHER, MAPS] });
    expect(await screen.findByText("Deleted 2 servers")).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole("toolbar", { name: "Bulk actions" })).toBeNull());
  });

  it("refuses a tag the shared rules refuse, and adds valid ones to the selected servers", async () => {
    const api = fleet({
      routes: { "POST /mcp/servers/bulk": () => ({ body: { action: "tag", ids: [MAPS] } }) },
    });
    renderPage(<ServersPage live={false} />);
    const user = userEvent.setup();

    await user.click(await screen.findByRole("checkbox", { name: "Select Maps" }));
    await user.click(await screen.findByRole("button", { name: "Add tag…" }));
    const dialog = await screen.findByRole("dialog", { name: "Add tags to 1 server" });
    const box = within(dialog).getByLabelText("Tags");
    await user.type(box, "prod, bad tag!");
    await user.click(within(dialog).getByRole("button", { name: "Add to 1 server" }));

    expect((await within(dialog).findByRole("alert")).textContent).toMatch(/^"bad tag!" must be lowercase/);
    expect(bulkRequests(api)).toEqual([]);

    await user.clear(box);
    await user.type(box, "Prod, team-a, prod");
    await user.click(within(dialog).getByRole("button", { name: "Add to 1 server" }));
    await waitFor(() =>
      expect(bulkRequests(api).map((r) => r.body)).toEqual([
        { action: "tag", ids: [MAPS], tags: ["prod", "team-a"] },
      ]),
    );
    expect(await screen.findByText("Tagged 1 server with prod, team-a")).toBeTruthy();
  });

  it("shows the API's reason when a bulk action fails, and keeps the selection", async () => {
    fleet({
      routes: {
        "POST /mcp/servers/bulk": () => ({
          status: 403,
          body: { title: "Forbidden", detail: "Only owners and admins may change servers" },
        }),
      },
    });
    renderPage(<ServersPage live={false} />);
    const user = userEvent.setup();

    await user.click(await screen.findByRole("checkbox", { name: "Select Weather" }));
    await user.click(screen.getByRole("button", { name: "Enable" }));

    const toastShown = await screen.findByRole("alert");
    expect(toastShown.textContent).toBe("Only owners and admins may change servers");
    expect((screen.getByRole("checkbox", { name: "Select Weather" }) as HTMLInputElement).checked).toBe(true);
  });

  it("checks the selected servers at once, without asking", async () => {
    const api = fleet({
      routes: { "POST /mcp/servers/bulk": () => ({ body: { action: "check", ids: [WEATHER] } }) },
    });
    renderPage(<ServersPage live={false} />);
    const user = userEvent.setup();

    await user.click(await screen.findByRole("checkbox", { name: "Select all servers on this page" }));
    await user.click(screen.getByRole("button", { name: "Check now" }));

    await waitFor(() =>
      expect(bulkRequests(api).map((r) => r.body)).toEqual([{ action: "check", ids: [WEATHER, MAPS] }]),
    );
    expect(
      await screen.findByText(
        "Scheduled 1 of 2 servers for a check (the rest are disabled or not configured)",
      ),
    ).toBeTruthy();
  });

  it("clears the selection when the filter changes", async () => {
    fleet();
    renderPage(<ServersPage live={false} />);
    const user = userEvent.setup();

    await user.click(await screen.findByRole("checkbox", { name: "Select Weather" }));
    expect(await screen.findByRole("toolbar", { name: "Bulk actions" })).toBeTruthy();
    await user.selectOptions(screen.getByLabelText("Transport", { selector: "select" }), "sse");

    await waitFor(() => expect(screen.queryByRole("toolbar", { name: "Bulk actions" })).toBeNull());
    expect((screen.getByRole("checkbox", { name: "Select Weather" }) as HTMLInputElement).checked).toBe(
      false,
    );
  });
});
