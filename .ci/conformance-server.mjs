// The official MCP conformance suite in server mode, against the reference server
// (@modelcontextprotocol/server-everything) directly and through Switchboard's gateway: every
// scenario that passes directly must pass through the gateway. Plain Node, no test runner, no tsx.
//
//   node .ci/conformance-server.mjs --everything <server-everything package folder>
//     --suite <conformance CLI> [--suite <another release's CLI>] --suite-node <Node >= 22>
//     [--out <folder for the suite's results>] [--report file.json]
//
// It starts the reference server on a free loopback port, and the compiled Switchboard
// (apps/server/dist/main.js, built beforehand) with a fresh DATA_DIR; signs up, signs in, creates
// an organization, registers the reference server and issues a key for it through the API; then
// runs each suite release's server scenarios against both URLs and compares them.
//
// The suite cannot send an Authorization header (its server mode takes a URL and nothing else), and
// the gateway refuses a request without its key. So the gateway's URL is given to the suite through
// a forward proxy on loopback, started here, that adds `Authorization: Bearer <key>` to each request
// and passes everything else (method, path, headers, bodies, streams) through untouched. The gateway
// authenticates exactly as it does in production.
//
// Each scenario of each release counts as one test. A scenario the reference server fails directly
// (it does not implement every tool and prompt the suite asks for) is reported as skipped, with the
// reason, and is not required through the gateway either. The report has the shape of a Vitest JSON
// report, so .ci/run adds it to its totals like any other runner's.
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SERVER_DIR = join(REPO, "apps/server");
const { values } = parseArgs({
  options: {
    everything: { type: "string" },
    suite: { type: "string", multiple: true },
    "suite-node": { type: "string" },
    out: { type: "string" },
    report: { type: "string" },
  },
});
if (!values.everything || !values.suite?.length || !values["suite-node"]) {
  console.error(
    "usage: conformance-server.mjs --everything <dir> --suite <cli>… --suite-node <node> [--out <dir>] [--report <file>]",
  );
  process.exit(2);
}

const ORG = "conformance";
const SERVER = "everything";
const children = [];
const logs = { everything: "", switchboard: "" };

const freePort = () =>
  new Promise((done) => {
    const s = createNetServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });

async function until(what, check, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function start(name, args, options) {
  const child = spawn(process.execPath, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  const keep = (d) => {
    logs[name] = (logs[name] + d).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.exited = new Promise((done) => child.on("exit", (code, signal) => done({ code, signal })));
  children.push(child);
  return child;
}

/** Stops a child with SIGTERM, and SIGKILL if it is still there after 10 s. */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const late = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await child.exited;
  clearTimeout(late);
}

/** The reference server, on the machine's Node, bound to loopback only. */
async function startEverything() {
  const port = await freePort();
  const dir = resolve(values.everything);
  start(
    "everything",
    ["--import", join(REPO, ".ci/loopback-only.mjs"), join(dir, "dist/index.js"), "streamableHttp"],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: String(port) },
    },
  );
  const url = `http://127.0.0.1:${port}/mcp`;
  // Any HTTP answer will do (a GET without a session is a 400): it is listening.
  await until("the reference server did not answer", async () => (await fetch(url)).status > 0, 30_000);
  return url;
}

/** The compiled Switchboard with a fresh DATA_DIR, loopback targets allowed, no scheduler. */
async function startSwitchboard() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  start("switchboard", ["dist/main.js", "start"], {
    cwd: SERVER_DIR,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-conformance-")),
      WEB_DIST: mkdtempSync(join(tmpdir(), "switchboard-conformance-web-")),
      HOST: "127.0.0.1",
      PORT: String(port),
      BASE_URL: base,
      SCHEDULER: "off",
      ALLOW_PRIVATE_TARGETS: "true",
      METRICS_PORT: "0",
    },
  });
  await until(
    "Switchboard did not answer /readyz",
    async () => (await fetch(`${base}/readyz`)).status === 200,
    90_000,
  );
  return base;
}

