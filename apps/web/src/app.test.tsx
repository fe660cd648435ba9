import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { Routes } from "./app";
import { nextPage, signInFor } from "./features/session/next-page";
import { fakeApi, renderPage, serverFixture, serverPageRoutes } from "./test/harness";

// The layout's theme module asks the system for its colour scheme when imported; jsdom has no matchMedia.
vi.hoisted(() => {
  window.matchMedia ??= ((media: string) => ({
    matches: false,
    media,
    addEventListener() {},
    removeEventListener() {},
  })) as unknown as typeof window.matchMedia;
});

/** A socket that never opens: these tests are about pages, not live events. */
class QuietSocket {
  close() {}
  addEventListener() {}
}

beforeEach(() => {
  vi.stubGlobal("WebSocket", QuietSocket);
  document.title = "Switchboard";
});

const lastLocation = (history: string[] | undefined) => history?.at(-1);

describe("tab titles", () => {
  it.each([
    ["/", "Servers · Switchboard"],
    ["/audit", "Audit log · Switchboard"],
    ["/members", "Members · Switchboard"],
    ["/servers/new", "Register a server · Switchboard"],
    ["/nowhere", "Page not found · Switchboard"],
  ])("names %s in the tab", async (path, title) => {
    fakeApi();
    renderPage(<Routes />, { path });
    await waitFor(() => expect(document.title).toBe(title));
  });

  it("names a server's page after the server", async () => {
    const server = serverFixture({ displayName: "Weather (prod)" });
    fakeApi(serverPageRoutes(server));
    renderPage(<Routes />, { path: `/servers/${server.id}` });
    await waitFor(() => expect(document.title).toBe("Weather (prod) · Switchboard"));
  });

  it("names the sign-in page", async () => {
    fakeApi({ "GET /api/auth/get-session": () => ({ body: null }) });
    renderPage(<Routes />, { path: "/sign-in" });
    await waitFor(() => expect(document.title).toBe("Sign in · Switchboard"));
  });
});

describe("signing in from a deep link", () => {
  it("returns to the page asked for, query included, once signed in", async () => {
    let signedIn = false;
    const server = serverFixture();
    fakeApi({
      ...serverPageRoutes(server),
      "GET /api/auth/get-session": () =>
        signedIn
          ? {
              body: {
                session: { activeOrganizationId: "org-1" },
                user: { id: "user-1", email: "ada@example.com", name: "Ada" },
              },
            }
          : { body: null },
      "POST /api/auth/sign-in/email": () => {
        signedIn = true;
        return { body: { user: { id: "user-1" } } };
      },
    });
    const { history } = renderPage(<Routes />, { path: `/servers/${server.id}?tab=keys` });
    await screen.findByRole("button", { name: "Sign in" });
    expect(lastLocation(history)).toBe(
      `/sign-in?next=${encodeURIComponent(`/servers/${server.id}?tab=keys`)}`,
    );

    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Email"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "correct-horse-battery");
    await user.click(screen.getByRole("button", { name: "Sign in" }));

    await waitFor(() => expect(lastLocation(history)).toBe(`/servers/${server.id}?tab=keys`));
    expect(await screen.findByRole("heading", { name: server.displayName })).toBeTruthy();
  });

  it("keeps the page asked for when switching to sign-up", async () => {
    fakeApi({ "GET /api/auth/get-session": () => ({ body: null }) });
    renderPage(<Routes />, { path: "/audit" });
    const link = await screen.findByRole("link", { name: "Create an account" });
    expect(link.getAttribute("href")).toBe(`/sign-up?next=${encodeURIComponent("/audit")}`);
  });

  it("goes only to a page of this site", () => {
    expect(nextPage("next=%2Faudit")).toBe("/audit");
    for (const bad of [
      "https://evil.example.com/",
      "//evil.example.com/x",
      "/\\evil.example.com",
      "audit",
      "",
    ])
      expect(nextPage(`next=${encodeURIComponent(bad)}`), bad).toBe("/");
    expect(signInFor("/")).toBe("/sign-in");
  });
});

describe("a server that does not exist", () => {
  it("offers a way back to the servers list beside Try again", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    fakeApi({
      [`GET /mcp/servers/${id}`]: () => ({
        status: 404,
        body: { status: 404, code: "NOT_FOUND", detail: "MCP server not found" },
      }),
    });
    renderPage(<Routes />, { path: `/servers/${id}` });
    await screen.findByText("MCP server not found");
    expect(screen.getByRole("button", { name: "Try again" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Back to servers" }).getAttribute("href")).toBe("/");
  });
});

describe("a member opening a page for owners and admins", () => {
  it("is told why the audit log is not shown, and asks the API for nothing of it", async () => {
    const api = fakeApi({
      "GET /api/auth/organization/get-active-member": () => ({ body: { role: "member" } }),
    });
    const { history } = renderPage(<Routes />, { path: "/audit" });
    expect(await screen.findByText(/Only owners and admins of Acme can open this page/)).toBeTruthy();
    expect(screen.getByText(/your role there is member/)).toBeTruthy();
    expect(screen.getByRole("link", { name: "Back to servers" }).getAttribute("href")).toBe("/");
    expect(lastLocation(history)).toBe("/audit");
    expect(api.requests.some((r) => r.path.startsWith("/mcp/audit-logs"))).toBe(false);
    expect(document.title).toBe("Audit log · Switchboard");
  });
});
