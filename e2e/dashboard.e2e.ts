import { join } from "node:path";
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from "@modelcontextprotocol/client";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMcpServer, startMcpServer } from "../apps/server/src/demo/mcp-servers";
import { type RunningModernServer, startModernMcpServer } from "../apps/server/src/demo/modern-servers";
import { accessibilityProblems, launchChromium, PASSWORD, startSwitchboard } from "./support";

const SHOTS = join(import.meta.dirname, "../docs/screenshots");

describe("the dashboard in Chromium", () => {
  let server: Awaited<ReturnType<typeof startSwitchboard>>["server"];
  let base: string;
  let browser: Browser;
  let owner: BrowserContext;
  let page: Page;
  let mcp: RunningMcpServer;
  let tides: RunningModernServer;
  let vault: RunningModernServer;
  const problems: string[] = [];

  const watch = (p: Page) => {
    p.on("console", (m) => {
      const text = m.text();
      if (m.type() !== "error" || /Failed to load resource/.test(text)) return;
      // The hostile description is parsed by DOMPurify in an inert document; the CSP reports
      // (and blocks) its inline handlers there. Anything else is a problem.
      if (/^CSP script-src-attr .* url=\/servers\/[0-9a-f-]+$/.test(text)) return;
      if (/^Executing inline event handler/.test(text)) return;
      problems.push(text);
    });
    p.on("pageerror", (e) => problems.push(e.message));
    void p.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        console.error(
          `CSP ${e.violatedDirective} at ${e.sourceFile}:${e.lineNumber} url=${location.pathname}`,
        );
      });
    });
  };
  const accessibility: string[] = [];
  /** Saves the view in both themes, and checks it at desktop and phone width (see accessibilityProblems). */
  const shoot = async (p: Page, name: string) => {
    accessibility.push(
      ...(await accessibilityProblems(p, name, async (theme) => {
        await p.screenshot({ path: join(SHOTS, `${name}-${theme}.png`), fullPage: true });
      })),
    );
  };

  beforeAll(async () => {
    ({ server, base } = await startSwitchboard({ EVENTS_HEARTBEAT_SECONDS: "2" }));
    mcp = await startMcpServer({
      name: "weather",
      tools: [{ name: "forecast", description: "Tomorrow's weather" }],
    });
    tides = await startModernMcpServer({
      name: "tides",
      tools: [
        { name: "tide_times", description: "High and low tides of a port" },
        { name: "tide_height", description: "The water height now" },
      ],
      prompts: ["harbour-brief"],
      resources: [{ uri: "tides://ports", name: "ports" }],
    });
    vault = await startModernMcpServer({
      name: "vault",
      oauth: {
        token: "vault-token",
        scopes: ["vault.read", "vault.write"],
        authorizationServers: ["https://auth.example.com"],
      },
    });
    browser = await launchChromium();
    owner = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: "light" });
    page = await owner.newPage();
    page.setDefaultTimeout(15_000);
    watch(page);
  });
  afterAll(async () => {
    await browser?.close();
    await mcp?.close().catch(() => {});
    await tides?.close().catch(() => {});
    await vault?.close().catch(() => {});
    await server?.stop();
  });

  it("signs up, creates an organization, and lands on an empty servers page", async () => {
    await page.goto(`${base}/`);
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByRole("button", { name: "Create account" }).waitFor();
    accessibility.push(...(await accessibilityProblems(page, "sign-up")));
    await page.getByLabel("Name").fill("Ada Owner");
    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Create an organization" }).waitFor();
    accessibility.push(...(await accessibilityProblems(page, "create-organization")));
    await page.getByLabel("Name").fill("Acme Labs");
    await expect.poll(() => page.getByLabel("Slug").inputValue()).toBe("acme-labs");
    await page.getByRole("button", { name: "Create organization" }).click();
    await page.getByText("No MCP servers yet").waitFor();
    await page.locator('[data-live="live"]').waitFor();
    accessibility.push(...(await accessibilityProblems(page, "servers-empty")));
  });

  it("registers a real MCP server after testing the connection, and shows it turn healthy without reload", async () => {
    await page.getByRole("link", { name: "Register server" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Bad Name");
    await page.getByLabel("URL", { exact: true }).fill("not a url");
    await page.getByRole("button", { name: "Register server" }).click();
    await page.getByText(/must be a slug/).waitFor();

    await page.getByLabel("Name", { exact: true }).fill("weather");
    await page.getByLabel("Display name").fill("Weather");
    await page.getByLabel("URL", { exact: true }).fill(mcp.url);
    await page
      .getByLabel("Description (Markdown)")
      .fill(
        'Forecasts for **every** city.\n\n<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>[x](javascript:window.__xss=3)',
      );
    await page.getByLabel("Tags").fill("prod, weather");
    await page.getByLabel("Check every (seconds)").fill("10");
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByText(/Connected: 1 tools/).waitFor();
    await shoot(page, "register");
    await page.getByRole("button", { name: "Register server" }).click();

    await page.getByRole("heading", { name: "Weather" }).waitFor();
    await page.locator('[data-status="healthy"]').first().waitFor({ timeout: 15_000 });
    await page.locator("code", { hasText: "forecast" }).waitFor();
    await expect.poll(() => page.locator(".markdown strong").textContent()).toBe("every");
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator(".markdown img[onerror], .markdown script").count()).toBe(0);
  });

  it("creates a key shown once, and revokes it after confirming", async () => {
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByLabel("Name", { exact: true }).last().fill("ci-deploy");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await expect.poll(() => page.getByTestId("new-key").textContent()).toMatch(/^mcp_[A-Za-z0-9_-]{60}$/);
    const key = await page.getByTestId("new-key").textContent();
    await page.getByText(/only time Switchboard shows it/).waitFor();
    await page.getByRole("button", { name: "I have stored it" }).click();
    const row = page.locator('[data-key="ci-deploy"]');
    await row.waitFor();
    expect(await row.textContent()).not.toContain(key ?? "");
    await shoot(page, "server-detail");
    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("button", { name: "Revoke key" }).click();
    await row.getByText(/revoked/).waitFor();
  });

  it("shows the server turn unhealthy live when its MCP server stops", async () => {
    await page.getByRole("link", { name: "Servers" }).click();
    const row = page.locator('[data-server="weather"]');
    await row.locator('[data-status="healthy"]').waitFor();
    await shoot(page, "servers");
    await mcp.close();
    await row.locator('[data-status="unhealthy"]').waitFor({ timeout: 25_000 });
    await row.getByText(/connection_refused/).waitFor();
  });

  it("keeps the table's view in the URL", async () => {
    await page.getByLabel("Health", { exact: true }).selectOption("unhealthy");
    await expect.poll(() => new URL(page.url()).searchParams.get("status")).toBe("unhealthy");
    await page.reload();
    await page.locator('[data-server="weather"]').waitFor();
    expect(await page.getByLabel("Health", { exact: true }).inputValue()).toBe("unhealthy");
    await page.getByLabel("Health", { exact: true }).selectOption("healthy");
    await page.getByText("No server matches these filters").waitFor();
    await page.getByLabel("Health", { exact: true }).selectOption("");
  });

  it("opens a server's page with the list's copy, before the server's own request answers", async () => {
    const detail = /\/mcp\/servers\/[0-9a-f-]{36}$/;
    let answer = () => {};
    const held = new Promise<void>((resolve) => {
      answer = resolve;
    });
    await page.route(detail, async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.locator('[data-server="weather"] a').first().click();
      await page.getByRole("heading", { name: "Weather" }).waitFor({ timeout: 5_000 });
    } finally {
      answer();
      await page.unrouteAll({ behavior: "wait" });
    }
    await page.getByRole("link", { name: "Servers" }).click();
    await page.locator('[data-server="weather"]').waitFor();
  });

  it("lists those actions in the audit log", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    for (const action of [
      "server.create",
      "server.probe",
      "key.create",
      "key.revoke",
      "organization.create",
    ]) {
      await page.locator(`[data-action="${action}"]`).first().waitFor();
    }
    await page.getByLabel("Action").selectOption("key.revoke");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.locator("[data-action]").count()).toBe(1);
    await page.locator('[data-action="key.revoke"] summary').click();
    await page.getByText("revokedAt").waitFor();
    await shoot(page, "audit");
  });

  it("shows a member no write controls", async () => {
    await page.getByRole("link", { name: "Members" }).click();
    await page.getByLabel("Email").fill("bob@example.com");
    await page.getByRole("button", { name: "Send invitation" }).click();
    await page.getByText("bob@example.com · member").waitFor();
    await shoot(page, "members");
    const link = (await page.locator('[data-invitation-link="bob@example.com"]').textContent()) ?? "";

    const memberContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await memberContext.newPage();
    watch(phone);
    await phone.goto(`${base}/sign-up`);
    await phone.getByLabel("Name").fill("Bob Member");
    await phone.getByLabel("Email").fill("bob@example.com");
    await phone.getByLabel("Password").fill(PASSWORD);
    await phone.getByRole("button", { name: "Create account" }).click();
    // The invitation link the admin hands over (or the mail carries) is what lets Bob in.
    await phone.getByRole("heading", { name: "Create an organization" }).waitFor();
    await phone.goto(link);
    await phone.getByRole("button", { name: "Accept" }).waitFor();
    accessibility.push(...(await accessibilityProblems(phone, "invitation")));
    await phone.getByRole("button", { name: "Accept" }).click();
    await phone.locator('[data-server="weather"]').waitFor();
    await phone.screenshot({ path: join(SHOTS, "servers-phone-member.png"), fullPage: true });
    expect(await phone.getByRole("link", { name: "Register server" }).count()).toBe(0);
    expect(await phone.getByRole("link", { name: "Audit log" }).count()).toBe(0);
    await phone.locator('[data-server="weather"] a').first().click();
    await phone.getByRole("heading", { name: "Weather" }).waitFor();
    for (const name of ["Check now", "Delete", "Create key", "Disable"]) {
      expect(await phone.getByRole("button", { name }).count(), name).toBe(0);
    }

    // Promoted to admin by the owner, the same user sees the write controls after a reload.
    await page.reload();
    await page.getByLabel("Role of bob@example.com").selectOption("admin");
    await page
      .getByRole("dialog", { name: "Change this member's role?" })
      .getByRole("button", { name: "Make admin" })
      .click();
    await page.getByText("Bob Member is now admin").waitFor();
    await phone.reload();
    await phone.getByRole("button", { name: "Check now" }).waitFor();
    await memberContext.close();
  });

  it("switches between organizations", async () => {
    await page.getByLabel("Organization").selectOption("__new");
    await page.getByRole("heading", { name: "Create an organization" }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Second Org");
    await page.getByRole("button", { name: "Create organization" }).click();
    await page.getByText("No MCP servers yet").waitFor();
    const acme = await page
      .getByLabel("Organization")
      .locator("option", { hasText: "Acme Labs" })
      .getAttribute("value");
    await page.getByLabel("Organization").selectOption(acme ?? "");
    await page.locator('[data-server="weather"]').waitFor();
  });

  /** Registers a server through the form and waits for its page. */
  const register = async (name: string, displayName: string, url: string) => {
    await page.getByRole("link", { name: "Servers" }).click();
    await page.getByRole("link", { name: "Register server" }).click();
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("Display name").fill(displayName);
    await page.getByLabel("URL", { exact: true }).fill(url);
    await page.getByRole("button", { name: "Register server" }).click();
    await page.getByRole("heading", { name: displayName }).waitFor();
  };

  it("shows a changed tool set as a drift entry, and the marker goes once the admin approves it", async () => {
    await register("tides", "Tides", tides.url);
    await page.locator('[data-status="healthy"]').first().waitFor();
    await expect.poll(() => page.getByTestId("protocol").textContent()).toBe("2026-07-28 (modern)");
    await page.getByRole("button", { name: "Check now" }).click();
    await page.getByText(/^Check: Healthy/).waitFor();
    await page.locator('[data-tool="tide_times"]').waitFor();
    await page.getByText("Prompts (1)").waitFor();
    await page.getByRole("button", { name: "Approve current tools" }).click();
    await page.getByText("Approved 2 tools: the gateway serves only these").waitFor();
    await page.getByText(/the tools match the approved set/).waitFor();

    tides.setTools([
      { name: "tide_times", description: "High and low tides of any port, for any day" },
      { name: "tide_height", description: "The water height now" },
      { name: "storm_warning", description: "Warnings in force" },
    ]);
    await page.getByRole("button", { name: "Check now" }).click();
    const changed = page.locator('[data-changed-tool="tide_times"]');
    await changed.waitFor();
    await page.getByRole("list", { name: "Tool change timeline" }).getByText("storm_warning").waitFor();
    await page.getByText(/The tools changed since an admin approved them/).waitFor();
    await changed.locator("summary").click();
    await changed.getByText(/for any day/).waitFor();
    await page.setViewportSize({ width: 1440, height: 900 });
    await shoot(page, "server-tools");
    await page.setViewportSize({ width: 1280, height: 860 });

    await page.getByRole("link", { name: "Servers" }).click();
    const row = page.locator('[data-server="tides"]');
    await row.getByText("tools changed").waitFor();
    await shoot(page, "servers-drifted");
    await page.getByLabel("Tools", { exact: true }).selectOption("true");
    await expect.poll(() => page.locator("[data-server]").count()).toBe(1);
    await page.getByLabel("Tools", { exact: true }).selectOption("");

    await row.getByRole("link", { name: "Tides" }).click();
    await page.getByRole("button", { name: "Approve current tools" }).click();
    await page.getByText("Approved 3 tools: the gateway serves only these").waitFor();
    await page.getByRole("link", { name: "Servers" }).click();
    await row.waitFor();
    await expect.poll(() => row.getByText("tools changed").count()).toBe(0);
  });

  it("charts a server's gateway traffic and shows each key's calls, under the dashboard's CSP", async () => {
    await page.locator('[data-server="tides"]').getByRole("link", { name: "Tides" }).click();
    await page.getByRole("heading", { name: "Tides" }).waitFor();
    const panel = page.getByRole("region", { name: "Gateway traffic" });
    await panel.getByText("No gateway calls in the last 24 hours").waitFor();
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByLabel("Name", { exact: true }).last().fill("agent");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await expect.poll(() => page.getByTestId("new-key").textContent()).toMatch(/^mcp_/);
    const key = (await page.getByTestId("new-key").textContent()) ?? "";
    await page.getByRole("button", { name: "I have stored it" }).click();

    const client = new ModernClient({ name: "e2e", version: "1" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(
      new ModernTransport(new URL(`${base}/gateway/acme-labs/tides/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    for (let i = 0; i < 3; i++) await client.listTools();
    await client.close();
    await server.runtime.usage.flush();

    await page.reload();
    // uPlot draws on a canvas and styles its elements through CSSOM: nothing the CSP refuses.
    await panel.locator("[data-testid=usage-chart] canvas").first().waitFor();
    await expect
      .poll(() => panel.getByTestId("usage-totals").textContent())
      .toMatch(/^[1-9]\d* calls · 0 errors/);
    await expect
      .poll(() => page.locator('[data-key="agent"] [data-testid=key-calls]').textContent())
      .toMatch(/ · [1-9]\d* calls? in 24 h$/);
    await page.setViewportSize({ width: 1440, height: 900 });
    await shoot(page, "server-traffic");
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.getByRole("link", { name: "Servers" }).click();
  });

  it("shows an OAuth-protected server as sign-in required, with what it asks for, until a token is stored", async () => {
    await register("vault", "Vault", vault.url);
    await page.locator('[data-status="auth_required"]').first().waitFor();
    const note = page.getByRole("region", { name: "Sign-in required" });
    await note.getByText("https://auth.example.com").waitFor();
    await note.getByText("vault.read").waitFor();
    await note.getByText("vault.write").waitFor();
    await shoot(page, "server-auth-required");

    await note.getByRole("link", { name: "Add the header under Edit" }).click();
    await page.getByRole("button", { name: "Add header" }).click();
    await page.getByLabel("Header 1 name").fill("Authorization");
    await page.getByLabel("Header 1 value").fill("Bearer vault-token");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: "Vault" }).waitFor();
    await page.getByRole("button", { name: "Check now" }).click();
    await page.locator('[data-status="healthy"]').first().waitFor();
    expect(await page.getByRole("region", { name: "Sign-in required" }).count()).toBe(0);
  });

  it("says when live updates drop, polls meanwhile, and reconnects", async () => {
    await page.locator('[data-live="live"]').waitFor();
    await owner.setOffline(true);
    for (const client of server.app.websocketServer.clients) client.terminate();
    await page.locator('[data-live="polling"]').waitFor();
    await page.getByText("Reconnecting").waitFor();
    await owner.setOffline(false);
    await page.locator('[data-live="live"]').waitFor({ timeout: 20_000 });
  });

  it("goes to sign-in when the session is signed out elsewhere", async () => {
    await page.locator('[data-live="live"]').waitFor({ timeout: 20_000 });
    const cookie = (await owner.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const out = await fetch(`${base}/api/auth/sign-out`, {
      method: "POST",
      headers: { cookie, origin: base, "content-type": "application/json" },
      body: "{}",
    });
    expect(out.status).toBe(200);
    await page.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: 10_000 });
    accessibility.push(...(await accessibilityProblems(page, "sign-in")));
  });

  it("meets WCAG 2 AA, contrast included, on every view it saved, in light and dark, at desktop and phone width", () => {
    expect(accessibility, accessibility.join("\n")).toEqual([]);
  });

  it("ran without a script error or a Content-Security-Policy violation", () => {
    expect(problems, problems.join("\n")).toEqual([]);
  });
});
