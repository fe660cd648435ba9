import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../apps/server/src/db/client";
import { type RunningMcpServer, startMcpServer } from "../apps/server/src/demo/mcp-servers";
import { type RunningModernServer, startModernMcpServer } from "../apps/server/src/demo/modern-servers";
import { type HealthRecord, recordHealth } from "../apps/server/src/modules/health/repo";
import { accessibilityProblems, freePort, launchChromium, PASSWORD, startSwitchboard } from "./support";

const SHOTS = join(import.meta.dirname, "../docs/screenshots");

type Kind = "up" | "slow" | "down" | "oauth" | "off";

/** A fleet as a team might run it: mostly up, a few slow, a few down, some behind OAuth, two switched off. */
const FLEET: [name: string, displayName: string, kind: Kind][] = [
  ["payments", "Payments", "up"],
  ["search", "Search", "up"],
  ["crm", "CRM", "up"],
  ["calendar", "Calendar", "up"],
  ["docs", "Docs", "up"],
  ["tickets", "Tickets", "up"],
  ["billing", "Billing", "up"],
  ["inventory", "Inventory", "up"],
  ["maps", "Maps", "up"],
  ["translate", "Translate", "up"],
  ["weather", "Weather", "up"],
  ["tides", "Tides", "up"],
  ["reports", "Reports", "slow"],
  ["warehouse", "Warehouse", "slow"],
  ["legacy-erp", "Legacy ERP", "down"],
  ["fax-gateway", "Fax gateway", "down"],
  ["vault", "Vault", "oauth"],
  ["github", "GitHub", "oauth"],
  ["sandbox", "Sandbox", "off"],
  ["staging-crm", "Staging CRM", "off"],
];

const TOOLS = [
  "forecast",
  "hourly",
  "alerts",
  "radar",
  "uv_index",
  "air_quality",
  "pollen",
  "sunrise",
  "marine",
  "ski_report",
  "history",
  "climate_normals",
  "geocode",
].map((name) => ({ name, description: `The ${name.replace("_", " ")} for a place` }));

const HOUR = 3_600_000;
const SEED_STEP = 10 * 60_000;

/**
 * A week of history, one check every 10 minutes, ending a few minutes ago: the live checks that
 * follow add today's. What each kind of server went through, so the charts and uptimes have a
 * shape: daily latency waves, a short outage yesterday, a server down for the last 3 hours.
 */
function seededCheck(
  kind: Kind,
  index: number,
  at: number,
  now: number,
): Pick<HealthRecord, "status" | "latencyMs" | "error"> {
  const wave = Math.round(
    90 + 40 * Math.sin((at / HOUR / 24) * 2 * Math.PI + index) + ((at / SEED_STEP) % 7) * 6,
  );
  const ago = now - at;
  if (kind === "down" && ago <= 3 * HOUR)
    return { status: "unhealthy", latencyMs: 0, error: "connection_refused" };
  if (kind === "oauth") return { status: "auth_required", latencyMs: wave, error: null };
  if (kind === "slow") return { status: "degraded", latencyMs: 2200 + wave * 4, error: "slow" };
  // Everyone's bad hour, yesterday afternoon; one in three servers felt it.
  if (index % 3 === 0 && ago >= 26 * HOUR && ago < 27 * HOUR)
    return { status: "unhealthy", latencyMs: 0, error: "timeout" };
  return { status: "healthy", latencyMs: wave, error: null };
}

