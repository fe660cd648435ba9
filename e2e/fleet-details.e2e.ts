import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMcpServer, startMcpServer } from "../apps/server/src/demo/mcp-servers";
import { freePort, launchChromium, PASSWORD, startSwitchboard } from "./support";

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

describe("the fleet's details in Chromium: states, reasons, history, keys, members, invitations", () => {
  let server: Awaited<ReturnType<typeof startSwitchboard>>["server"];
  let base: string;
  let browser: Browser;
  let page: Page;
  let mcp: RunningMcpServer;
  let closedPort: number;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const ids: Record<string, string> = {};

  const watch = (p: Page) => {
    p.setDefaultTimeout(15_000);
    p.on("pageerror", (e) => problems.push(e.message));
    p.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(m.text());
    });
    void p.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        console.error(`CSP ${e.violatedDirective} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
  };
  const newPage = async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: "light",
    });
    contexts.push(context);
    const p = await context.newPage();
    watch(p);
    return p;
  };
  const signUp = async (p: Page, name: string, email: string) => {
    await p.goto(`${base}/sign-up`);
    await p.getByLabel("Name").fill(name);
    await p.getByLabel("Email").fill(email);
    await p.getByLabel("Password").fill(PASSWORD);
    await p.getByRole("button", { name: "Create account" }).click();
    await p.getByRole("heading", { name: "Create an organization" }).waitFor();
  };
  /** Invites an address from the Members page and returns the link to hand over. */
  const invite = async (email: string) => {
    await page.goto(`${base}/members`);
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send invitation" }).click();
    const link = page.locator(`[data-invitation-link="${email}"]`);
    await link.waitFor();
    return (await link.textContent()) ?? "";
  };

  beforeAll(async () => {
    closedPort = await freePort();
    ({ server, base } = await startSwitchboard());
    mcp = await startMcpServer({ name: "weather", tools: [{ name: "forecast", description: "Tomorrow" }] });
    browser = await launchChromium();
    page = await newPage();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await mcp?.close().catch(() => {});
    await server?.stop();
  });

  it("signs up, creates an organization and registers a fleet: one up, one refused, a page of disabled ones", async () => {
    await signUp(page, "Grace Owner", "grace@example.com");
    await page.getByLabel("Name").fill("Acme Labs");
    await page.getByRole("button", { name: "Create organization" }).click();
    await page.getByText("No MCP servers yet").waitFor();

    for (const [name, url] of [
      ["weather", mcp.url],
      ["broken", `http://127.0.0.1:${closedPort}/mcp`],
    ] as const) {
      const created = await call(page, "POST", "/mcp/servers", { name, url });
      expect(created.status).toBe(201);
      ids[name] = created.body.id;
    }
    // 26 disabled servers: more than the smallest page, so the disabled ones span two pages.
    for (let i = 1; i <= 26; i++) {
      const name = `spare-${String(i).padStart(2, "0")}`;
      expect((await call(page, "POST", "/mcp/servers", { name, url: mcp.url, enabled: false })).status).toBe(
        201,
      );
    }
    // Checked now rather than at the scheduler's pace, so each has a state to show.
    expect((await call(page, "POST", `/mcp/servers/${ids.weather}/check`)).body.check.status).toBe("healthy");
    expect((await call(page, "POST", `/mcp/servers/${ids.broken}/check`)).body.check.status).toBe(
      "unhealthy",
    );
    await page.goto(`${base}/`);
    await page.locator('[data-server="weather"] [data-status="healthy"]').waitFor();
  });

  it("shows a key's first use on the server's page without a reload", async () => {
    const created = await call(page, "POST", `/mcp/servers/${ids.weather}/keys`, { name: "ci-bot" });
    expect(created.status).toBe(201);
    await page.goto(`${base}/servers/${ids.weather}`);
    const row = page.locator('[data-key="ci-bot"]');
    await row.getByText(/last used never/).waitFor();

    const whoami = await fetch(`${base}/mcp/whoami`, {
      headers: { authorization: `Bearer ${created.body.key}` },
    });
    expect(whoami.status).toBe(200);

    // Read again within the keys' refresh (15 s), with no reload and no focus change.
    await row.getByText(/last used (now|\d+ seconds? ago)/).waitFor({ timeout: 25_000 });
  });

  it("shows a disabled server as Disabled, never green, with its last health in small print", async () => {
    await page.goto(`${base}/servers/${ids.weather}`);
    await page.locator('[data-status="healthy"]').first().waitFor();
    await page.getByRole("button", { name: "Disable" }).click();
    await page.getByRole("button", { name: "Enable" }).waitFor();

    await page.locator('[data-status="disabled"]').waitFor();
    expect(await page.locator('[data-status="healthy"]').count()).toBe(0);
    await page.getByText(/^last: Healthy/).waitFor();

    await page.goto(`${base}/?q=weather`);
    const row = page.locator('[data-server="weather"]');
    await row.locator('[data-status="disabled"]').waitFor();
    expect(await row.locator('[data-status="healthy"]').count()).toBe(0);
    // Neutral: nothing green about it.
    expect(await row.locator('[data-status="disabled"]').getAttribute("class")).not.toMatch(/emerald|green/);
  });

  it("names a failure reason in plain words with its code beside it", async () => {
    await page.goto(`${base}/?q=broken`);
    const reason = page.locator('[data-server="broken"] [data-reason="connection_refused"]');
    await reason.waitFor();
    expect(await reason.textContent()).toBe(
      "Connection refused: nothing answers at that address (connection_refused)",
    );
  });

  it("undoes a filter and a page change with Back, one step each", async () => {
    await page.goto(`${base}/`);
    await page.locator('[data-server="broken"]').waitFor();
    const enabled = page.getByLabel("Enabled", { exact: true });
    const summary = page.getByText(/servers? · page \d+ of \d+/);
    const pageSize = page.getByLabel("Page size");
    await pageSize.selectOption("25");
    await page.waitForURL(/pageSize=25/);

    await enabled.selectOption("false");
    await page.waitForURL(/enabled=false/);
    await expect.poll(() => summary.textContent()).toMatch(/^27 servers · page 1 of 2/);
    await page.getByRole("button", { name: "Next" }).click();
    await page.waitForURL(/page=2/);
    await expect.poll(() => summary.textContent()).toMatch(/page 2 of 2/);

    await page.goBack();
    await expect.poll(() => new URL(page.url()).search).toBe("?pageSize=25&enabled=false");
    await expect.poll(() => summary.textContent()).toMatch(/^27 servers · page 1 of 2/);
    expect(await enabled.inputValue()).toBe("false");

    await page.goBack();
    await expect.poll(() => new URL(page.url()).search).toBe("?pageSize=25");
    await expect.poll(() => summary.textContent()).toMatch(/^28 servers · page 1 of 2/);
    expect(await enabled.inputValue()).toBe("");

    // A search is one step, however many keystrokes: Back leaves it whole.
    const box = page.getByLabel("Search");
    await box.pressSequentially("spare-2", { delay: 120 });
    await page.waitForURL(/q=spare-2/);
    await expect.poll(() => summary.textContent()).toMatch(/^7 servers/);
    await page.goBack();
    await expect.poll(() => new URL(page.url()).search).toBe("?pageSize=25");
    await expect.poll(() => box.inputValue()).toBe("");
    await expect.poll(() => summary.textContent()).toMatch(/^28 servers/);
  });

  it("asks before changing a role, and the promoted member's view follows at once, without a reload", async () => {
    const link = await invite("bob@example.com");
    const bob = await newPage();
    await signUp(bob, "Bob Member", "bob@example.com");
    await bob.goto(link);
    await bob.getByRole("button", { name: "Accept" }).click();
    await bob.locator('[data-server="broken"]').waitFor();
    expect(await bob.getByRole("link", { name: "Register server" }).count()).toBe(0);

    await page.goto(`${base}/members`);
    const role = page.getByLabel("Role of bob@example.com");
    await role.selectOption("admin");
    const dialog = page.getByRole("dialog", { name: "Change this member's role?" });
    await dialog.getByText("Bob Member becomes admin").waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await role.inputValue()).toBe("member");

    await role.selectOption("admin");
    await dialog.getByRole("button", { name: "Make admin" }).click();
    await page.getByText("Bob Member is now admin").waitFor();
    await expect.poll(() => role.inputValue()).toBe("admin");

    // Bob's open page hears of it on its event socket and reads the session again.
    const started = Date.now();
    await bob.getByRole("link", { name: "Register server" }).waitFor({ timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("withdraws a pending invitation, and the invitee can decline one", async () => {
    await invite("carol@example.com");
    await page.getByRole("button", { name: "Withdraw the invitation to carol@example.com" }).click();
    const withdraw = page.getByRole("dialog", { name: "Withdraw this invitation?" });
    await withdraw.getByText(/The link sent to carol@example.com stops working/).waitFor();
    await withdraw.getByRole("button", { name: "Withdraw invitation" }).click();
    await page.getByText("Invitation to carol@example.com withdrawn: its link no longer works").waitFor();
    await page.locator('[data-invitation-link="carol@example.com"]').waitFor({ state: "detached" });

    const link = await invite("dave@example.com");
    const dave = await newPage();
    await signUp(dave, "Dave Invitee", "dave@example.com");
    await dave.goto(link);
    await dave.getByRole("button", { name: "Decline" }).click();
    const decline = dave.getByRole("dialog", { name: "Decline this invitation?" });
    await decline.getByRole("button", { name: "Decline invitation" }).click();
    await dave.getByText("Invitation declined").waitFor();

    await page.goto(`${base}/members`);
    await page.getByText("Members of Acme Labs").waitFor();
    expect(await page.locator('[data-invitation-link="dave@example.com"]').count()).toBe(0);
  });

  it("ran with no script error and no CSP violation", () => {
    expect(problems).toEqual([]);
  });
});
