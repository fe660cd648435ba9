import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SERVER_DIR = resolve(import.meta.dirname, "..");
const TSX = resolve(SERVER_DIR, "../../node_modules/.bin/tsx");
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

function cli(args: string[], env: Record<string, string>): Run {
  const child = spawn(TSX, ["src/main.ts", ...args], {
    cwd: SERVER_DIR,
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

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

async function waitFor(check: () => boolean, ms: number) {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("switchboard CLI", () => {
  it("migrates, rolls back, and serves with graceful shutdown on SIGTERM", async () => {
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-cli-")), LOG_LEVEL: "info" };

    const migrate = cli(["db", "migrate"], env);
    expect(await migrate.exit).toBe(0);
    expect(TAGS.slice(0, 2)).toEqual(["0000_auth", "0001_mcp_core"]);
    expect(migrate.output()).toContain(`Applied: ${TAGS.join(", ")}`);

    const one = cli(["db", "rollback"], env);
    expect(await one.exit).toBe(0);
    expect(one.output()).toContain(`Rolled back: ${TAGS.at(-1)}\n`);

    const all = cli(["db", "rollback", "--to", "none"], env);
    expect(await all.exit).toBe(0);
    expect(all.output()).toContain(`Rolled back: ${TAGS.slice(0, -1).reverse().join(", ")}\n`);

    const port = await freePort();
    const server = cli(["start"], { ...env, PORT: String(port), HOST: "127.0.0.1" });
    try {
      await waitFor(() => server.output().includes("Switchboard is up"), 30_000);
      expect(server.output()).toContain(`"applied":${JSON.stringify(TAGS)}`);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toEqual({ status: "ok" });
    } finally {
      server.child.kill("SIGTERM");
    }
    expect(await server.exit).toBe(0);
    expect(server.output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(server.output()).toContain("shutdown complete");
  }, 120_000);

  it("stops with a message naming the variable when the configuration is wrong", async () => {
    const run = cli(["start"], { PORT: "eighty", DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-cli-")) });
    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/Invalid configuration:\n\s+PORT: /);
  });

  it("prints its usage for an unknown command", async () => {
    const run = cli(["frobnicate"], { DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-cli-")) });
    expect(await run.exit).toBe(2);
    expect(run.output()).toContain("Usage: switchboard <command>");
  });
});
