import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMcpServer, startMcpServer } from "../apps/server/src/demo/mcp-servers";
import { launchChromium, PASSWORD, startSwitchboard } from "./support";

/** A management API call made by the page itself, so with its session cookie and Origin. */
const call = (page: Page, method: string, path: string, body?: unknown) =>
  page.evaluate(
    async ({ method, path, body }) => {
      const res = await fetch(path, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? null : JSON.stringify(body),
      });
      return { status: res.status, body: res.status === 204 ? null : await res.json() };
    },
    { method, path, body },
  );

/** Whether an element is what a person sees and points at, at its centre: on top, nothing over it. */
const onTop = (element: Locator) =>
  element.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return box.width > 0 && box.height > 0 && hit !== null && el.contains(hit);
  });

describe("a dashboard that can be trusted: sorting, concurrent edits, messages over dialogs", () => {
  let server: Awaited<ReturnType<typeof startSwitchboard>>["server"];
  let base: string;
  let browser: Browser;
  let page: Page;
  let mcp: RunningMcpServer;
  const problems: string[] = [];
  /** What the live events socket brought the page. */
  const events: string[] = [];

  beforeAll(async () => {
    ({ server, base } = await startSwitchboard());
    mcp = await startMcpServer({
      name: "weather",
      tools: [{ name: "forecast", description: "Tomorrow's weather" }],
    });
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: "light",
    });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("websocket", (ws) => ws.on("framereceived", (f) => events.push(String(f.payload))));
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(m.text());
    });
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        console.error(`CSP ${e.violatedDirective} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
  });
  afterAll(async () => {
    await browser?.close();
    await mcp?.close().catch(() => {});
    await server?.stop();
  });

  it("signs up, creates an organization and registers three servers", async () => {
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

    await page.getByRole("link", { name: "Register server" }).click();
    await page.getByLabel("Name", { exact: true }).fill("weather");
    await page.getByLabel("URL", { exact: true }).fill(mcp.url);
    await page.getByRole("button", { name: "Register server" }).click();
    await page.locator('[data-status="healthy"]').first().waitFor();
    // Registered after weather, so that their names and their updates sort differently.
    for (const name of ["alpha", "mango"]) {
      expect((await call(page, "POST", "/mcp/servers", { name, url: mcp.url })).status).toBe(201);
    }
  });

  it("sorts the servers by a column header, by click and by keyboard, shows the order and keeps it in the URL", async () => {
    await page.goto(`${base}/`);
    await page.locator('[data-server="mango"]').waitFor();
    const order = () =>
      page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-server")));
    const ariaSort = (name: string) =>
      page.getByRole("columnheader", { name, exact: true }).getAttribute("aria-sort");
    const sortInUrl = () => new URL(page.url()).searchParams.get("sort");

    expect(await order()).toEqual(["alpha", "mango", "weather"]);
    expect(await ariaSort("Name")).toBe("ascending");
    expect(await ariaSort("Updated")).toBe("none");
    expect(await ariaSort("Transport")).toBeNull();

    await page.getByRole("button", { name: "Name", exact: true }).click();
    await expect.poll(order).toEqual(["weather", "mango", "alpha"]);
    expect(sortInUrl()).toBe("-name");
    expect(await ariaSort("Name")).toBe("descending");

    await page.getByRole("button", { name: "Updated", exact: true }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(order).toEqual(["weather", "alpha", "mango"]);
    expect(sortInUrl()).toBe("updatedAt");
    expect(await ariaSort("Updated")).toBe("ascending");
    expect(await ariaSort("Name")).toBe("none");

    await page.keyboard.press("Space");
    await expect.poll(order).toEqual(["mango", "alpha", "weather"]);
    expect(sortInUrl()).toBe("-updatedAt");

    await page.reload();
    await page.locator('[data-server="mango"]').waitFor();
    expect(await order()).toEqual(["mango", "alpha", "weather"]);
    expect(await ariaSort("Updated")).toBe("descending");
  });

  it("on a save that crossed a teammate's change, names what they changed, and overwrites only when asked", async () => {
    const { items } = (await call(page, "GET", "/mcp/servers?q=weather")).body;
    const { id, version } = items[0];
    await page.goto(`${base}/servers/${id}/edit`);
    await page.getByLabel("Display name").fill("Weather (mine)");
    // A teammate changes the description; the live update reaches the open form before the save.
    const teammate = await call(page, "PATCH", `/mcp/servers/${id}`, {
      description: "Changed by a teammate",
    });
    expect(teammate.body.version).toBe(version + 1);
    await expect.poll(() => events.some((e) => e.includes("Changed by a teammate"))).toBe(true);
    await page.getByRole("button", { name: "Save changes" }).click();

    const panel = page.getByRole("alert", { name: "Someone changed this server since you opened it" });
    await panel.waitFor();
    expect(await panel.locator("[data-field]").evaluateAll((rows) => rows.map((r) => r.textContent))).toEqual(
      ["Description(empty)Changed by a teammate"],
    );
    expect((await call(page, "GET", `/mcp/servers/${id}`)).body.displayName).toBe("weather");

    await panel.getByRole("button", { name: "Overwrite with mine" }).click();
    await page.getByText("Saved Weather (mine)").waitFor();
    expect((await call(page, "GET", `/mcp/servers/${id}`)).body).toMatchObject({
      displayName: "Weather (mine)",
      description: "",
      version: version + 2,
    });
  });

  it("on a save that crossed a teammate's change, reloads their version into the form to start again", async () => {
    const { items } = (await call(page, "GET", "/mcp/servers?q=weather")).body;
    const { id, version } = items[0];
    await page.goto(`${base}/servers/${id}/edit`);
    await page.getByLabel("Display name").fill("Mine again");
    await call(page, "PATCH", `/mcp/servers/${id}`, { displayName: "Teammate's weather", tags: ["shared"] });
    await expect.poll(() => events.some((e) => e.includes("Teammate's weather"))).toBe(true);
    await page.getByRole("button", { name: "Save changes" }).click();

    const panel = page.getByRole("alert", { name: "Someone changed this server since you opened it" });
    await panel.waitFor();
    expect(await panel.locator("[data-field]").evaluateAll((rows) => rows.map((r) => r.textContent))).toEqual(
      ["Display nameWeather (mine)Teammate's weather", "Tags(empty)shared"],
    );
    await panel.getByRole("button", { name: "Reload their version" }).click();
    await panel.waitFor({ state: "detached" });
    expect(await page.getByLabel("Display name").inputValue()).toBe("Teammate's weather");
    expect(await page.getByLabel("Tags").inputValue()).toBe("shared");

    await page.getByLabel("Description (Markdown)").fill("Kept their name");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Saved Teammate's weather").waitFor();
    expect((await call(page, "GET", `/mcp/servers/${id}`)).body).toMatchObject({
      displayName: "Teammate's weather",
      tags: ["shared"],
      description: "Kept their name",
      version: version + 2,
    });
  });

  it("shows the messages raised in a dialog above its backdrop, where they can be read", async () => {
    const { items } = (await call(page, "GET", "/mcp/servers?q=mango")).body;
    await page.goto(`${base}/servers/${items[0].id}`);
    await page.getByRole("button", { name: "Create key" }).click();
    const form = page.getByRole("dialog", { name: "Create an API key" });
    await form.getByLabel("Name", { exact: true }).fill("ci-deploy");
    await form.getByLabel("Expires (optional)").fill("2020-01-01T00:00");
    await form.getByRole("button", { name: "Create", exact: true }).click();
    const past = page.locator("[data-toast]", { hasText: "A key cannot expire in the past" });
    await past.waitFor();
    expect(await past.isVisible()).toBe(true);
    expect(await onTop(past)).toBe(true);

    await form.getByLabel("Expires (optional)").fill("");
    await form.getByRole("button", { name: "Create", exact: true }).click();
    const shown = page.getByRole("dialog", { name: "Your new API key" });
    await shown.getByRole("button", { name: "Copy the key" }).click();
    for (const text of ["Created key ci-deploy", "Copied the key"]) {
      const message = page.locator("[data-toast]", { hasText: text });
      await message.waitFor();
      expect(await message.isVisible(), text).toBe(true);
      expect(await onTop(message), text).toBe(true);
    }
    await shown.getByRole("button", { name: "I have stored it" }).click();
    await page.locator('[data-key="ci-deploy"]').waitFor();
  });

  it("left no errors in the page, and nothing the Content-Security-Policy refused", () => {
    expect(problems, problems.join("\n")).toEqual([]);
  });
});
