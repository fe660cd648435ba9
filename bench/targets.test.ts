import { describe, expect, it } from "vitest";
import type { ApiRow } from "./api";
import type { GatewayRow, SoakResult } from "./gateway";
import type { MetricsRow } from "./metrics";
import type { QueryRow } from "./queries";
import type { SteadyResult, SteadyRow } from "./steady";
import type { SweepRow } from "./sweep";
import { type Run, targetsOf } from "./targets";

const machine = { sessions: 100, cores: 2 };

const apiRow = (endpoint: string, over: Partial<ApiRow> = {}): ApiRow => ({
  endpoint,
  runs: 3,
  rpsRange: "",
  requestsPerSecond: 1000,
  p50: 20,
  p99: 40,
  errors: 0,
  timeouts: 0,
  non2xx: 0,
  requests: 60_000,
  ratioToBare: 0.5,
  serverCpuMs: 0.5,
  databaseCpuMs: 0.3,
  loadCpuMs: 0.2,
  cpuCeilingRps: 2000,
  ...over,
});

const query = (medianMs: number, largeSeqScans: string[] = []): QueryRow => ({
  query: "select 1",
  medianMs,
  p99Ms: medianMs,
  planningMedianMs: 0.01,
  seqScans: largeSeqScans,
  largeSeqScans,
});

const sweep = (servers: number, wallSeconds: number): SweepRow => ({
  servers,
  hanging: servers / 20,
  runs: 3,
  wallSeconds,
  wallRangeSeconds: "",
  answeredSeconds: 3,
  probesPerSecond: servers / wallSeconds,
  peakRssMb: 100,
  peakHeapMb: 50,
  healthy: servers,
  degraded: 0,
  unhealthy: 0,
  latencyP50Ms: 5,
  latencyP99Ms: 20,
  schedulerCpuMs: 1,
  fleetCpuMs: 1,
  databaseCpuMs: 0.1,
});

const gatewayRow = (clients: number, over: Partial<GatewayRow> = {}): GatewayRow => ({
  clients,
  runs: 3,
  directRps: 4000,
  gatewayRps: 2400,
  throughputShare: 0.6,
  directP50: 2,
  gatewayP50: 2.5,
  addedP50: 0.5,
  directP99: 6,
  gatewayP99: 9,
  addedP99: 3,
  directErrors: 0,
  gatewayErrors: 0,
  directCpuMs: 0.3,
  directCeilingRps: 6667,
  switchboardCpuMs: 0.2,
  upstreamCpuMs: 0.3,
  loadCpuMs: 0.1,
  cpuCeilingRps: 3333,
  ...over,
});

const soak = (over: Partial<SoakResult> = {}): SoakResult => ({
  seconds: 300,
  clients: 100,
  requestsPerSecond: 2400,
  requests: 720_000,
  errors: 0,
  p50: 40,
  p99: 80,
  warmupSeconds: 60,
  rssStartMb: 200,
  rssEndMb: 209,
  rssGrowthPct: 4.5,
  rssPeakMb: 230,
  heapStartMb: 60,
  heapEndMb: 61,
  rssByMinuteMb: "190 200 204 206 209",
  ...over,
});

const steadyRow = (
  phase: SteadyRow["phase"],
  offeredRps: number,
  over: Partial<SteadyRow> = {},
): SteadyRow => ({
  phase,
  apiProcesses: 1,
  load: "mix",
  offeredRps,
  seconds: 60,
  sent: offeredRps * 60,
  p50: 10,
  p99: 40,
  max: 80,
  p99ByKind: "",
  errors: 0,
  timeouts: 0,
  non2xx: 0,
  checksPerSecond: phase === "scheduler off" ? 0 : 167,
  lagSeconds: 0,
  overdue: 0,
  serverCpuMs: 2,
  databaseCpuMs: 0.5,
  loadCpuMs: 0.5,
  sendLagP99: 1,
  machineMs: 20,
  health: "healthy 10000",
  ...over,
});

const steady = (rows: SteadyRow[], over: Partial<SteadyResult> = {}): SteadyResult => ({
  servers: 10_000,
  fleet: 50,
  intervalSeconds: 60,
  seconds: 60,
  rows,
  catchUp: { servers: 10_000, drainSeconds: 31, checkedSeconds: 33, checksPerSecond: 303 },
  checks: { seconds: 60, mean: 166.7, peak: 200, ratio: 1.2 },
  fleetCpuMsPerCheck: 1,
  ...over,
});

const met = (run: Run) => Object.fromEntries(targetsOf(run, machine).map((t) => [t.target, t.met]));

