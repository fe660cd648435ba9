import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMcpServer, startMcpServer } from "../apps/server/src/demo/mcp-servers";
import { accessibilityProblems, launchChromium, PASSWORD, startSwitchboard } from "./support";

/** The JSON-RPC message of an answer, whether it came as JSON or as one SSE event. */
async function message(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return JSON.parse(text);
  const data = text.split("\n").find((l) => l.startsWith("data: ") && l.length > 6);
  return JSON.parse(data?.slice(6) ?? "null");
}

describe("connecting an MCP client through the gateway, from the dashboard", () => {
  let server: Awaited<ReturnType<typeof startSwitchboard>>["server"];
  let base: string;
  let browser: Browser;
  let page: Page;
  let mcp: RunningMcpServer;
  let snippets: Record<"claude" | "vscode" | "cursor" | "curl", string>;
  let key: string;
  const problems: string[] = [];

  beforeAll(async () => {
    ({ server, base } = await startSwitchboard());
    mcp = await startMcpServer({
      name: "weather",
      tools: [
        { name: "forecast", description: "Tomorrow's weather" },
        { name: "alerts", description: "Storm warnings" },
      ],
    });
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: "light",
    });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(m.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await mcp?.close().catch(() => {});
    await server?.stop();
  });

  it("shows a server's gateway URL on its page", async () => {
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
    await page.locator("code", { hasText: "alerts" }).waitFor();

    const url = `${base}/gateway/acme-labs/weather/mcp`;
    await expect.poll(() => page.getByTestId("gateway-url").textContent()).toBe(url);
    await page.getByRole("button", { name: "Copy gateway URL" }).click();
    await page.getByText("Copied the gateway URL").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
  });

  it("creates a key limited to one tool, and shows the client set-ups with the key filled in, once", async () => {
    await page.getByRole("button", { name: "Create key" }).click();
    const form = page.getByRole("dialog", { name: "Create an API key" });
    await form.getByLabel("Name", { exact: true }).fill("claude-code");
    await form.getByLabel("Only some tools").check();
    await form
      .getByRole("group", { name: "Tools this key may list and call" })
      .getByLabel("forecast")
      .check();
    await form.getByRole("button", { name: "Create", exact: true }).click();

    const shown = page.getByRole("dialog", { name: "Your new API key" });
    await expect.poll(() => shown.getByTestId("new-key").textContent()).toMatch(/^mcp_[A-Za-z0-9_-]{60}$/);
    key = (await shown.getByTestId("new-key").textContent()) ?? "";
    snippets = {
      claude: (await shown.getByTestId("snippet-claude").textContent()) ?? "",
      vscode: (await shown.getByTestId("snippet-vscode").textContent()) ?? "",
      cursor: (await shown.getByTestId("snippet-cursor").textContent()) ?? "",
      curl: (await shown.getByTestId("snippet-curl").textContent()) ?? "",
    };
    const url = `${base}/gateway/acme-labs/weather/mcp`;
    expect(snippets.claude).toBe(
      `claude mcp add --transport http weather ${url} --header "Authorization: Bearer ${key}"`,
    );
    expect(JSON.parse(snippets.vscode).servers.weather).toEqual({
      type: "http",
      url,
      headers: { Authorization: `Bearer ${key}` },
    });
    expect(JSON.parse(snippets.cursor).mcpServers.weather.headers.Authorization).toBe(`Bearer ${key}`);
    expect(snippets.curl).toContain(key);

    await shown.getByRole("button", { name: "Copy the Claude Code set-up" }).click();
    await page.getByText("Copied the Claude Code set-up").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(snippets.claude);

    expect(await accessibilityProblems(page, "client set-ups")).toEqual([]);

    await shown.getByRole("button", { name: "I have stored it" }).click();
    await page.locator('[data-key="claude-code"]').waitFor();
    expect(await page.locator("body").textContent()).not.toContain(key);
  });

  it("the curl and Claude Code set-ups work as written: initialize, then only the allowed tool", async () => {
    // The curl set-up, as a shell would run it: its URL, headers and body.
    const curlUrl = /curl -s '([^']+)'/.exec(snippets.curl)?.[1] ?? "";
    const headers = Object.fromEntries(
      [...snippets.curl.matchAll(/-H '([^:]+): ([^']+)'/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    const body = /-d '([^']+)'/.exec(snippets.curl)?.[1] ?? "";
    const init = await fetch(curlUrl, { method: "POST", headers, body });
    expect(init.status).toBe(200);
    expect(await message(init)).toMatchObject({ id: 1, result: { serverInfo: { name: "weather" } } });
    const session = init.headers.get("mcp-session-id") ?? "";
    expect(session).not.toBe("");

    // Claude Code's: the same URL and Authorization header.
    const [, claudeUrl, authorization] =
      /--transport http weather (\S+) --header "Authorization: ([^"]+)"/.exec(snippets.claude) ?? [];
    expect(claudeUrl).toBe(curlUrl);
    const session2025 = {
      authorization: authorization ?? "",
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": session,
      "mcp-protocol-version": "2025-11-25",
    };
    const rpc = (body: Record<string, unknown>) =>
      fetch(claudeUrl ?? "", {
        method: "POST",
        headers: session2025,
        body: JSON.stringify({ jsonrpc: "2.0", ...body }),
      });
    expect((await rpc({ method: "notifications/initialized" })).status).toBe(202);
    const tools = await message(await rpc({ id: 2, method: "tools/list" }));
    expect((tools.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(["forecast"]);
    const refused = await message(await rpc({ id: 3, method: "tools/call", params: { name: "alerts" } }));
    expect(refused).toMatchObject({
      id: 3,
      error: { message: "Tool alerts is not allowed for this API key" },
    });
    const called = await message(
      await rpc({ id: 4, method: "tools/call", params: { name: "forecast", arguments: { text: "sunny" } } }),
    );
    expect(called).toMatchObject({ id: 4, result: { content: [{ type: "text", text: "sunny" }] } });
  });

  it("left no errors in the page", () => {
    expect(problems, problems.join("\n")).toEqual([]);
  });
});
