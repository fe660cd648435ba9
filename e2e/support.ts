import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Page } from "playwright-core";
import { loadConfig } from "../apps/server/src/config";
import { startServer } from "../apps/server/src/server";

/** Headless Debian Chromium with nothing of its own reaching the network. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The password every browser test signs up with. */
export const PASSWORD = "correct-horse-battery";

/** Debian's Chromium (or CHROMIUM_PATH's), driven by playwright-core. */
export const launchChromium = () =>
  chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });

/** A loopback port nothing listens on now. */
export const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

/**
 * A Switchboard as the browser tests run it: a free loopback port, a data directory of its own,
 * loopback MCP servers allowed, a scheduler that looks for due checks every 200 ms, and no
 * metrics listener. `env` adds settings or overrides these.
 */
export async function startSwitchboard(env: Record<string, string> = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer(
    loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-e2e-")),
      PORT: String(port),
      HOST: "127.0.0.1",
      METRICS_PORT: "0",
      BASE_URL: base,
      ALLOW_PRIVATE_TARGETS: "true",
      SCHEDULER_IDLE_MS: "200",
      PROBE_TIMEOUT_MS: "3000",
      LOG_LEVEL: "warn",
      ...env,
    }),
  );
  return { server, base };
}

/** The phone every page must fit and read well on. */
export const PHONE = { width: 375, height: 812 } as const;

/** Light, then dark: through the dashboard's theme menu where the page has one, else the system setting. */
async function eachTheme(page: Page, fn: (theme: "light" | "dark") => Promise<void>) {
  const menu = (await page.locator("#theme").count()) > 0;
  for (const theme of ["light", "dark"] as const) {
    if (menu) await page.locator("#theme").selectOption(theme);
    else await page.emulateMedia({ colorScheme: theme });
    await fn(theme);
  }
  if (menu) await page.locator("#theme").selectOption("light");
  else await page.emulateMedia({ colorScheme: "light" });
}

/**
 * Turns the page's transitions and animations off, and waits for what was running to end: axe
 * measures contrast with the colours of the moment, and a theme's colours fading in (or a dialog
 * opening) on a busy machine would be caught half-way. Endless animations (a spinner) are not
 * waited for.
 */
async function settled(page: Page) {
  await page.evaluate(() => {
    // A constructed sheet, which the dashboard's Content-Security-Policy (no inline style) allows.
    const still =
      "*, *::before, *::after { transition: none !important; animation-duration: 0s !important; }";
    if (
      !document.adoptedStyleSheets.some((sheet) => sheet.cssRules[0]?.cssText.includes("transition: none"))
    ) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(still);
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    }
    return Promise.all(
      document
        .getAnimations()
        .filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime ?? Number.POSITIVE_INFINITY))
        .map((a) => a.finished.catch(() => undefined)),
    );
  });
}

/**
 * What axe finds against WCAG 2 A and AA (contrast included) on the page as it stands, in light
 * and dark, at the page's own width and at a phone's, where nothing may be wider than the screen.
 * `atOwnWidth` runs in each theme at the page's own width (to save a screenshot, say).
 */
export async function accessibilityProblems(
  page: Page,
  name: string,
  atOwnWidth?: (theme: "light" | "dark") => Promise<void>,
): Promise<string[]> {
  const found: string[] = [];
  const own = page.viewportSize();
  for (const viewport of own ? [own, PHONE] : [PHONE]) {
    await page.setViewportSize(viewport);
    const where = viewport === PHONE ? `${name} at ${PHONE.width}px` : name;
    await eachTheme(page, async (theme) => {
      // Settled first, so that a saved screenshot shows the theme's colours, not a fade between two.
      await settled(page);
      if (viewport === own) await atOwnWidth?.(theme);
      const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
      for (const v of violations) {
        const nodes = v.nodes.map(
          (n) => `${n.target.join(" ")}: ${n.failureSummary?.split("\n").slice(1).join(" ")}`,
        );
        found.push(`${where} (${theme}) ${v.id}: ${v.help}\n    ${nodes.slice(0, 5).join("\n    ")}`);
      }
    });
    if (viewport === PHONE) {
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > PHONE.width) found.push(`${where}: the page is ${width}px wide`);
    }
  }
  if (own) await page.setViewportSize(own);
  return found;
}
