import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { fakeApi, renderPage } from "../../test/harness";
import { ImportPage } from "./import-page";

const doc = {
  name: "com.example/weather",
  description: "Weather.",
  version: "1.0.0",
  remotes: [{ type: "streamable-http", url: "https://{tenant}.example.com/mcp" }],
};

const SETTINGS = {
  namespace: "acme",
  namespaceIsDefault: true,
  catalogPublic: false,
  catalogUrl: "http://localhost:3000/registry/acme",
};

const result = (dryRun: boolean) => ({
  dryRun,
  counts: { created: 1, updated: 0, unchanged: 0, skipped: 0 },
  items: [
    {
      index: 0,
      registryName: "com.example/weather",
      result: "created",
      serverId: dryRun ? null : "4f7c0a52-8c1e-4d2a-9a55-0a3b1c2d3e4f",
      name: "weather",
      reason: null,
      missingVariables: [],
      needsConfiguration: true,
    },
  ],
});

function showImport(routes: Parameters<typeof fakeApi>[0] = {}) {
  const api = fakeApi({
    "GET /mcp/registry/settings": () => ({ body: SETTINGS }),
    "POST /mcp/servers/import": (req) => ({ body: result(req.search.get("dryRun") === "true") }),
    ...routes,
  });
  renderPage(<ImportPage />, { path: "/servers/import" });
  return { api, user: userEvent.setup() };
}

describe("ImportPage", () => {
  it("previews the pasted documents with their variables, then imports exactly what it previewed", async () => {
    const { api, user } = showImport();
    const text = await screen.findByLabelText("server.json");
    fireEvent.change(text, { target: { value: JSON.stringify(doc) } });
    fireEvent.change(screen.getByLabelText(/Variables/), { target: { value: "tenant=acme" } });
    expect((screen.getByRole("button", { name: "Confirm import" }) as HTMLButtonElement).disabled).toBe(true);
    await user.click(screen.getByRole("button", { name: "Preview" }));

    expect(await screen.findByText("Preview (nothing written yet)")).toBeTruthy();
    expect(screen.getByText("needs configuration")).toBeTruthy();
    const [preview] = api.writes();
    expect(preview?.search.get("dryRun")).toBe("true");
    expect(preview?.body).toEqual({ source: doc, variables: { tenant: "acme" } });

    await user.click(screen.getByRole("button", { name: "Confirm import" }));
    expect(await screen.findByText("Imported")).toBeTruthy();
    const [, confirmed] = api.writes();
    expect(confirmed?.search.get("dryRun")).toBeNull();
    expect(confirmed?.body).toEqual(preview?.body);
    expect(screen.getByRole("link", { name: "weather" }).getAttribute("href")).toBe(
      "/servers/4f7c0a52-8c1e-4d2a-9a55-0a3b1c2d3e4f",
    );
  });

  it("shows where a document fails the schema, and says so before sending text that is not JSON", async () => {
    const { api, user } = showImport({
      "POST /mcp/servers/import": () => ({
        status: 400,
        body: {
          detail: "Not a valid server.json: body.description",
          issues: [{ path: "body.description", message: "must be at most 100 characters" }],
        },
      }),
    });
    const text = await screen.findByLabelText("server.json");
    fireEvent.change(text, { target: { value: "{ not json" } });
    await user.click(screen.getByRole("button", { name: "Preview" }));
    expect((await screen.findByRole("alert")).textContent).toContain("not JSON");
    expect(api.writes()).toHaveLength(0);

    fireEvent.change(text, { target: { value: JSON.stringify({ ...doc, description: "x".repeat(101) }) } });
    await user.click(screen.getByRole("button", { name: "Preview" }));
    await waitFor(() => expect(screen.getByLabelText("Problems").textContent).toContain("body.description"));
    expect((screen.getByRole("button", { name: "Confirm import" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("imports from a registry URL with a search and a limit", async () => {
    const { api, user } = showImport({
      "POST /mcp/servers/import-from-registry": (req) => ({
        body: { ...result(req.search.get("dryRun") === "true"), pages: 2, truncated: true },
      }),
    });
    await user.click(await screen.findByLabelText("From a registry URL"));
    await user.type(screen.getByLabelText("Registry URL"), "https://registry.example.com");
    await user.type(screen.getByLabelText("Search (optional)"), "weather");
    await user.click(screen.getByRole("button", { name: "Preview" }));
    expect(await screen.findByText(/2 pages read · the registry has more/)).toBeTruthy();
    expect(api.writes()[0]?.body).toEqual({
      url: "https://registry.example.com",
      limit: 100,
      search: "weather",
    });
  });

  it("shows the catalog's URL for VS Code's gallery setting", async () => {
    showImport();
    const url = await waitFor(() => {
      const el = document.querySelector("[data-catalog-url]");
      if (!el) throw new Error("no catalog URL yet");
      return el;
    });
    expect(url.textContent).toBe(SETTINGS.catalogUrl);
    expect(screen.getByText(/chat\.mcp\.gallery\.serviceUrl/)).toBeTruthy();
  });
});