/** Signs up and in, creates an organization, registers the reference server, issues a key for it. */
async function issueKey(base, everythingUrl) {
  const cookies = new Map();
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        origin: base,
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; "),
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const at = pair.indexOf("=");
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const account = { email: "conformance@example.com", password: "a-long-conformance-password" };
  await call("POST", "/api/auth/sign-up/email", { ...account, name: "Conformance" });
  // Sign-up starts no session (it must not tell whether the address had an account).
  await call("POST", "/api/auth/sign-in/email", account);
  await call("POST", "/api/auth/organization/create", { name: "Conformance", slug: ORG });
  const server = await call("POST", "/mcp/servers", {
    name: SERVER,
    url: everythingUrl,
    transport: "streamable-http",
  });
  const { key } = await call("POST", `/mcp/servers/${server.id}/keys`, { name: "conformance" });
  return key;
}

/**
 * The forward proxy that stands in for an MCP client configured with the key: each request goes on
 * to Switchboard as it came, with `Authorization: Bearer <key>` added; answers stream back as they
 * arrive, and either side going away ends the other.
 */
async function startKeyProxy(base, key) {
  const target = new URL(base);
  const proxy = createServer((req, res) => {
    const headers = { ...req.headers, authorization: `Bearer ${key}` };
    const out = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.flushHeaders();
        answer.pipe(res);
        answer.on("error", () => res.destroy());
      },
    );
    out.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`proxy: ${err.message}`);
      else res.destroy();
    });
    res.on("close", () => out.destroy());
    req.pipe(out);
  });
  await new Promise((done) => proxy.listen(0, "127.0.0.1", done));
  return { proxy, port: proxy.address().port };
}

