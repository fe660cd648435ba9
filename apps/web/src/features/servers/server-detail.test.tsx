import type { Server, ToolDefinition, ToolDrift } from "@switchboard/shared";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, type Reply, renderPage, serverFixture, serverPageRoutes } from "../../test/harness";
import { ServerDetailPage } from "./server-detail";

const HASH = "a".repeat(64);

const tool = (overrides: Partial<ToolDefinition> = {}): ToolDefinition => ({
  name: "forecast",
  title: null,
  description: "Tomorrow's weather",
  inputSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  outputSchema: null,
  annotations: null,
  ...overrides,
});

/** The server's page with its own requests answered: the server, its history, keys and tool changes. */
function showServer(
  server: Server,
  {
    drift = [],
    role = "admin",
    routes = {},
  }: { drift?: ToolDrift[]; role?: string; routes?: Record<string, () => Reply> } = {},
) {
  const base = `/mcp/servers/${server.id}`;
  const api = fakeApi({
    "GET /api/auth/organization/get-active-member": () => ({ body: { role } }),
    ...serverPageRoutes(server),
    [`GET ${base}/drift`]: () => ({ body: { items: drift } }),
    ...routes,
  });
  renderPage(<ServerDetailPage id={server.id} live={false} />, { path: `/servers/${server.id}` });
  return { api, user: userEvent.setup() };
}

/** The element matching a selector, once the page shows it. */
const found = (selector: string) =>
  waitFor(() => {
    const el = document.querySelector<HTMLElement>(selector);
    if (!el) throw new Error(`nothing matches ${selector}`);
    return el;
  });

const driftEntry = (overrides: Partial<ToolDrift> = {}): ToolDrift => ({
  id: "0b0c0d0e-0000-4000-8000-000000000001",
  serverId: serverFixture().id,
  detectedAt: "2026-03-01T10:00:00.000Z",
  fromHash: "b".repeat(64),
  toHash: HASH,
  added: [tool({ name: "alerts" })],
  removed: [tool({ name: "history" })],
  changed: [
    {
      name: "forecast",
      before: tool(),
      after: tool({
        description: "Forecast for any day",
        inputSchema: { type: "object", properties: { city: { type: "string" }, day: { type: "string" } } },
      }),
    },
  ],
  ...overrides,
});

const pinnedAndDrifted = () =>
  serverFixture({
    status: "healthy",
    tools: [tool()],
    toolsCount: 1,
    toolsHash: HASH,
    pinned: true,
    pinnedAt: "2026-02-01T00:00:00.000Z",
    drifted: true,
  });

