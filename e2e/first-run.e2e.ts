import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../apps/server/src/config";
import { startServer } from "../apps/server/src/server";
import { freePort, launchChromium, PASSWORD } from "./support";

/** Switchboard as a first run has it: no ALLOW_PRIVATE_TARGETS, and BASE_URL only if given. */
async function firstRun(port: number, env: Record<string, string> = {}) {
  return startServer(
    loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-e2e-")),
      PORT: String(port),
      HOST: "127.0.0.1",
      METRICS_PORT: "0",
      SCHEDULER: "off",
      LOG_LEVEL: "silent",
      ...env,
    }),
  );
}

async function signUp(page: Page, base: string, email: string) {
  await page.goto(`${base}/sign-up`);
  await page.getByLabel("Name").fill("Ada First");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
}

describe("a first run opened at 127.0.0.1", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  async function newPage() {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  describe("with BASE_URL unset", () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    let base: string;
    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      server = await firstRun(port);
    });
    afterAll(() => server?.stop());

    it("signs up, and says at the URL field that a server on 127.0.0.1 needs ALLOW_PRIVATE_TARGETS=true", async () => {
      const page = await newPage();
      await signUp(page, base, "ada@example.com");
      await page.getByRole("heading", { name: "Create an organization" }).waitFor();
      expect(await page.title()).toBe("Create an organization · Switchboard");
      await page.getByLabel("Name").fill("First Light");
      await page.getByRole("button", { name: "Create organization" }).click();
      await page.getByText("No MCP servers yet").waitFor();

      await page.getByRole("link", { name: "Register server" }).click();
      await page.getByLabel("Name", { exact: true }).fill("local");
      await page.getByLabel("URL", { exact: true }).fill("http://127.0.0.1:9/mcp");
      const urlError = page.locator("#url-error");

      // Refused before anything connects, whether tested or registered.
      await page.getByRole("button", { name: "Test connection" }).click();
      await expect
        .poll(() => urlError.textContent())
        .toMatch(/private addresses need ALLOW_PRIVATE_TARGETS=true/);
      await page.getByRole("button", { name: "Register server" }).click();
      await expect
        .poll(() => urlError.textContent())
        .toMatch(/^127\.0\.0\.1 is a private, .*: private addresses need ALLOW_PRIVATE_TARGETS=true/);
      expect(page.url()).toBe(`${base}/servers/new`);
    });
  });

  describe("with BASE_URL set to localhost", () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      server = await firstRun(port, { BASE_URL: `http://localhost:${port}` });
    });
    afterAll(() => server?.stop());

    it("refuses the sign-up with a message that says which address to open, or to set BASE_URL", async () => {
      const page = await newPage();
      await signUp(page, `http://127.0.0.1:${port}`, "grace@example.com");
      const alert = page.locator("form [role=alert]");
      await alert.waitFor();
      expect(await alert.textContent()).toBe(
        `http://127.0.0.1:${port} is not a trusted origin: Switchboard expects http://localhost:${port}. Open it there, or set BASE_URL to the address you use in the browser and restart`,
      );
      expect(page.url()).toBe(`http://127.0.0.1:${port}/sign-up`);
    });
  });
});