describe("the fleet view in Chromium", () => {
  let server: Awaited<ReturnType<typeof startSwitchboard>>["server"];
  let base: string;
  let browser: Browser;
  let page: Page;
  let weather: RunningMcpServer;
  let slow: RunningMcpServer;
  let tides: RunningModernServer;
  let vault: RunningModernServer;
  let closedPort: number;
  const ids: Record<string, string> = {};
  const problems: string[] = [];
  const accessibility: string[] = [];

  const shoot = async (name: string) => {
    accessibility.push(
      ...(await accessibilityProblems(page, name, async (theme) => {
        await page.screenshot({ path: join(SHOTS, `${name}-${theme}.png`), fullPage: true });
      })),
    );
  };

  /** An API call with the signed-in page's session. */
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await page.request.fetch(`${base}${path}`, {
      method,
      headers: { origin: base, "content-type": "application/json" },
      ...(body === undefined ? {} : { data: body }),
    });
    return { status: res.status(), body: res.status() === 204 ? null : await res.json() };
  };

  const row = (name: string) => page.locator(`[data-server="${name}"]`);

  beforeAll(async () => {
    closedPort = await freePort();
    ({ server, base } = await startSwitchboard({
      PROBE_TIMEOUT_MS: "8000",
      PROBE_DEGRADED_MS: "1500",
      // The test drives a few hundred requests from one session.
      RATE_LIMIT_ADMIN: "5000",
    }));
    weather = await startMcpServer({ name: "weather", tools: TOOLS });
    slow = await startMcpServer({ name: "reports", behaviour: "slow", delayMs: 2500 });
    tides = await startModernMcpServer({ name: "tides", prompts: ["harbour-brief"] });
    vault = await startModernMcpServer({
      name: "vault",
      oauth: {
        token: "vault-token",
        scopes: ["vault.read"],
        authorizationServers: ["https://auth.example.com"],
      },
    });
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      colorScheme: "light",
    });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("console", (m) => {
      if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) =>
        console.error(`CSP ${e.violatedDirective} at ${e.sourceFile}:${e.lineNumber}`),
      );
    });
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of [weather, slow, tides, vault]) await s?.close().catch(() => {});
    await server?.stop();
  });

  it("registers a fleet of twenty servers with a week of history behind them", async () => {
    await page.goto(`${base}/sign-up`);
    await page.getByLabel("Name").fill("Lin Operator");
    await page.getByLabel("Email").fill("lin@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Create an organization" }).waitFor();
    await page.getByLabel("Name").fill("Northwind");
    await page.getByRole("button", { name: "Create organization" }).click();
    await page.getByText("No MCP servers yet").waitFor();

    const urls: Record<Kind, string> = {
      up: weather.url,
      slow: slow.url,
      down: `http://127.0.0.1:${closedPort}/mcp`,
      oauth: vault.url,
      off: weather.url,
    };
    for (const [name, displayName, kind] of FLEET) {
      const url = name === "tides" ? tides.url : urls[kind];
      const created = await call("POST", "/mcp/servers", {
        name,
        displayName,
        url,
        enabled: kind !== "off",
        checkIntervalSeconds: 60,
        tags: kind === "down" ? ["legacy"] : [],
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids[name] = created.body.id;
    }

    const now = Date.now() - 5 * 60_000;
    const tenantId: string = (await call("GET", "/api/auth/get-session")).body.session.activeOrganizationId;
    const seeded = FLEET.filter(([, , kind]) => kind !== "off");
    for (let at = now - 7 * 24 * HOUR; at <= now; at += SEED_STEP) {
      // Each seeded check found what is stored as it began, so it sets the state even when a live
      // check came in first (a server's first slot may fall before its week is written).
      const last = new Map(
        (
          await queryRows<{ id: string; last_checked_at: Date | string | null }>(
            server.runtime.db,
            sql`SELECT id, last_checked_at FROM mcp_servers WHERE tenant_id = ${tenantId}`,
          )
        ).map((r) => [r.id, r.last_checked_at === null ? null : new Date(r.last_checked_at)]),
      );
      await recordHealth(
        server.runtime.db,
        seeded.map(([name, , kind], index) => ({
          serverId: ids[name] as string,
          tenantId,
          checkedAt: new Date(at),
          seenLastCheckedAt: last.get(ids[name] as string) ?? null,
          ...seededCheck(kind, index, at, now),
          protocolVersion: null,
          era: null,
          toolsCount: null,
          consecutiveFailures: 0,
          // Not due while the week is written: the live checks come after, all at once.
          nextCheckAt: new Date(Date.now() + HOUR),
          learned: null,
          authChallenge: null,
        })),
      );
    }
    // Then each is checked for real, now.
    const check = await call("POST", "/mcp/servers/bulk", {
      action: "check",
      ids: seeded.map(([name]) => ids[name]),
    });
    expect(check.body.ids).toHaveLength(seeded.length);
  });

  it("counts the fleet by health, and a count filters the list until it is pressed again", async () => {
    await page.goto(`${base}/`);
    const chip = (key: string) => page.locator(`[data-count="${key}"]`);
    const count = async (key: string) => Number((await chip(key).textContent())?.split(" ").pop());
    // Twelve answer at once and two slowly; a loaded machine may make a quick one look slow too.
    await expect
      .poll(async () => (await count("healthy")) + (await count("degraded")), {
        timeout: 30_000,
        message: `${await page.locator("[data-count]").allTextContents()}`,
      })
      .toBe(14);
    expect(await count("degraded")).toBeGreaterThanOrEqual(2);
    await expect.poll(() => chip("unhealthy").textContent(), { timeout: 30_000 }).toMatch(/ 2$/);
    await expect.poll(() => chip("auth_required").textContent()).toMatch(/ 2$/);
    expect(await chip("disabled").textContent()).toMatch(/ 2$/);

    await chip("unhealthy").click();
    await expect.poll(() => page.locator("[data-server]").count()).toBe(2);
    expect(await chip("unhealthy").getAttribute("aria-pressed")).toBe("true");
    expect(new URL(page.url()).searchParams.get("status")).toBe("unhealthy");
    await row("legacy-erp").waitFor();
    await row("fax-gateway").waitFor();

    await chip("unhealthy").click();
    await expect.poll(() => page.locator("[data-server]").count()).toBe(FLEET.length);
    expect(await chip("unhealthy").getAttribute("aria-pressed")).toBe("false");
  });

  it("shows each server's uptime over 24 h and 7 d, its latency over the day, and how long it has been down", async () => {
    // Payments (the first, so one in three) went through yesterday's bad hour: 6 of 1,008 checks.
    await expect.poll(() => row("payments").locator('[data-uptime="7d"]').textContent()).toBe("99.4%");
    expect(await row("payments").locator('[data-uptime="24h"]').textContent()).toBe("100%");
    // Down for the last 3 hours of the day: 19 of 144 seeded checks, and the live ones since.
    const down24 = Number.parseFloat(
      (await row("legacy-erp").locator('[data-uptime="24h"]').textContent()) ?? "",
    );
    expect(down24).toBeGreaterThan(80);
    expect(down24).toBeLessThan(90);
    await row("legacy-erp")
      .getByText(/Down for 3 h/)
      .waitFor();
    const spark = row("search").getByRole("img", { name: /Latency over 24 h/ });
    expect(await spark.getAttribute("aria-label")).toMatch(/last \d+ ms/);
    await shoot("fleet");
  });

  it("tags, disables and deletes a selection, each after asking, with one audit entry per server", async () => {
    await page.getByLabel("Select Sandbox").check();
    await page.getByLabel("Select Staging CRM").check();
    const bar = page.getByRole("toolbar", { name: "Bulk actions" });
    await bar.getByText("2 servers selected").waitFor();

    await bar.getByRole("button", { name: "Add tag…" }).click();
    const tags = page.getByRole("dialog", { name: "Add tags to 2 servers" });
    await tags.getByLabel("Tags").fill("Not A Tag!");
    await tags.getByRole("button", { name: "Add to 2 servers" }).click();
    await tags.getByText(/"not a tag!"/).waitFor();
    await tags.getByLabel("Tags").fill("retired");
    await tags.getByRole("button", { name: "Add to 2 servers" }).click();
    await page.getByText("Tagged 2 servers with retired").waitFor();
    await row("sandbox").getByText("retired").waitFor();
    await row("staging-crm").getByText("retired").waitFor();

    await page.getByLabel("Select Sandbox").check();
    await page.getByLabel("Select Staging CRM").check();
    await bar.getByRole("button", { name: "Delete" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete 2 servers?" });
    await confirm.getByRole("button", { name: "Cancel" }).click();
    expect(await row("sandbox").count()).toBe(1);
    await bar.getByRole("button", { name: "Delete" }).click();
    await confirm.getByRole("button", { name: "Delete 2 servers" }).click();
    await page.getByText("Deleted 2 servers").waitFor();
    await expect.poll(() => row("sandbox").count()).toBe(0);
    expect(await row("staging-crm").count()).toBe(0);

    await page.getByLabel("Select Tides").check();
    await bar.getByRole("button", { name: "Disable" }).click();
    await page
      .getByRole("dialog", { name: "Disable 1 server?" })
      .getByRole("button", { name: "Disable 1 server" })
      .click();
    await page.getByText("Disabled 1 server").waitFor();
    await row("tides").locator('[data-status="disabled"]').waitFor();
    await expect.poll(() => page.locator('[data-count="disabled"]').textContent()).toMatch(/ 1$/);

    const audit = await call("GET", "/mcp/audit-logs?action=server.delete");
    expect(audit.body.items.map((e: { targetId: string }) => e.targetId).sort()).toEqual(
      [ids.sandbox, ids["staging-crm"]].sort(),
    );
  });

  it("charts a server's health over the range picked, with failures drawn as failures, and keeps the range in the URL", async () => {
    await page.goto(`${base}/servers/${ids.payments}`);
    const health = page.getByRole("region", { name: "Health" });
    await health.locator("canvas").first().waitFor();
    await expect
      .poll(() => health.getByTestId("health-summary").textContent())
      .toMatch(/^24 h: 100% up, median \d+ ms, 0 failures$/);

    await health.getByText("7 d", { exact: true }).click();
    expect(new URL(page.url()).searchParams.get("range")).toBe("7d");
    await expect
      .poll(() => health.getByTestId("health-summary").textContent())
      .toMatch(/^7 d: 99\.\d% up, median \d+ ms, 6 failures$/);
    await page.reload();
    await expect.poll(() => health.getByTestId("health-summary").textContent()).toMatch(/^7 d: /);

    await health.getByText("1 h", { exact: true }).click();
    await expect.poll(() => health.getByTestId("health-summary").textContent()).toMatch(/^1 h: 100% up/);
  });

  it("lays a server with thirteen tools out so that its health and keys are above the fold", async () => {
    await page.goto(`${base}/servers/${ids.weather}?range=24h`);
    await page.locator("[data-tool]").nth(12).waitFor({ state: "attached" });
    for (const name of ["Health", "API keys"]) {
      const box = await page.getByRole("region", { name }).boundingBox();
      expect(box?.y, name).toBeLessThan(900);
    }
    // Each tool's schema waits folded until asked for.
    expect(await page.locator("[data-tool] details[open]").count()).toBe(0);
    await shoot("server-health");
  });

  it("meets WCAG 2 AA on the fleet and server views, light and dark, desktop and phone", () => {
    expect(accessibility, accessibility.join("\n")).toEqual([]);
  });

  it("ran without a script error or a Content-Security-Policy violation", () => {
    expect(problems, problems.join("\n")).toEqual([]);
  });
});
