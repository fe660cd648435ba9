import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../apps/server/src/config";
import { startServer } from "../apps/server/src/server";
import { accessibilityProblems, freePort, launchChromium, PASSWORD } from "./support";

/*
 * Import and export in the dashboard, in Chromium against a real Switchboard. The imported
 * servers point at a closed port on loopback, and the scheduler is off: nothing is probed.
 */

const documents = [
  {
    $schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
    name: "com.acme/crm",
    title: "CRM",
    description: "Customer records, read and written.",
    version: "2.0.0",
    remotes: [
      {
        type: "streamable-http",
        url: "http://127.0.0.1:9/crm/mcp",
        headers: [{ name: "X-Api-Key", description: "Your CRM key", isRequired: true, isSecret: true }],
      },
    ],
  },
  {
    name: "com.acme/files",
    description: "Files over SSE.",
    version: "1.0.0",
    remotes: [{ type: "sse", url: "http://127.0.0.1:9/files/sse" }],
  },
  {
    name: "io.modelcontextprotocol/filesystem",
    description: "Local filesystem access.",
    version: "1.0.2",
    packages: [
      {
        registryType: "npm",
        identifier: "@modelcontextprotocol/server-filesystem",
        transport: { type: "stdio" },
      },
    ],
  },
];

describe("import and export in Chromium", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let base: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-e2e-registry-")),
      PORT: String(port),
      HOST: "127.0.0.1",
      BASE_URL: base,
      ALLOW_PRIVATE_TARGETS: "true",
      SCHEDULER: "off",
      LOG_LEVEL: "warn",
      METRICS_PORT: "0",
    });
    server = await startServer(config);
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 860 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(m.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("signs up and creates an organization", async () => {
    await page.goto(`${base}/`);
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Name").fill("Ida Importer");
    await page.getByLabel("Email").fill("ida@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Create an organization" }).waitFor();
    await page.getByLabel("Name").fill("Acme Registry");
    await page.getByRole("button", { name: "Create organization" }).click();
    await page.getByText("No MCP servers yet").waitFor();
  });

  it("previews an import with a result per document, then imports on confirmation", async () => {
    await page.getByRole("link", { name: "Import" }).click();
    await page.getByRole("heading", { name: "Import servers" }).waitFor();
    await page.getByLabel("server.json").fill(JSON.stringify(documents, null, 2));
    await page.getByRole("button", { name: "Preview" }).click();
    const preview = page.getByRole("region", { name: "Preview (nothing written yet)" });
    await preview.waitFor();
    expect(await preview.locator("[data-counts]").textContent()).toContain(
      "2 created · 0 updated · 0 unchanged · 1 skipped",
    );
    expect(await preview.locator('tr[data-result="skipped"]').textContent()).toContain("npm (stdio)");
    expect(await preview.locator('tr[data-result="created"]').first().textContent()).toContain(
      "needs configuration",
    );

    expect(await accessibilityProblems(page, "import preview")).toEqual([]);

    await page.getByRole("button", { name: "Confirm import" }).click();
    const done = page.getByRole("region", { name: "Imported" });
    await done.waitFor();
    await page.getByText(/Imported: 2 created/).waitFor();
    await done.getByRole("link", { name: "crm" }).click();
    await page.getByRole("heading", { name: "CRM" }).waitFor();
    await page.locator("div[data-needs-configuration]").getByText("X-Api-Key").waitFor();
  });

  it("lists the imported servers, the one missing its key as needing configuration", async () => {
    await page.getByRole("link", { name: "Servers" }).click();
    await page.locator('[data-server="crm"] [data-needs-configuration]').waitFor();
    expect(await page.locator('[data-server="files"] [data-needs-configuration]').count()).toBe(0);
  });

  it("downloads every server as server.json", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("servers.json");
    const path = await download.path();
    const docs = JSON.parse(readFileSync(path, "utf8")) as { name: string; remotes: unknown[] }[];
    expect(docs.map((d) => d.name)).toEqual(["com.acme/crm", "com.acme/files"]);
    expect(docs[0]?.remotes).toEqual([
      {
        type: "streamable-http",
        url: "http://127.0.0.1:9/crm/mcp",
        headers: [{ name: "X-Api-Key", description: "Your CRM key", isRequired: true, isSecret: true }],
      },
    ]);
    await page.getByText("Exported 2 servers as server.json").waitFor();
    expect(problems).toEqual([]);
  });
});
