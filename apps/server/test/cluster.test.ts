import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db/client";
import { openTestDatabase } from "./db";

const SERVER_DIR = resolve(import.meta.dirname, "..");
const MAIN = join(SERVER_DIR, "dist/main.js");

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

/** The processes a process started, from /proc. */
const childrenOf = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean).map(Number),
  );

/** The log lines a process wrote, parsed (lines that are not JSON are left out). */
const lines = (output: string) =>
  output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.runIf(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL)(
  "WEB_CONCURRENCY on PostgreSQL and Redis",
  () => {
    let database: Database & { url?: string };
    let child: ChildProcess;
    let output = "";
    let exit: Promise<number | null>;
    let port: number;
    let metricsPort: number;

    beforeAll(async () => {
      execFileSync(process.execPath, [join(SERVER_DIR, "scripts/build-if-needed.mjs")], { stdio: "ignore" });
      database = await openTestDatabase("postgres");
      port = await freePort();
      metricsPort = await freePort();
      child = spawn(process.execPath, [MAIN, "start"], {
        cwd: SERVER_DIR,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-cluster-")),
          WEB_DIST: mkdtempSync(join(tmpdir(), "switchboard-cluster-web-")),
          DATABASE_URL: database.url as string,
          REDIS_URL: process.env.TEST_REDIS_URL as string,
          REDIS_PREFIX: `switchboard-test-${randomBytes(4).toString("hex")}:`,
          HOST: "127.0.0.1",
          PORT: String(port),
          WEB_CONCURRENCY: "2",
          METRICS_PORT: String(metricsPort),
        },
      });
      child.stdout?.on("data", (d) => {
        output += d;
      });
      child.stderr?.on("data", (d) => {
        output += d;
      });
      exit = new Promise((done) => child.on("exit", (code) => done(code)));
      const until = Date.now() + 90_000;
      while (lines(output).filter((l) => l.msg === "Switchboard is up").length < 3) {
        if (Date.now() > until) throw new Error(`not up within 90 s:\n${output.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }, 120_000);

    afterAll(async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
      await database.close();
    });

    it("serves from that many worker processes, and runs the scheduler and the purges once, in the primary", async () => {
      const workers = childrenOf(child.pid as number);
      expect(workers).toHaveLength(2);
      // New connections are shared out between the workers.
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
      }
      const served = new Set(
        lines(output)
          .filter((l) => l.msg === "request completed")
          .map((l) => l.pid),
      );
      expect([...served].sort()).toEqual([...workers].sort());
      const schedulers = lines(output).filter((l) => l.msg === "health scheduler started");
      expect(schedulers.map((l) => l.pid)).toEqual([child.pid]);
      const jobs = lines(output).filter((l) => l.msg === "background jobs started");
      expect(jobs.map((l) => l.pid)).toEqual([child.pid]);
    });

    it("serves the metrics of every process from the primary: requests summed, shared gauges not", async () => {
      const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const sample = (text: string, series: string) =>
        Number(
          text
            .split("\n")
            .find((l) => l.startsWith(`${series} `))
            ?.split(" ")[1] ?? Number.NaN,
        );
      const healthz = 'switchboard_http_requests_total{route="/healthz",method="GET",status_class="2xx"}';
      const before = sample(await scrape(), healthz) || 0;
      for (let i = 0; i < 30; i++)
        await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: "close" } });
      const text = await scrape();
      // Each worker counts the requests it served; the primary's answer adds them up.
      expect(sample(text, healthz) - before).toBe(30);
      // Redis is up for all three processes: 1, not 3; the pools of all three (20 each) add up.
      expect(sample(text, "switchboard_redis_up")).toBe(1);
      expect(sample(text, 'switchboard_db_pool_max{pool="api"}')).toBe(3 * 20);
    });

    it("stops every worker gracefully on SIGTERM", async () => {
      const workers = childrenOf(child.pid as number);
      child.kill("SIGTERM");
      expect(await exit).toBe(0);
      for (const pid of workers)
        expect(lines(output).some((l) => l.pid === pid && l.msg === "shutdown complete")).toBe(true);
      expect(lines(output).some((l) => l.pid === child.pid && l.msg === "shutdown complete")).toBe(true);
    });
  },
);