describe("the benchmark's targets", () => {
  it("hold reads to a p99 under 50 ms and writes under 100 ms, with no error of any kind", () => {
    const run: Run = {
      database: "postgres",
      api: [
        apiRow("bare Fastify route (same JSON)", { ratioToBare: null }),
        apiRow("list (page of 50, sorted, filtered)", { p99: 49 }),
        apiRow("search", { p99: 50 }),
        apiRow("get one", { p99: 10, timeouts: 1 }),
        apiRow("create + delete", { p99: 99 }),
        apiRow("key verification (/mcp/whoami)", { p99: 900 }),
      ],
    };
    expect(met(run)).toEqual({
      "list (page of 50, sorted, filtered): p99 < 50 ms, 0 errors": true,
      "list throughput ≥ 25% of the bare route": true,
      "search: p99 < 50 ms, 0 errors": false,
      "get one: p99 < 50 ms, 0 errors": false,
      "create + delete: p99 < 100 ms, 0 errors": true,
      // Each row costs 0.5 ms of server CPU.
      "list (page of 50, sorted, filtered): ≤ 0.6 ms of server CPU a request": true,
      "get one: ≤ 0.25 ms of server CPU a request": false,
      "key verification (/mcp/whoami): ≤ 0.15 ms of server CPU a request": false,
    });
  });

  it("hold server CPU on PostgreSQL to 0.6 ms a list page, 0.25 one server, 0.15 a key and 0.5 a probe", () => {
    const rows = (list: number, one: number, key: number): ApiRow[] => [
      apiRow("bare Fastify route (same JSON)", { ratioToBare: null }),
      apiRow("list (page of 50, sorted, filtered)", { serverCpuMs: list }),
      apiRow("get one", { serverCpuMs: one }),
      apiRow("key verification (/mcp/whoami)", { serverCpuMs: key }),
    ];
    const cpuTargets = (run: Run) =>
      targetsOf(run, machine)
        .filter((t) => t.target.includes("CPU a request") || t.target.includes("scheduler CPU"))
        .map((t) => [t.measured, t.met]);
    const probe = (schedulerCpuMs: number) => [{ ...sweep(5000, 14), schedulerCpuMs }];
    expect(cpuTargets({ database: "postgres", api: rows(0.6, 0.25, 0.15), sweep: probe(0.5) })).toEqual([
      ["0.6 ms", true],
      ["0.25 ms", true],
      ["0.15 ms", true],
      ["0.5 ms", true],
    ]);
    expect(
      cpuTargets({ database: "postgres", api: rows(0.61, 0.26, 0.16), sweep: probe(0.51) }).map(([, m]) => m),
    ).toEqual([false, false, false, false]);
    // On PGlite the server's CPU holds the database's: it has its own list target.
    expect(cpuTargets({ database: "pglite", api: rows(0.1, 0.1, 0.1), sweep: probe(0.1) })).toEqual([]);
  });

  it("hold list throughput to a quarter of the bare route's, and say what the CPU allows", () => {
    const run: Run = {
      database: "postgres",
      api: [
        apiRow("bare Fastify route (same JSON)", { ratioToBare: null, requestsPerSecond: 8000 }),
        apiRow("list (page of 50, sorted, filtered)", { ratioToBare: 0.249, cpuCeilingRps: 1000 }),
      ],
    };
    const [, throughput] = targetsOf(run, machine);
    expect(throughput).toMatchObject({ met: false, measured: "24.9%" });
    // 1,000 req/s at most against the bare route's 8,000.
    expect(throughput?.bound).toMatch(/at most 12.5%$/);
    const [latency] = targetsOf(run, machine);
    // 100 sessions always waiting at 1,000 req/s at most: 100 ms mean at least (Little's law).
    expect(latency?.bound).toMatch(/so a mean of at least 100 ms$/);
  });

  it("fail statements at 2 ms median, and any sequential scan of a large table", () => {
    const fast: Run = { database: "pglite", queries: [query(0.5), query(1.99)] };
    expect(met(fast)).toEqual({
      "every query < 2 ms median": true,
      "no sequential scan of a large table": true,
    });
    const slow: Run = { database: "pglite", queries: [query(0.5), query(2, ["mcp_servers"])] };
    expect(met(slow)).toEqual({
      "every query < 2 ms median": false,
      "no sequential scan of a large table": false,
    });
  });

  it("hold the 5,000-server sweep to 15 s and the dashboard to 1 s first render, 200 ms navigations", () => {
    const run: Run = {
      database: "postgres",
      sweep: [sweep(1000, 30), sweep(5000, 14.9)],
      dashboard: {
        mainBundleKbGzip: 100,
        rows: [
          { measure: "servers page, first render (cold cache)", medianMs: 999, p99Ms: 1200, runs: 10 },
          { measure: "navigate to a server's detail", medianMs: 200, p99Ms: 300, runs: 10 },
        ],
      },
    };
    expect(met(run)).toEqual({
      "sweep of 5000 servers < 15 s": true,
      "a health probe ≤ 0.5 ms of scheduler CPU (sweep of 5000)": false,
      "servers page, first render (cold cache) < 1000 ms": true,
      "navigate to a server's detail < 200 ms": false,
    });
  });

  it("hold the gateway to < 1 ms added at p50 and < 5 ms at p99 with 10 clients, and no failed call", () => {
    const within: Run = {
      database: "pglite",
      gateway: { rows: [gatewayRow(10, { addedP50: 0.999, addedP99: 4.99 })], soak: null },
    };
    expect(met(within)).toEqual({
      "gateway adds < 1 ms at p50 (10 clients), 0 failed calls": true,
      "gateway adds < 5 ms at p99 (10 clients), 0 failed calls": true,
    });
    const slow: Run = {
      database: "pglite",
      gateway: { rows: [gatewayRow(10, { addedP50: 1, addedP99: 5 })], soak: null },
    };
    expect(Object.values(met(slow))).toEqual([false, false]);
    const failing: Run = {
      database: "pglite",
      gateway: { rows: [gatewayRow(10, { gatewayErrors: 1 })], soak: null },
    };
    expect(Object.values(met(failing))).toEqual([false, false]);
    // Only the level of 10 clients is judged on latency: 1 and 100 are reported, not held.
    const others: Run = {
      database: "pglite",
      gateway: { rows: [gatewayRow(1, { addedP50: 9 }), gatewayRow(100, { addedP99: 90 })], soak: null },
    };
    expect(Object.keys(met(others))).toEqual([
      "gateway throughput ≥ 50% of direct (100 clients), 0 failed calls",
    ]);
    // 2,000 calls/s at most through the gateway and 5,000 direct: 10 clients wait 5 and 2 ms at least.
    const [p50] = targetsOf(
      {
        database: "pglite",
        gateway: { rows: [gatewayRow(10, { cpuCeilingRps: 2000, directCeilingRps: 5000 })], soak: null },
      },
      machine,
    );
    expect(p50?.bound).toMatch(/a mean of at least 5 ms through the gateway against 2 ms direct$/);
  });

  it("hold gateway throughput with 100 clients to half the direct, and say what the CPU allows", () => {
    const half: Run = {
      database: "postgres",
      gateway: { rows: [gatewayRow(100, { throughputShare: 0.5 })], soak: null },
    };
    expect(met(half)).toEqual({ "gateway throughput ≥ 50% of direct (100 clients), 0 failed calls": true });
    const less: Run = {
      database: "postgres",
      gateway: {
        rows: [gatewayRow(100, { throughputShare: 0.499, cpuCeilingRps: 1800, directCeilingRps: 4000 })],
        soak: null,
      },
    };
    const [target] = targetsOf(less, machine);
    expect(target).toMatchObject({
      met: false,
      measured: expect.stringMatching(/^49.9% \(2400 of 4000 calls\/s\)/),
    });
    // The cores allow 1,800 calls/s through the gateway at its CPU cost, and 4,000 direct.
    expect(target?.bound).toMatch(/at most 45% when both are bound by CPU$/);
  });

  it("hold Switchboard's resident memory over the memory run to a trend under 5%, with no failed call", () => {
    const target =
      "Switchboard's resident memory flat over 300 s of gateway calls (trend < 5%), 0 failed calls";
    const flat: Run = { database: "pglite", gateway: { rows: [], soak: soak({ rssGrowthPct: 4.99 }) } };
    expect(met(flat)).toEqual({ [target]: true });
    const leak: Run = { database: "pglite", gateway: { rows: [], soak: soak({ rssGrowthPct: 5 }) } };
    expect(met(leak)).toEqual({ [target]: false });
    const failing: Run = { database: "pglite", gateway: { rows: [], soak: soak({ errors: 3 }) } };
    expect(met(failing)).toEqual({ [target]: false });
  });

  it("hold metrics to under 5% of a request's server CPU on each hot path, with no error", () => {
    const row = (path: string, costPct: number, errors = 0): MetricsRow => ({
      path,
      runs: 5,
      cpuMsOff: 0.5,
      cpuMsOn: 0.5 * (1 + costPct / 100),
      costPct,
      rpsOff: 2000,
      rpsOn: 1950,
      errors,
      scrapes: 10,
      scrapeKb: 12,
    });
    const run: Run = {
      database: "pglite",
      metrics: [row("gateway tools/call", 4.9), row("GET /mcp/servers/{id}", 5), row("other", -1, 2)],
    };
    expect(met(run)).toEqual({
      "metrics cost < 5% of a request's server CPU (gateway tools/call), 0 errors": true,
      "metrics cost < 5% of a request's server CPU (GET /mcp/servers/{id}), 0 errors": false,
      "metrics cost < 5% of a request's server CPU (other), 0 errors": false,
    });
    expect(targetsOf(run, machine)[0]?.measured).toBe("+4.9% (0.5 → 0.5245 ms CPU a request), 0 errors");
  });

  it("hold the steady state on PostgreSQL to 1.5× the p99 with the scheduler off at 200 req/s, under 50 ms there and 200 ms at 400, with no failed request", () => {
    const rows = (p99At200: number, p99At400: number, failedAt200: Partial<SteadyRow> = {}) => [
      steadyRow("scheduler off", 200, { p99: 30 }),
      steadyRow("scheduler off", 400, { p99: 100 }),
      steadyRow("catch-up", 100, { p99: 199 }),
      steadyRow("steady state", 200, { p99: p99At200, ...failedAt200 }),
      steadyRow("steady state", 400, { p99: p99At400 }),
    ];
    const within: Run = { database: "postgres", steady: steady(rows(45, 199)) };
    expect(met(within)).toEqual({
      "steady state (10000 servers): mix p99 at 200 req/s within 1.5× of the scheduler off, 0 errors": true,
      "steady state (10000 servers): mix p99 < 50 ms at 200 req/s, 0 errors": true,
      "steady state (10000 servers): mix p99 < 200 ms at 400 req/s, 0 errors": true,
      "steady state (10000 servers): checks in the busiest second ≤ 1.5× the mean, over one interval": true,
      "catch-up (10000 overdue): mix p99 < 200 ms at 100 req/s, 0 errors": true,
    });
    // 46 ms is under 50 ms but more than 1.5 × 30 ms; 200 ms at 400 req/s is not under 200.
    expect(Object.values(met({ database: "postgres", steady: steady(rows(46, 200)) }))).toEqual([
      false,
      true,
      false,
      true,
      true,
    ]);
    const failing: Run = { database: "postgres", steady: steady(rows(40, 100, { timeouts: 1 })) };
    expect(Object.values(met(failing)).slice(0, 2)).toEqual([false, false]);
    // API workers measured after it do not stand in for the single process.
    const withWorkers = [
      ...rows(46, 200),
      steadyRow("steady state", 200, { p99: 20, apiProcesses: 2 }),
      steadyRow("steady state", 400, { p99: 50, apiProcesses: 2 }),
    ];
    expect(Object.values(met({ database: "postgres", steady: steady(withWorkers) }))).toEqual([
      false,
      true,
      false,
      true,
      true,
    ]);
    const [ratio] = targetsOf(within, machine);
    expect(ratio?.measured).toMatch(/^45 ms against 30 ms \(1.5×\); p99 45 ms, 0 errors/);
    // 2 + 0.5 + 0.5 ms a request at 200 req/s: 0.6 of the machine's 2 cores.
    expect(ratio?.bound).toMatch(/: 0.6 of 2 cores busy at 200 req\/s$/);
  });

  it("take the steady state's ratio to the scheduler off as the median of alternating runs, every one without a failed request", () => {
    const rows = [steadyRow("scheduler off", 200, { p99: 10 }), steadyRow("steady state", 200, { p99: 16 })];
    const pair = (on: number, off: number, failed = 0) => ({ on, off, ratio: on / off, failed });
    const ratioOf = (runs: ReturnType<typeof pair>[]) => {
      const sorted = runs.map((p) => p.ratio).sort((a, b) => a - b);
      const run: Run = {
        database: "postgres",
        steady: steady(rows, {
          pairs: { rate: 200, runs, medianRatio: sorted[Math.ceil(sorted.length / 2) - 1] as number },
        }),
      };
      return targetsOf(run, machine)[0];
    };
    // 1.6 in the first pair alone, 1.4 at the median of three.
    const median = ratioOf([pair(16, 10), pair(14, 10), pair(12, 10)]);
    expect(median?.target).toBe(
      "steady state (10000 servers): mix p99 at 200 req/s within 1.5× of the scheduler off (median of 3 runs of each, alternating), 0 errors",
    );
    expect(median?.met).toBe(true);
    expect(median?.measured).toMatch(/^1.4× \(16\/10 ms, 14\/10 ms, 12\/10 ms\); 0 failed/);
    expect(ratioOf([pair(16, 10), pair(16, 10), pair(12, 10)])?.met).toBe(false);
    expect(ratioOf([pair(16, 10), pair(14, 10), pair(12, 10, 1)])?.met).toBe(false);
    // One pair alone is the first rows' ratio, as without pairs.
    expect(ratioOf([pair(16, 10)])?.target).toBe(
      "steady state (10000 servers): mix p99 at 200 req/s within 1.5× of the scheduler off, 0 errors",
    );
    expect(ratioOf([pair(16, 10)])?.met).toBe(false);
  });

  it("hold checks to a busiest second of at most 1.5× the mean, and the catch-up to a p99 under 200 ms once drained", () => {
    const peaky: Run = {
      database: "pglite",
      steady: steady([steadyRow("catch-up", 100, { p99: 150 })], {
        checks: { seconds: 60, mean: 33.3, peak: 50, ratio: 1.501 },
      }),
    };
    expect(met(peaky)).toEqual({
      "steady state (10000 servers): checks in the busiest second ≤ 1.5× the mean, over one interval": false,
      "catch-up (10000 overdue): mix p99 < 200 ms at 100 req/s, 0 errors": true,
    });
    // No check recorded at all is no steady state.
    const idle: Run = {
      database: "pglite",
      steady: steady([], { checks: { seconds: 60, mean: 0, peak: 0, ratio: Number.NaN } }),
    };
    expect(Object.values(met(idle))).toEqual([false]);
    // A catch-up whose checks were never all recorded fails, however fast the API answered meanwhile.
    const stuck: Run = {
      database: "pglite",
      steady: steady([steadyRow("catch-up", 100, { p99: 20 })], {
        catchUp: { servers: 10_000, drainSeconds: 30, checkedSeconds: null, checksPerSecond: 0 },
      }),
    };
    expect(met(stuck)["catch-up (10000 overdue): mix p99 < 200 ms at 100 req/s, 0 errors"]).toBe(false);
  });

  it("hold embedded PGlite's list page to a p99 under 100 ms at 50 req/s in the steady state, and 3 ms of server CPU at saturation", () => {
    const list = (phase: SteadyRow["phase"], over: Partial<SteadyRow>) =>
      steadyRow(phase, 50, { load: "list", ...over });
    const saturated = (serverCpuMs: number, failed = 0) => ({
      connections: 10,
      seconds: 20,
      requestsPerSecond: 400,
      p99: 40,
      failed,
      serverCpuMs,
      loadCpuMs: 0.3,
    });
    const run = (p99: number, cpu: number, failures: Partial<SteadyRow> = {}, failed = 0): Run => ({
      database: "pglite",
      steady: steady(
        [
          // At 50 req/s a request pays for waking the idle process too: reported, not the target.
          list("scheduler off", { serverCpuMs: 6 }),
          list("steady state", { p99, ...failures }),
          // The mix's latency targets are PostgreSQL's: on PGlite its rows are reported only.
          steadyRow("steady state", 200, { p99: 900 }),
        ],
        { servers: 2000, listSaturated: saturated(cpu, failed) },
      ),
    });
    const listTarget = "steady state (2000 servers): list page p99 < 100 ms at 50 req/s, 0 errors";
    const cpuTarget =
      "list page ≤ 3 ms of server CPU a request (2000 servers, scheduler off, as fast as 10 connections ask)";
    expect(met(run(99, 3))).toMatchObject({ [listTarget]: true, [cpuTarget]: true });
    expect(met(run(100, 3.01))).toMatchObject({ [listTarget]: false, [cpuTarget]: false });
    expect(met(run(20, 1, {}, 1))).toMatchObject({ [listTarget]: true, [cpuTarget]: false });
    expect(met(run(20, 1, { non2xx: 1 }))).toMatchObject({ [listTarget]: false });
    expect(Object.keys(met(run(20, 1)))).not.toContain(
      "steady state (2000 servers): mix p99 < 50 ms at 200 req/s, 0 errors",
    );
    const cpu = targetsOf(run(20, 2.5), machine).find((t) => t.target === cpuTarget);
    expect(cpu?.measured).toBe(
      "2.5 ms at 400 req/s, 0 failed; 6 ms at 50 req/s, waking the idle process included",
    );
  });
});
