// Start-and-sign-up smoke test of the compiled server, on whatever Node runs this file, with nothing
// but Node itself (no test runner, no tsx): build, start on a free port with a fresh DATA_DIR, sign
// up, sign in, create an organization, register a server and list it, read its Prometheus metrics,
// then stop with SIGTERM.
//
//   node .ci/smoke.mjs [--report file.json]
//
// Each step counts as one test. The report has the shape of a Vitest JSON report, so .ci/run adds
// it to its totals like any other runner's; a step never reached counts as failed.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SERVER_DIR = join(REPO, "apps/server");
const { values } = parseArgs({ options: { report: { type: "string" } } });

const freePort = () =>
  new Promise((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });

const port = await freePort();
const metricsPort = await freePort();
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), "switchboard-smoke-"));
let server;
let output = "";
let exited;
const cookies = new Map();

/** A request as the dashboard makes it: JSON, the session cookie, and an Origin Better-Auth trusts. */
async function call(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      origin: base,
      cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  for (const c of res.headers.getSetCookie()) {
    const [pair = ""] = c.split(";");
    const at = pair.indexOf("=");
    cookies.set(pair.slice(0, at), pair.slice(at + 1));
  }
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function expectStatus(res, status) {
  if (res.status !== status)
    throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
}

async function until(what, check, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let serverId;
const steps = [
  [
    "builds the server",
    () => execFileSync(process.execPath, [join(SERVER_DIR, "scripts/build.mjs")], { stdio: "pipe" }),
  ],
  [
    "starts and answers /readyz",
    async () => {
      server = spawn(process.execPath, ["dist/main.js", "start"], {
        cwd: SERVER_DIR,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "",
          DATA_DIR: dataDir,
          WEB_DIST: mkdtempSync(join(tmpdir(), "switchboard-smoke-web-")),
          HOST: "127.0.0.1",
          PORT: String(port),
          BASE_URL: base,
          SCHEDULER: "off",
          ALLOW_PRIVATE_TARGETS: "true",
          METRICS_PORT: String(metricsPort),
        },
      });
      server.stdout.on("data", (d) => {
        output += d;
      });
      server.stderr.on("data", (d) => {
        output += d;
      });
      exited = new Promise((done) => server.on("exit", (code, signal) => done({ code, signal })));
      await until("no ready answer", async () => (await fetch(`${base}/readyz`)).status === 200, 90_000);
    },
  ],
  [
    "signs up",
    async () =>
      expectStatus(
        await call("POST", "/api/auth/sign-up/email", {
          email: "smoke@example.com",
          password: "a-long-smoke-password",
          name: "Smoke",
        }),
        200,
      ),
  ],
  [
    // Sign-up never starts a session (it must not tell whether the address had an account).
    "signs in",
    async () =>
      expectStatus(
        await call("POST", "/api/auth/sign-in/email", {
          email: "smoke@example.com",
          password: "a-long-smoke-password",
        }),
        200,
      ),
  ],
  [
    "creates an organization",
    async () =>
      expectStatus(
        await call("POST", "/api/auth/organization/create", { name: "Smoke", slug: "smoke" }),
        200,
      ),
  ],
  [
    "registers a server",
    async () => {
      const res = await call("POST", "/mcp/servers", { name: "smoke", url: "http://127.0.0.1:9/mcp" });
      expectStatus(res, 201);
      serverId = res.body.id;
    },
  ],
  [
    "lists it",
    async () => {
      const res = await call("GET", "/mcp/servers");
      expectStatus(res, 200);
      const ids = res.body.items.map((s) => s.id);
      if (res.body.total !== 1 || ids.length !== 1 || ids[0] !== serverId)
        throw new Error(`expected only ${serverId}, got ${JSON.stringify(res.body)}`);
    },
  ],
  [
    "serves Prometheus metrics on METRICS_PORT, counting the requests it answered",
    async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      if (!/^switchboard_http_requests_total\{[^}]*route="\/mcp\/servers"[^}]*\} [1-9]/m.test(text))
        throw new Error(`no count of GET /mcp/servers in:\n${text.slice(0, 2000)}`);
    },
  ],
  [
    "stops cleanly on SIGTERM",
    async () => {
      server.kill("SIGTERM");
      const timeout = new Promise((done) => setTimeout(() => done({ code: "none within 20 s" }), 20_000));
      const { code, signal } = await Promise.race([exited, timeout]);
      if (code !== 0) throw new Error(`exit code ${code}${signal ? ` (${signal})` : ""}`);
      if (!output.includes("shutdown complete")) throw new Error("no 'shutdown complete' in the log");
      await until(
        "port still open",
        () =>
          fetch(`${base}/healthz`).then(
            () => false,
            () => true,
          ),
        5_000,
      );
    },
  ],
];

const results = [];
let failing = false;
for (const [title, step] of steps) {
  if (failing) {
    results.push({ title, status: "failed", failureMessages: ["not reached"] });
    continue;
  }
  try {
    await step();
    results.push({ title, status: "passed", failureMessages: [] });
  } catch (err) {
    failing = true;
    results.push({ title, status: "failed", failureMessages: [String(err?.stack ?? err)] });
  }
}
if (server && server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");

const passed = results.filter((r) => r.status === "passed").length;
console.log(`Smoke test of the compiled server on Node ${process.version}:`);
for (const r of results) console.log(`  ${r.status === "passed" ? "✓" : "×"} ${r.title}`);
for (const r of results)
  if (r.failureMessages[0] && r.failureMessages[0] !== "not reached") console.log(r.failureMessages[0]);
if (failing) console.log(`server output:\n${output.slice(-4000)}`);
console.log(`${passed} passed, ${results.length - passed} failed`);

if (values.report) {
  const report = {
    numPassedTests: passed,
    numFailedTests: results.length - passed,
    testResults: [
      {
        name: fileURLToPath(import.meta.url),
        status: failing ? "failed" : "passed",
        assertionResults: results.map((r) => ({ ...r, fullName: `smoke ${r.title}` })),
      },
    ],
  };
  writeFileSync(values.report, JSON.stringify(report, null, 2));
}
process.exit(failing ? 1 : 0);
