import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleValue, scrape } from "./prometheus";

/** The CLI as production runs it: the compiled bundle, on this Node, without tsx. */
const SERVER_DIR = resolve(import.meta.dirname, "..");
const REPO = resolve(SERVER_DIR, "../..");
const MAIN = join(SERVER_DIR, "dist/main.js");
const BIN = join(SERVER_DIR, "bin/switchboard.mjs");
/** Every migration drizzle-kit generated, oldest first. */
const TAGS = (
  JSON.parse(readFileSync(resolve(SERVER_DIR, "drizzle/meta/_journal.json"), "utf8")) as {
    entries: { tag: string }[];
  }
).entries.map((e) => e.tag);

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  { cwd = SERVER_DIR, detached = false } = {},
): Run {
  const child = spawn(command, args, {
    cwd,
    detached,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exit = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  return { child, output: () => out, exit };
}

const cli = (args: string[], env: Record<string, string>) => run(process.execPath, [MAIN, ...args], env);

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

/** Whether something accepts connections on 127.0.0.1:port. */
const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits for `check`; watching a process, fails as soon as it exits, and says what it wrote. */
async function waitFor(check: () => boolean, ms: number, watched?: Run) {
  const until = Date.now() + ms;
  const said = () => (watched ? `; it wrote:\n${watched.output().slice(-4000)}` : "");
  while (!check()) {
    if (watched && watched.child.exitCode !== null && !check())
      throw new Error(`the process exited with ${watched.child.exitCode}${said()}`);
    if (Date.now() > until) throw new Error(`timed out${said()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const tempDir = () => mkdtempSync(join(tmpdir(), "switchboard-cli-"));

/** An OTLP/HTTP collector on 127.0.0.1 that keeps the names of the spans posted to it (JSON). */
async function otlpReceiver() {
  const spans: string[] = [];
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        const parsed = JSON.parse(body) as {
          resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[];
        };
        for (const r of parsed.resourceSpans)
          for (const s of r.scopeSpans) for (const span of s.spans) spans.push(span.name);
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    spans,
    /** The variables that send a process's spans here, quickly, as JSON. */
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

describe("switchboard CLI", () => {
  const receivers: { close(): Promise<void> }[] = [];
  afterAll(() => Promise.all(receivers.map((r) => r.close())));

  beforeAll(() => {
    // Builds dist/main.js when it is missing or older than its sources, as `npm start` does.
    execFileSync(process.execPath, [join(SERVER_DIR, "scripts/build-if-needed.mjs")], { stdio: "ignore" });
  }, 60_000);

  it("migrates, rolls back, and serves with graceful shutdown on SIGTERM", async () => {
    const env = { DATA_DIR: tempDir(), LOG_LEVEL: "info" };

    // Through the package's bin, as `npx switchboard db migrate` runs it: stdout is the answer alone.
    const migrate = run(process.execPath, [BIN, "db", "migrate"], env);
    expect(await migrate.exit).toBe(0);
    expect(TAGS.slice(0, 2)).toEqual(["0000_auth", "0001_mcp_core"]);
    expect(migrate.output()).toBe(`Applied: ${TAGS.join(", ")}\n`);

    const one = cli(["db", "rollback"], env);
    expect(await one.exit).toBe(0);
    expect(one.output()).toContain(`Rolled back: ${TAGS.at(-1)}\n`);

    const all = cli(["db", "rollback", "--to", "none"], env);
    expect(await all.exit).toBe(0);
    expect(all.output()).toContain(`Rolled back: ${TAGS.slice(0, -1).reverse().join(", ")}\n`);

    const port = await freePort();
    const metricsPort = await freePort();
    const collector = await otlpReceiver();
    receivers.push(collector);
    const server = cli(["start"], {
      ...env,
      ...collector.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      SCHEDULER: "off",
      METRICS_PORT: String(metricsPort),
    });
    try {
      await waitFor(() => server.output().includes("Switchboard is up"), 60_000, server);
      expect(server.output()).toContain(`"applied":${JSON.stringify(TAGS)}`);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toEqual({ status: "ok" });
      // The bundle finds the dashboard where the source does: apps/web/dist, built or not.
      const index = join(REPO, "apps/web/dist/index.html");
      if (existsSync(index)) {
        const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: "text/html" } });
        expect(await page.text()).toBe(readFileSync(index, "utf8"));
      } else {
        expect(server.output()).toContain(`"dist":${JSON.stringify(join(REPO, "apps/web/dist"))}`);
      }
      // The bundle serves metrics on their own port, and sends spans to the collector OTEL_* names.
      const text = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(
        sampleValue(text, "switchboard_http_requests_total", {
          route: "/readyz",
          method: "GET",
          status_class: "2xx",
        }),
      ).toBe(1);
      await waitFor(() => collector.spans.includes("GET /readyz"), 10_000);
      expect(collector.spans).toContain("SELECT");
    } finally {
      server.child.kill("SIGTERM");
    }
    expect(await server.exit).toBe(0);
    expect(server.output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(server.output()).toContain("shutdown complete");
  }, 180_000);

  it("`npm start` execs the compiled server, so a SIGTERM to npm stops it gracefully", async () => {
    const port = await freePort();
    const npm = run(
      "npm",
      ["start"],
      {
        DATA_DIR: tempDir(),
        // An empty dashboard folder: the dashboard is not built, and the server serves no dashboard.
        WEB_DIST: tempDir(),
        PORT: String(port),
        HOST: "127.0.0.1",
        SCHEDULER: "off",
        METRICS_PORT: "0",
      },
      // A process group of its own, so that whatever npm started can be cleaned up if the test fails.
      { cwd: REPO, detached: true },
    );
    const npmPid = npm.child.pid as number;
    let serverPid = 0;
    try {
      await waitFor(() => npm.output().includes("Switchboard is up"), 90_000, npm);
      // npm's only child is the server itself: the script's shell replaced itself with node.
      const children = readdirSync(`/proc/${npmPid}/task`).flatMap((task) =>
        readFileSync(`/proc/${npmPid}/task/${task}/children`, "utf8").split(" ").filter(Boolean),
      );
      expect(children).toHaveLength(1);
      serverPid = Number(children[0]);
      const argv = readFileSync(`/proc/${serverPid}/cmdline`, "utf8").split("\0").filter(Boolean);
      expect(argv.slice(1)).toEqual(["dist/main.js", "start"]);
      expect(resolve(readlinkSync(`/proc/${serverPid}/cwd`), argv[1] ?? "")).toBe(MAIN);
      expect(readlinkSync(`/proc/${serverPid}/exe`)).toBe(readlinkSync(`/proc/${npmPid}/exe`));
      expect(await listening(port)).toBe(true);

      npm.child.kill("SIGTERM");
      await npm.exit;
      expect(npm.output()).toMatch(
        new RegExp(`"pid":${serverPid},[^\\n]*"signal":"SIGTERM"[^\\n]*"msg":"shutting down"`),
      );
      expect(npm.output()).toMatch(new RegExp(`"pid":${serverPid},[^\\n]*"msg":"shutdown complete"`));
      expect(alive(serverPid)).toBe(false);
      expect(await listening(port)).toBe(false);
    } finally {
      for (const pid of [-npmPid, serverPid]) if (pid && alive(pid)) process.kill(pid, "SIGKILL");
    }
  }, 120_000);

  it("runs the stand-alone worker with metrics on their own port and spans sent to the collector", async () => {
    const metricsPort = await freePort();
    const collector = await otlpReceiver();
    receivers.push(collector);
    const worker = cli(["worker"], {
      ...collector.env,
      DATA_DIR: tempDir(),
      LOG_LEVEL: "info",
      METRICS_PORT: String(metricsPort),
      SCHEDULER_IDLE_MS: "100",
    });
    try {
      await waitFor(() => worker.output().includes("health scheduler started"), 150_000, worker);
      const text = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(sampleValue(text, "switchboard_scheduler_lag_seconds")).toBe(0);
      expect(sampleValue(text, "switchboard_probes_in_flight")).toBe(0);
      expect(sampleValue(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
      // The scheduler's claims, outside any request, are traced too.
      await waitFor(() => collector.spans.includes("UPDATE mcp_check_schedule"), 10_000, worker);
    } finally {
      worker.child.kill("SIGTERM");
    }
    expect(await worker.exit).toBe(0);
    expect(await listening(metricsPort)).toBe(false);
  }, 240_000);

  it("stops with a message naming the variable when the configuration is wrong", async () => {
    const run = cli(["start"], { PORT: "eighty", DATA_DIR: tempDir() });
    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/Invalid configuration:\n\s+PORT: /);
  });

  it("exports and imports on its own database, migrated first, answering on stdout", async () => {
    const dataDir = tempDir();
    const exported = cli(["export", "--org", "nobody"], { DATA_DIR: dataDir });
    expect(await exported.exit).toBe(1);
    expect(exported.output()).toContain("error: No organization has the slug nobody");
    const usage = cli(["import", "--help"], { DATA_DIR: dataDir });
    expect(await usage.exit).toBe(0);
    expect(usage.output()).toContain("Usage: switchboard import <file|url|->");
  }, 60_000);

  it("prints its usage for an unknown command", async () => {
    const run = cli(["frobnicate"], { DATA_DIR: tempDir() });
    expect(await run.exit).toBe(2);
    expect(run.output()).toContain("Usage: switchboard <command>");
  });
});
