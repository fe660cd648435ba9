import type { CreatedApiKey, Server, ToolDefinition } from "@switchboard/shared";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, describe, expect, it } from "vitest";
import {
  fakeApi,
  fieldError,
  type Reply,
  renderPage,
  serverFixture,
  serverPageRoutes,
} from "../../test/harness";
import { ServerDetailPage } from "./server-detail";

const KEY = `mcp_${"Z".repeat(60)}`;

const tool = (name: string): ToolDefinition => ({
  name,
  title: null,
  description: name,
  inputSchema: { type: "object" },
  outputSchema: null,
  annotations: null,
});

const withTools = () =>
  serverFixture({ tools: [tool("forecast"), tool("alerts")], toolsCount: 2, toolsHash: "a".repeat(64) });

const createdKey = (overrides: Partial<CreatedApiKey> = {}): CreatedApiKey => ({
  id: "0b0c0d0e-0000-4000-8000-000000000002",
  serverId: serverFixture().id,
  name: "ci-deploy",
  prefix: KEY.slice(0, 12),
  createdBy: "user-1",
  createdAt: "2026-03-01T10:00:00.000Z",
  expiresAt: null,
  lastUsedAt: null,
  revokedAt: null,
  tools: null,
  key: KEY,
  ...overrides,
});

/** The server's page, its key creation answered by `create`; opens the "Create key" dialog. */
async function openCreate(server: Server, create: () => Reply = () => ({ status: 201, body: createdKey() })) {
  const base = `/mcp/servers/${server.id}`;
  const api = fakeApi({
    ...serverPageRoutes(server),
    [`POST ${base}/keys`]: create,
  });
  const user = userEvent.setup();
  renderPage(<ServerDetailPage id={server.id} live={false} />, { path: `/servers/${server.id}` });
  await user.click(await screen.findByRole("button", { name: "Create key" }));
  const dialog = screen.getByRole("dialog", { name: "Create an API key" });
  const keyPosts = () => api.writes().filter((r) => r.path === `${base}/keys`);
  return { api, user, dialog, keyPosts };
}

// Typing into a dialog in jsdom takes seconds on a busy machine: more than the default 5 s.
describe("creating an API key", { timeout: 20_000 }, () => {
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

  it("limits the key to the tools ticked, then shows the key once with every client set-up filled in", async () => {
    const { user, dialog, keyPosts } = await openCreate(withTools(), () => ({
      status: 201,
      body: createdKey({ tools: ["forecast"] }),
    }));
    await user.type(within(dialog).getByLabelText("Name"), "ci-deploy");
    await user.click(within(dialog).getByLabelText("Only some tools"));
    const tools = within(dialog).getByRole("group", { name: "Tools this key may list and call" });
    await user.click(within(tools).getByLabelText("forecast"));
    await user.click(within(dialog).getByRole("button", { name: "Create" }));

    await waitFor(() => expect(keyPosts()).toHaveLength(1));
    expect(keyPosts()[0]?.body).toEqual({ name: "ci-deploy", tools: ["forecast"] });
    const shown = await screen.findByRole("dialog", { name: "Your new API key" });
    expect(within(shown).getByTestId("new-key").textContent).toBe(KEY);
    expect(await screen.findByText("Created key ci-deploy")).toBeTruthy();
    const url = `${window.location.origin}/gateway/acme/weather/mcp`;
    expect(within(shown).getByTestId("snippet-claude").textContent).toBe(
      `claude mcp add --transport http weather ${url} --header "Authorization: Bearer ${KEY}"`,
    );
    for (const id of ["vscode", "cursor", "curl"]) {
      expect(within(shown).getByTestId(`snippet-${id}`).textContent).toContain(KEY);
      expect(within(shown).getByTestId(`snippet-${id}`).textContent).toContain(url);
    }
    await user.click(within(shown).getByRole("button", { name: "Copy the VS Code set-up" }));
    expect(JSON.parse(await navigator.clipboard.readText()).servers.weather.headers.Authorization).toBe(
      `Bearer ${KEY}`,
    );

    await user.click(within(shown).getByRole("button", { name: "I have stored it" }));
    // Once: the key and the set-ups holding it are gone from the page.
    await waitFor(() => expect(document.body.textContent).not.toContain(KEY));
  });

  it("sends a list for a server of one tool too", async () => {
    const { user, dialog, keyPosts } = await openCreate(
      serverFixture({ tools: [tool("forecast")], toolsCount: 1 }),
    );
    await user.type(within(dialog).getByLabelText("Name"), "one");
    await user.click(within(dialog).getByLabelText("Only some tools"));
    await user.click(within(dialog).getByLabelText("forecast"));
    await user.click(within(dialog).getByRole("button", { name: "Create" }));

    await waitFor(() => expect(keyPosts()).toHaveLength(1));
    expect(keyPosts()[0]?.body).toEqual({ name: "one", tools: ["forecast"] });
  });

  it("sends no tool list for a key of every tool, and the expiry as an instant", async () => {
    const { user, dialog, keyPosts } = await openCreate(withTools());
    await user.type(within(dialog).getByLabelText("Name"), "ci-deploy");
    await user.type(within(dialog).getByLabelText("Expires (optional)"), "2030-01-02T03:04");
    await user.click(within(dialog).getByRole("button", { name: "Create" }));

    await waitFor(() => expect(keyPosts()).toHaveLength(1));
    expect(keyPosts()[0]?.body).toEqual({
      name: "ci-deploy",
      expiresAt: new Date("2030-01-02T03:04").toISOString(),
    });
  });

  it("asks for at least one tool when the key is to be limited, and for a name, before sending anything", async () => {
    const { user, dialog, keyPosts } = await openCreate(withTools());
    await user.click(within(dialog).getByLabelText("Only some tools"));
    await user.click(within(dialog).getByRole("button", { name: "Create" }));

    expect(await within(dialog).findByText(/name at least one tool/)).toBeTruthy();
    expect(fieldError("key-name")).toBe("must not be empty");
    expect(keyPosts()).toHaveLength(0);
  });

  it("shows the server's refusal at the field and in a toast, and keeps the form open", async () => {
    const { user, dialog } = await openCreate(withTools(), () => ({
      status: 400,
      body: {
        status: 400,
        detail: "Invalid body.name",
        issues: [{ path: "body.name", message: "is taken by another key" }],
      },
    }));
    await user.type(within(dialog).getByLabelText("Name"), "ci-deploy");
    await user.click(within(dialog).getByRole("button", { name: "Create" }));

    await waitFor(() => expect(fieldError("key-name")).toBe("is taken by another key"));
    const toast = await screen.findByText("Invalid body.name");
    expect(toast.closest("[data-toast]")?.getAttribute("data-toast")).toBe("error");
    expect(screen.queryByRole("dialog", { name: "Your new API key" })).toBeNull();
  });

  it("cannot limit a key before a check has listed the server's tools", async () => {
    const { dialog } = await openCreate(serverFixture());
    expect((within(dialog).getByLabelText("Only some tools") as HTMLInputElement).disabled).toBe(true);
    expect(within(dialog).getByText(/needs a check that lists the server's tools first/)).toBeTruthy();
  });
});