describe("ServerDetailPage, health", () => {
  it("shows a disabled server's state as disabled, with its last health in small print", async () => {
    showServer(
      serverFixture({
        enabled: false,
        status: "unhealthy",
        lastError: "timeout",
        lastCheckedAt: new Date().toISOString(),
      }),
    );

    expect((await found("[data-status]")).getAttribute("data-status")).toBe("disabled");
    expect(document.querySelector('[data-status="unhealthy"]')).toBeNull();
    expect(screen.getByText(/^last: Unhealthy/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Enable" })).toBeTruthy();
  });

  it("names an OAuth-protected server's status, and shows what it asked for and what to do", async () => {
    showServer(
      serverFixture({
        status: "auth_required",
        authChallenge: {
          resourceMetadataUrl: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
          authorizationServers: ["https://auth.example.com"],
          scopes: ["weather.read", "weather.write"],
        },
      }),
    );

    const badge = await screen.findByText("Sign-in required", { selector: "[data-status] *, [data-status]" });
    expect(badge.closest("[data-status]")?.getAttribute("data-status")).toBe("auth_required");
    expect(badge.closest("[data-status]")?.textContent).toContain("(auth_required)");
    const note = screen.getByRole("region", { name: "Sign-in required" });
    expect(within(note).getByText("https://auth.example.com")).toBeTruthy();
    expect(within(note).getByText("weather.read")).toBeTruthy();
    expect(within(note).getByText("weather.write")).toBeTruthy();
    expect(within(note).getByText("Authorization: Bearer <token>")).toBeTruthy();
    expect(within(note).getByRole("link", { name: "Add the header under Edit" })).toBeTruthy();
  });

  it("says why a check failed in plain words, with the probe's code beside them", async () => {
    showServer(serverFixture({ status: "unhealthy", lastError: "unsupported_protocol_version" }));

    const reason = await screen.findByText(/Speaks no MCP protocol version Switchboard supports/);
    expect(reason.textContent).toContain("(unsupported_protocol_version)");
  });

  it("shows the protocol revision and its era", async () => {
    showServer(
      serverFixture({
        status: "healthy",
        serverInfo: {
          name: "weather",
          version: "2.0.0",
          protocolVersion: "2026-07-28",
          era: "modern",
          capabilities: {},
        },
      }),
    );

    await waitFor(() => expect(screen.getByTestId("protocol").textContent).toBe("2026-07-28 (modern)"));
  });
});

describe("ServerDetailPage, tools", () => {
  it("shows each tool's title, description, hints and pretty-printed input schema", async () => {
    const forecast = tool({
      title: "Weather forecast",
      annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: true },
    });
    showServer(
      serverFixture({
        status: "healthy",
        toolsCount: 1,
        tools: [forecast],
        prompts: [{ name: "daily-brief", title: null, description: "A morning summary" }],
        resources: [
          { uri: "weather://cities", name: "cities", title: "Known cities", mimeType: "text/plain" },
        ],
      }),
    );

    const item = await found('[data-tool="forecast"]');
    const panel = within(item);
    expect(panel.getByText("Weather forecast")).toBeTruthy();
    expect(panel.getByText("Tomorrow's weather")).toBeTruthy();
    expect(panel.getByText("read-only")).toBeTruthy();
    expect(panel.getByText("open world")).toBeTruthy();
    // A hint the server states as false is not a badge.
    expect(panel.queryByText("destructive")).toBeNull();
    const schema = item.querySelector("details pre");
    expect(schema?.textContent).toBe(JSON.stringify(forecast.inputSchema, null, 2));
    expect(item.querySelector("details summary")?.textContent).toBe("Input schema");
    // Folded until asked for: a long schema does not push the next tools away.
    expect(item.querySelector("details")?.open).toBe(false);

    expect(screen.getByText("Prompts (1)")).toBeTruthy();
    expect(screen.getByText("daily-brief")).toBeTruthy();
    expect(screen.getByText("Resources (1)")).toBeTruthy();
    expect(screen.getByText("weather://cities")).toBeTruthy();
  });
});

describe("ServerDetailPage, tool changes", () => {
  it("lists a change's added, removed and changed tools, with the changed one before and after", async () => {
    showServer(pinnedAndDrifted(), { drift: [driftEntry()] });

    const timeline = await screen.findByRole("list", { name: "Tool change timeline" });
    const entry = within(timeline);
    expect(entry.getByText("alerts")).toBeTruthy();
    expect(entry.getByText("history")).toBeTruthy();
    const changed = await found('[data-changed-tool="forecast"]');
    expect(changed.querySelector("summary")?.textContent).toContain("description, input schema");
    const [before, after] = [...changed.querySelectorAll("pre")].map((p) => JSON.parse(p.textContent ?? ""));
    expect(before.description).toBe("Tomorrow's weather");
    expect(after.description).toBe("Forecast for any day");
    expect(after.inputSchema.properties.day).toEqual({ type: "string" });
    expect(screen.getByText(/The tools changed since an admin approved them/)).toBeTruthy();
  });

  it("approves the tools as shown, sending their hash", async () => {
    const server = pinnedAndDrifted();
    const { api, user } = showServer(server, {
      routes: {
        [`PUT /mcp/servers/${server.id}/tools/pin`]: () => ({ body: { ...server, drifted: false } }),
      },
    });
    await user.click(await screen.findByRole("button", { name: "Approve current tools" }));

    expect(await screen.findByText("Approved 1 tool: the gateway serves only these")).toBeTruthy();
    expect(api.writes().map((r) => [r.method, r.path, r.body])).toEqual([
      ["PUT", `/mcp/servers/${server.id}/tools/pin`, { toolsHash: HASH }],
    ]);
  });

  it("tells the admin to review again when the tools changed since the page showed them", async () => {
    const server = pinnedAndDrifted();
    const { api, user } = showServer(server, {
      routes: {
        [`PUT /mcp/servers/${server.id}/tools/pin`]: () => ({
          status: 412,
          body: { status: 412, code: "PRECONDITION_FAILED", detail: "The server's tools changed" },
        }),
      },
    });
    await user.click(await screen.findByRole("button", { name: "Approve current tools" }));

    expect(
      await screen.findByText("The tools changed since you looked: review and approve again"),
    ).toBeTruthy();
    // The new tools and the change that brought them are fetched again, to be reviewed.
    await waitFor(() =>
      expect(api.requests.filter((r) => r.path === `/mcp/servers/${server.id}/drift`).length).toBe(2),
    );
  });

  it("unpins, and says what that means", async () => {
    const server = { ...pinnedAndDrifted(), drifted: false };
    const { api, user } = showServer(server, {
      routes: {
        [`DELETE /mcp/servers/${server.id}/tools/pin`]: () => ({ body: { ...server, pinned: false } }),
      },
    });
    expect(await screen.findByText(/the tools match the approved set/)).toBeTruthy();
    // Already approved and unchanged: nothing to approve.
    expect(screen.queryByRole("button", { name: "Approve current tools" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Unpin" }));

    expect(
      await screen.findByText("Unpinned: the gateway serves whatever tools the server offers"),
    ).toBeTruthy();
    expect(api.writes().map((r) => [r.method, r.path])).toEqual([
      ["DELETE", `/mcp/servers/${server.id}/tools/pin`],
    ]);
  });

  it("offers no approval before a check has listed the tools", async () => {
    showServer(serverFixture({ toolsHash: null }));

    expect(await screen.findByText(/Approving them needs a check that lists them first/)).toBeTruthy();
    await screen.findByRole("button", { name: "Check now" });
    expect(screen.queryByRole("button", { name: "Approve current tools" })).toBeNull();
  });

  it("shows a member the approval state and the changes, but no approve or unpin", async () => {
    const { api } = showServer(pinnedAndDrifted(), { role: "member", drift: [driftEntry()] });

    await screen.findByRole("list", { name: "Tool change timeline" });
    // The role is known by now: the buttons are missing because of it, not because it is loading.
    await waitFor(() =>
      expect(api.requests.some((r) => r.path === "/api/auth/organization/get-active-member")).toBe(true),
    );
    await screen.findByText("No keys yet");
    expect(screen.getByText(/The tools changed since an admin approved them/)).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Approve current tools" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Unpin" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Check now" })).toBeNull();
  });
});

describe("a server that needs configuration", () => {
  it("says which required header has no value, and that it is neither checked nor served", async () => {
    showServer(
      serverFixture({
        needsConfiguration: true,
        nextCheckAt: null,
        registryName: "com.acme/weather",
        releaseVersion: "1.2.0",
        declaredHeaders: [
          { name: "X-Api-Key", description: "Your key", isRequired: true, isSecret: true, isSet: false },
          { name: "X-Region", description: null, isRequired: false, isSecret: false, isSet: false },
        ],
      }),
    );
    const banner = await found("div[data-needs-configuration]");
    expect(banner.textContent).toContain("X-Api-Key has no value yet");
    expect(banner.textContent).not.toContain("X-Region");
    expect(banner.textContent).toContain("the gateway does not serve it");
    expect(screen.getByText(/never \(needs configuration\)/)).toBeTruthy();
    expect(screen.getByText(/com\.acme\/weather/).textContent).toContain("version 1.2.0");
  });
});
