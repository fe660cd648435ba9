import type { Server } from "@switchboard/shared";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { fakeApi, renderPage, serverFixture, serverPageRoutes } from "../../test/harness";
import { clientSetUps, gatewayUrl } from "./connect-snippets";
import { ServerDetailPage } from "./server-detail";

const KEY = `mcp_${"k".repeat(60)}`;
const URL_HTTP = "https://switchboard.test/gateway/acme/weather/mcp";

const setUp = (id: string, transport: "streamable-http" | "sse" = "streamable-http", url = URL_HTTP) =>
  clientSetUps({ name: "weather", url, transport, apiKey: KEY }).find((s) => s.id === id)?.text ?? "";

describe("gatewayUrl", () => {
  it("puts the organization's slug and the server's name under /gateway, with the transport's endpoint", () => {
    expect(gatewayUrl("https://switchboard.test", "acme", "weather", "streamable-http")).toBe(URL_HTTP);
    expect(gatewayUrl("https://switchboard.test", "acme", "tides", "sse")).toBe(
      "https://switchboard.test/gateway/acme/tides/sse",
    );
  });
});

describe("clientSetUps", () => {
  it("gives Claude Code's command with the URL and the key as a header", () => {
    expect(setUp("claude")).toBe(
      `claude mcp add --transport http weather ${URL_HTTP} --header "Authorization: Bearer ${KEY}"`,
    );
    expect(setUp("claude", "sse")).toContain("--transport sse weather");
  });

  it("gives VS Code's and Cursor's mcp.json entries, which parse as JSON", () => {
    expect(JSON.parse(setUp("vscode"))).toEqual({
      servers: { weather: { type: "http", url: URL_HTTP, headers: { Authorization: `Bearer ${KEY}` } } },
    });
    expect(JSON.parse(setUp("vscode", "sse")).servers.weather.type).toBe("sse");
    expect(JSON.parse(setUp("cursor"))).toEqual({
      mcpServers: { weather: { url: URL_HTTP, headers: { Authorization: `Bearer ${KEY}` } } },
    });
  });

  it("gives a curl initialize for a streamable-HTTP server, and a stream to open for an SSE one", () => {
    const curl = setUp("curl");
    expect(curl).toContain(`curl -s '${URL_HTTP}'`);
    expect(curl).toContain(`-H 'Authorization: Bearer ${KEY}'`);
    expect(curl).toContain("-H 'accept: application/json, text/event-stream'");
    const body = /-d '(.*)'$/.exec(curl)?.[1] ?? "";
    expect(JSON.parse(body)).toMatchObject({ jsonrpc: "2.0", method: "initialize" });
    expect(setUp("curl", "sse", "https://switchboard.test/gateway/acme/tides/sse")).toContain(
      "curl -N 'https://switchboard.test/gateway/acme/tides/sse'",
    );
  });
});

function showServer(server: Server) {
  fakeApi(serverPageRoutes(server));
  const user = userEvent.setup();
  renderPage(<ServerDetailPage id={server.id} live={false} />, { path: `/servers/${server.id}` });
  return user;
}

describe("a server's page", () => {
  it("shows the server's gateway URL in the active organization, and copies it", async () => {
    const user = showServer(serverFixture());
    const url = `${window.location.origin}/gateway/acme/weather/mcp`;
    expect((await screen.findByTestId("gateway-url")).textContent).toBe(url);
    await user.click(screen.getByRole("button", { name: "Copy gateway URL" }));
    expect(await navigator.clipboard.readText()).toBe(url);
    expect(await screen.findByText("Copied the gateway URL")).toBeTruthy();
  });

  it("shows an SSE server's /sse address", async () => {
    showServer(serverFixture({ name: "tides", transport: "sse" }));
    expect((await screen.findByTestId("gateway-url")).textContent).toBe(
      `${window.location.origin}/gateway/acme/tides/sse`,
    );
  });

  it("says so when the URL could not be copied", async () => {
    const user = showServer(serverFixture());
    await screen.findByTestId("gateway-url");
    vi.spyOn(navigator.clipboard, "writeText").mockRejectedValue(new Error("denied"));
    await user.click(screen.getByRole("button", { name: "Copy gateway URL" }));
    const alert = await screen.findByRole("alert");
    expect(within(alert).getByText(/Could not copy the gateway URL/)).toBeTruthy();
  });
});
