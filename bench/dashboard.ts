import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { seedServers, seedTenant, startBenchApp } from "./lib/app";
import { type BenchDbKind, openBenchDatabase } from "./lib/database";
import { median, quantile, round } from "./lib/stats";

const DIST = join(import.meta.dirname, "../apps/web/dist");
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

export interface DashboardRow {
  measure: string;
  medianMs: number;
  p99Ms: number;
  runs: number;
}

export interface DashboardResult {
  rows: DashboardRow[];
  mainBundleKbGzip: number;
}

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

/**
 * The JavaScript the dashboard loads before its first render, gzipped: the entry script that
 * index.html names and the chunks it preloads (everything the entry imports statically).
 */
export function mainBundleKbGzip(): number {
  const html = readFileSync(join(DIST, "index.html"), "utf8");
  const entry = /<script[^>]+src="\/([^"]+\.js)"/.exec(html)?.[1];
  if (!entry) throw new Error("no build: run `npm run build:web`");
  const preloaded = [...html.matchAll(/<link rel="modulepreload"[^>]+href="\/([^"]+\.js)"/g)].map(
    (m) => m[1] ?? "",
  );
  const bytes = [entry, ...preloaded].reduce(
    (sum, file) => sum + gzipSync(readFileSync(join(DIST, file))).length,
    0,
  );
  return round(bytes / 1024, 1);
}

const row = (measure: string, times: number[]): DashboardRow => ({
  measure,
  medianMs: round(median(times), 1),
  p99Ms: round(quantile(times, 0.99), 1),
  runs: times.length,
});

/**
 * The servers page of a tenant with 10,000 servers in Chromium: first render (a fresh browser
 * profile, then a warm cache) until the first page of rows shows, and navigating to a server's
 * detail and back.
 */
export async function benchDashboard(kind: BenchDbKind, opts: { servers: number; runs: number }) {
  const database = await openBenchDatabase(kind, "dashboard");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startBenchApp(database, { PORT: String(port), CORS_ORIGINS: base });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  try {
    const tenant = await seedTenant(server.app, 0);
    await seedServers(database.db, tenant.orgId, opts.servers);
    const cookies = tenant.owner.cookie.split("; ").map((c) => {
      const [name = "", ...value] = c.split("=");
      return { name, value: value.join("="), url: base };
    });
    const firstRow = "[data-server]";

    const cold: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const context = await browser.newContext();
      await context.addCookies(cookies);
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(`${base}/`);
      await page.locator(firstRow).first().waitFor();
      cold.push(performance.now() - t0);
      await context.close();
    }

    const context = await browser.newContext();
    await context.addCookies(cookies);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator(firstRow).first().waitFor();
    const warm: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const t0 = performance.now();
      await page.goto(`${base}/`);
      await page.locator(firstRow).first().waitFor();
      warm.push(performance.now() - t0);
    }

    const toDetail: number[] = [];
    const back: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const link = page.locator(`${firstRow} a`).nth(i % 20);
      const name = (await link.textContent())?.trim() ?? "";
      let t0 = performance.now();
      await link.click();
      await page.getByRole("heading", { name, exact: true }).waitFor();
      toDetail.push(performance.now() - t0);
      t0 = performance.now();
      await page.goBack();
      await page.locator(firstRow).first().waitFor();
      back.push(performance.now() - t0);
    }
    const rows = [
      row("servers page, first render (cold cache)", cold),
      row("servers page, first render (warm cache)", warm),
      row("navigate to a server's detail", toDetail),
      row("navigate back to the servers page", back),
    ];
    for (const r of rows) console.error(`  dashboard ${kind}: ${r.measure}: ${r.medianMs} ms`);
    return { rows, mainBundleKbGzip: mainBundleKbGzip() } satisfies DashboardResult;
  } finally {
    await browser.close();
    await server.close();
    await database.close();
  }
}