/** Runs one release's server scenarios against `url`; each scenario's checks, by scenario name. */
async function runSuite(cli, url, outDir) {
  mkdirSync(outDir, { recursive: true });
  const child = spawn(values["suite-node"], [cli, "server", "--url", url, "-o", outDir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let output = "";
  child.stdout.on("data", (d) => {
    output += d;
  });
  child.stderr.on("data", (d) => {
    output += d;
  });
  const late = setTimeout(() => child.kill("SIGKILL"), 120_000);
  await new Promise((done) => child.on("exit", done));
  clearTimeout(late);
  const scenarios = new Map();
  for (const entry of readdirSync(outDir)) {
    // One folder per scenario: server-<scenario>-<ISO time with dashes>.
    const name = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry)?.[1];
    const file = join(outDir, entry, "checks.json");
    if (name && existsSync(file)) scenarios.set(name, JSON.parse(readFileSync(file, "utf8")));
  }
  if (scenarios.size === 0)
    throw new Error(`the suite reported no scenario against ${url}:\n${output.slice(-4000)}`);
  return scenarios;
}

/** A scenario passes when it made at least one check and none of its checks failed. */
const verdict = (checks) => {
  const failures = (checks ?? []).filter((c) => c.status === "FAILURE");
  if (!checks) return { pass: false, why: "not run" };
  if (checks.length === 0) return { pass: false, why: "made no check" };
  if (failures.length === 0) return { pass: true, why: "" };
  return { pass: false, why: failures.map((c) => `${c.id}: ${c.errorMessage ?? "failed"}`).join("; ") };
};

/** The checks that succeed directly but not through the gateway, with the gateway's reason. */
const lostChecks = (direct, gateway) =>
  direct
    .filter((c) => c.status === "SUCCESS")
    .filter((c) => gateway?.find((g) => g.id === c.id)?.status !== "SUCCESS")
    .map((c) => `${c.id}: ${gateway?.find((g) => g.id === c.id)?.errorMessage ?? "not made"}`);

const suiteVersion = (cli) => {
  const entry = realpathSync(cli);
  return JSON.parse(readFileSync(join(dirname(entry), "../package.json"), "utf8")).version;
};

const results = [];
const skipped = [];
const began = Date.now();
const took = (what) => console.log(`${what} after ${((Date.now() - began) / 1000).toFixed(1)} s`);
let setupError = null;
try {
  const everythingUrl = await startEverything();
  const base = await startSwitchboard();
  took("the reference server and Switchboard answered");
  const key = await issueKey(base, everythingUrl);
  const { proxy, port } = await startKeyProxy(base, key);
  const gatewayUrl = `http://127.0.0.1:${port}/gateway/${ORG}/${SERVER}/mcp`;
  const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), "switchboard-conformance-results-")));
  try {
    for (const cli of values.suite) {
      const version = suiteVersion(cli);
      const direct = await runSuite(cli, everythingUrl, join(out, version, "direct"));
      const gateway = await runSuite(cli, gatewayUrl, join(out, version, "gateway"));
      took(`conformance ${version} ran directly and through the gateway`);
      for (const [scenario, checks] of direct) {
        const title = `${version} ${scenario}`;
        const alone = verdict(checks);
        const through = verdict(gateway.get(scenario));
        // Within a scenario the reference server fails, each check it passes is still held.
        const lost = alone.pass ? [] : lostChecks(checks, gateway.get(scenario));
        if (!alone.pass && lost.length === 0) {
          skipped.push({ title, why: alone.why, gateway: through.pass ? "passes" : "fails" });
          results.push({ title, status: "skipped", failureMessages: [] });
        } else if (!alone.pass) {
          results.push({
            title,
            status: "failed",
            failureMessages: [`checks that pass directly fail through the gateway: ${lost.join("; ")}`],
          });
        } else if (through.pass) {
          results.push({ title, status: "passed", failureMessages: [] });
        } else {
          results.push({ title, status: "failed", failureMessages: [`through the gateway: ${through.why}`] });
        }
      }
      if (![...direct.values()].some((c) => verdict(c).pass))
        throw new Error(`the reference server passed no scenario of ${version} directly`);
    }
  } finally {
    await new Promise((done) => proxy.close(done));
    proxy.closeAllConnections();
  }
} catch (err) {
  setupError = err;
}
for (const child of children.reverse()) await stop(child);

if (setupError)
  results.push({
    title: "runs the suite directly and through the gateway",
    status: "failed",
    failureMessages: [String(setupError?.stack ?? setupError)],
  });

const passed = results.filter((r) => r.status === "passed");
const failed = results.filter((r) => r.status === "failed");
console.log(`MCP conformance, server mode: ${values.everything} directly and through Switchboard's gateway`);
for (const r of results)
  console.log(`  ${r.status === "passed" ? "✓" : r.status === "failed" ? "×" : "-"} ${r.title}`);
if (skipped.length) {
  console.log(
    "Not applicable (the reference server fails them directly, so the gateway is held only to the checks in them that pass directly, and passes those):",
  );
  for (const s of skipped) console.log(`  - ${s.title}: ${s.why} (through the gateway it ${s.gateway})`);
}
for (const r of failed) console.log(`${r.title}: ${r.failureMessages.join("\n")}`);
if (failed.length) {
  console.log(`reference server output:\n${logs.everything.slice(-3000)}`);
  console.log(`Switchboard output:\n${logs.switchboard.slice(-6000)}`);
}
console.log(`${passed.length} passed, ${failed.length} failed, ${skipped.length} not applicable`);

if (values.report) {
  const report = {
    numPassedTests: passed.length,
    numFailedTests: failed.length,
    numPendingTests: skipped.length,
    testResults: [
      {
        name: fileURLToPath(import.meta.url),
        status: failed.length ? "failed" : "passed",
        assertionResults: results.map((r) => ({ ...r, fullName: `conformance server ${r.title}` })),
      },
    ],
  };
  writeFileSync(values.report, JSON.stringify(report, null, 2));
}
process.exit(failed.length ? 1 : 0);
