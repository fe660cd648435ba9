import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { isMainThread } from "node:worker_threads";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type TestApp } from "../../../test/app";
import { type RunningMcpServer, startMcpServer } from "../../demo/mcp-servers";
import { createJobs } from "../../jobs";
import type { Scheduler } from "../../worker/scheduler";
import { createThreadProber, PROBE_THREAD_NICE } from "./probe-thread";
import { hashToolSet } from "./tools";

const log = pino({ level: "silent" });
const options = { timeoutMs: 5000, degradedMs: 4000, maxBodyBytes: 1 << 20, allowPrivate: true };

/** The nice value of each thread of this process, as Linux reports it (the 19th field of stat). */
const threadNices = () =>
  readdirSync("/proc/self/task").map((id) => {
    const stat = readFileSync(`/proc/self/task/${id}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  });

// A thread started from TypeScript source compiles its modules first: seconds on a loaded machine.
describe("the probe thread", { timeout: 90_000 }, () => {
  let mcp: RunningMcpServer;
  beforeAll(async () => {
    mcp = await startMcpServer({ name: "threaded" });
  });
  afterAll(() => mcp.close());

  it("runs a probe in a worker thread and answers what the probe found", async () => {
    const thread = createThreadProber(options, log);
    try {
      expect(thread.stats()).toEqual({ probes: 0, running: false });
      const asked = Date.now();
      const result = await thread.probe({ url: mcp.url, transport: "streamable-http", headers: {} });
      expect(result).toMatchObject({ status: "healthy", error: null, serverInfo: { name: "threaded" } });
      // Dated in the thread, when the answer came: the scheduler dates the check by it.
      expect(result.answeredAt).toBeGreaterThanOrEqual(asked);
      expect(result.answeredAt).toBeLessThanOrEqual(Date.now());
      expect(result.tools.length).toBeGreaterThan(0);
      // Hashed in the thread, so that the event loop that records the check only stores it.
      expect(result.hashes).toEqual(hashToolSet(result.tools));
      expect(thread.stats()).toEqual({ probes: 1, running: true });
      expect(isMainThread).toBe(true); // …and the test itself is not in it
    } finally {
      await thread.close();
    }
  });

  it("is started and loaded by warm, before any probe is asked of it", async () => {
    const thread = createThreadProber(options, log);
    try {
      const warming = thread.warm();
      expect(thread.stats()).toEqual({ probes: 0, running: true });
      // Resolves on the thread's word that its code has loaded (a thread that never said so would
      // hold this test until its timeout); warming again asks nothing more of it.
      await warming;
      await thread.warm();
      expect(thread.stats()).toEqual({ probes: 0, running: true });
      const result = await thread.probe({ url: mcp.url, transport: "streamable-http", headers: {} });
      expect(result.status).toBe("healthy");
      expect(thread.stats()).toEqual({ probes: 1, running: true });
    } finally {
      await thread.close();
    }
  });

  it.runIf(process.platform === "linux")(
    "runs below the priority of the threads that serve the API, which keep theirs",
    async () => {
      const own = getPriority();
      const lower = Math.min(19, own + PROBE_THREAD_NICE);
      const before = threadNices();
      const thread = createThreadProber(options, log);
      try {
        await thread.warm();
        const after = threadNices();
        // One thread more runs lower: the probe thread; this one, the main thread, is as it was.
        expect(after.filter((n) => n === lower).length).toBe(before.filter((n) => n === lower).length + 1);
        expect(getPriority()).toBe(own);
        const result = await thread.probe({ url: mcp.url, transport: "streamable-http", headers: {} });
        expect(result.status).toBe("healthy");
      } finally {
        await thread.close();
      }
    },
  );

  it("applies the SSRF guard in the thread: a loopback server is refused unless private targets are allowed", async () => {
    const thread = createThreadProber({ ...options, allowPrivate: false }, log);
    try {
      const result = await thread.probe({ url: mcp.url, transport: "streamable-http", headers: {} });
      expect(result).toMatchObject({ status: "unhealthy", error: "target_refused" });
    } finally {
      await thread.close();
    }
  });

  it("starts a new thread for the next probe once one has stopped", async () => {
    const thread = createThreadProber(options, log);
    await thread.probe({ url: mcp.url, transport: "streamable-http", headers: {} });
    await thread.close();
    expect(thread.stats().running).toBe(false);
    try {
      const again = await thread.probe({ url: mcp.url, transport: "streamable-http", headers: {} });
      expect(again.status).toBe("healthy");
      expect(thread.stats()).toEqual({ probes: 2, running: true });
    } finally {
      await thread.close();
    }
  });
});

describe("an instance's scheduler", { timeout: 90_000 }, () => {
  let t: TestApp;
  let mcp: RunningMcpServer;
  beforeAll(async () => {
    t = await createTestApp("pglite");
    mcp = await startMcpServer({ name: "scheduled" });
  });
  afterAll(async () => {
    await mcp.close();
    await t.close();
  });

  it("probes in the probe thread, never on the event loop that serves the API", async () => {
    const admin = as(t.app, (await createTenant(t.app)).admin);
    const res = await admin({
      method: "POST",
      url: "/mcp/servers",
      payload: { name: "apart", url: mcp.url },
    });
    expect(res.statusCode).toBe(201);
    const thread = t.runtime.probeThread;
    expect(thread).not.toBeNull();
    const before = thread?.stats().probes ?? 0;
    // Due now rather than in its slot of the interval.
    await t.database.db.execute(
      sql`UPDATE mcp_servers SET next_check_at = now() WHERE id = ${res.json().id}`,
    );
    const jobs = createJobs(t.runtime, { scheduler: true });
    // On this event loop (the test app sets SCHEDULER_THREAD=off), its probes in the probe thread.
    expect(await (jobs.scheduler as Scheduler).runOnce()).toBe(1);
    expect(thread?.stats().probes).toBe(before + 1);
    const server = (await admin({ method: "GET", url: `/mcp/servers/${res.json().id}` })).json();
    expect(server).toMatchObject({ status: "healthy", serverInfo: { name: "scheduled" } });
    expect(server.tools.length).toBeGreaterThan(0);
    expect(server.toolsHash).toBe(hashToolSet(server.tools).toolsHash);
  });
});
