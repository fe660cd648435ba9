import { readFileSync } from "node:fs";
import { AUDIT_EXPORT_COLUMNS } from "@switchboard/shared";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMcpServer, startMcpServer } from "../apps/server/src/demo/mcp-servers";
import { accessibilityProblems, launchChromium, PASSWORD, startSwitchboard } from "./support";

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** CSV as RFC 4180 writes it (CRLF records, quoted fields), as objects keyed by its header. */
function readCsv(text: string): Record<string, string>[] {
  const records: string[][] = [[]];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const record = records.at(-1) as string[];
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else if (!quoted && c === ",") {
      record.push(field);
      field = "";
    } else if (!quoted && c === "\r" && text[i + 1] === "\n") {
      record.push(field);
      field = "";
      records.push([]);
      i++;
    } else field += c;
  }
  const [header = [], ...rows] = records.filter((r) => r.length > 0);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

describe("the audit log, in the browser", () => {
  let server: Awaited<ReturnType<typeof startSwitchboard>>["server"];
  let base: string;
  let browser: Browser;
  let page: Page;
  let mcp: RunningMcpServer;
  let weatherId: string;
  const problems: string[] = [];

  /** A change made with the browser's session, as the dashboard makes it. */
  const call = async (method: "POST" | "DELETE", path: string, data?: object) => {
    const res = await page.request.fetch(`${base}${path}`, {
      method,
      headers: { origin: base },
      ...(data ? { data } : {}),
    });
    expect(res.status(), await res.text()).toBeLessThan(300);
    return res.status() === 204 ? null : res.json();
  };

  beforeAll(async () => {
    ({ server, base } = await startSwitchboard());
    mcp = await startMcpServer({ name: "weather", tools: [{ name: "forecast", description: "Tomorrow" }] });
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: "light",
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(m.text());
    });

    await page.goto(`${base}/`);
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Name").fill("Grace Owner");
    await page.getByLabel("Email").fill("grace@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Create an organization" }).waitFor();
    await page.getByLabel("Name").fill("Acme Labs");
    await page.getByRole("button", { name: "Create organization" }).click();
    await page.getByText("No MCP servers yet").waitFor();

    // A few audited changes: a server kept, one deleted, a key issued and revoked.
    weatherId = (
      await call("POST", "/mcp/servers", { name: "weather", displayName: "Weather", url: mcp.url })
    ).id;
    const maps = await call("POST", "/mcp/servers", {
      name: "maps",
      displayName: "Old Maps",
      url: "http://127.0.0.1:9/mcp",
    });
    const key = await call("POST", `/mcp/servers/${weatherId}/keys`, { name: "deploy key" });
    await call("DELETE", `/mcp/servers/${weatherId}/keys/${key.id}`);
    await call("DELETE", `/mcp/servers/${maps.id}`);
  });
  afterAll(async () => {
    await browser?.close();
    await mcp?.close().catch(() => {});
    await server?.stop();
  });

  it("names who did what to what, and links a server that is still there", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    const created = page.locator('[data-action="server.create"]');
    await expect.poll(() => created.count()).toBe(2);

    const weather = created.filter({ hasText: "Weather" });
    expect(await weather.textContent()).toContain("by Grace Owner (grace@example.com)");
    await weather.getByRole("link", { name: "Weather" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/servers/${weatherId}`);
    await page.goBack();

    const maps = page.locator('[data-action="server.delete"]');
    expect(await maps.textContent()).toContain("Old Maps (deleted)");
    expect(await maps.getByRole("link").count()).toBe(0);
    const revoked = page.locator('[data-action="key.revoke"]');
    expect(await revoked.textContent()).toContain("API key deploy key");
    // What the list shows (a change's recorded fields, folded away, may hold ids).
    // (Chromium's innerText can include a closed <details>' content, so the folded parts are cut out.)
    const shown = await page
      .locator("ol")
      .first()
      .evaluate((list) => {
        const copy = list.cloneNode(true) as HTMLElement;
        for (const part of copy.querySelectorAll("details > :not(summary)")) part.remove();
        return copy.textContent ?? "";
      });
    expect(shown).toContain("Old Maps (deleted)");
    expect(shown).not.toMatch(UUID);
  });

  it("keeps its filters in the URL: a reload shows the same entries, back goes to the previous ones", async () => {
    await page.goto(`${base}/audit`);
    await page.locator("[data-action]").first().waitFor();
    const everything = await page.getByTestId("audit-total").textContent();
    await page.getByLabel("Action").selectOption("server.create");
    await page.getByLabel("Actor").selectOption({ label: "Grace Owner (grace@example.com)" });
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.getByTestId("audit-total").textContent()).toMatch(/^2 entries/);
    const url = new URL(page.url());
    expect(url.searchParams.get("action")).toBe("server.create");
    expect(url.searchParams.get("actorId")).toMatch(/\S/);

    await page.reload();
    await expect.poll(() => page.getByTestId("audit-total").textContent()).toMatch(/^2 entries/);
    expect(await page.getByLabel("Action").inputValue()).toBe("server.create");
    // The actor's email joins the name once the organization's members have loaded.
    await expect
      .poll(() => page.getByLabel("Actor").locator("option:checked").textContent())
      .toBe("Grace Owner (grace@example.com)");
    expect(
      await page.locator("[data-action]").evaluateAll((els) => els.map((e) => e.dataset.action)),
    ).toEqual(["server.create", "server.create"]);

    await page.getByLabel("Action").selectOption("key.revoke");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.getByTestId("audit-total").textContent()).toMatch(/^1 entry ·/);
    await page.goBack();
    await expect.poll(() => page.getByTestId("audit-total").textContent()).toMatch(/^2 entries/);
    expect(await page.getByLabel("Action").inputValue()).toBe("server.create");
    await page.goBack();
    await expect.poll(() => page.getByTestId("audit-total").textContent()).toBe(everything);
  });

  it("downloads the filtered entries as CSV and as JSON lines", async () => {
    await page.goto(`${base}/audit?action=server.create`);
    await expect.poll(() => page.getByTestId("audit-total").textContent()).toMatch(/^2 entries/);

    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export CSV" }).click(),
    ]);
    expect(csv.suggestedFilename()).toMatch(/^switchboard-audit-acme-labs-\d{4}-\d{2}-\d{2}\.csv$/);
    const text = readFileSync(await csv.path(), "utf8");
    expect(text.split("\r\n")[0]).toBe(AUDIT_EXPORT_COLUMNS.join(","));
    const rows = readCsv(text);
    expect(rows.map((r) => [r.action, r.targetName, r.actorName, r.actorEmail])).toEqual([
      ["server.create", "Old Maps", "Grace Owner", "grace@example.com"],
      ["server.create", "Weather", "Grace Owner", "grace@example.com"],
    ]);

    const [jsonl] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export JSON lines" }).click(),
    ]);
    expect(jsonl.suggestedFilename()).toMatch(/\.jsonl$/);
    const lines = readFileSync(await jsonl.path(), "utf8")
      .trimEnd()
      .split("\n");
    expect(lines.map((l) => JSON.parse(l).targetId)).toEqual(rows.map((r) => r.targetId));
  });

  it("meets WCAG 2 A and AA at desktop and phone width, light and dark", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${base}/audit?action=key.revoke`);
    await page.locator('[data-action="key.revoke"] summary').click();
    await page.getByText("revokedAt").waitFor();
    expect(await accessibilityProblems(page, "audit")).toEqual([]);
    expect(problems).toEqual([]);
  });
});
