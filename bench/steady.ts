import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { FleetOverview } from "../packages/shared/src/servers";
import { startCpuMeter, timeFixedWork } from "./lib/cpu";
import type { BenchDbKind } from "./lib/database";
import { startFleet } from "./lib/fleet";
import { load } from "./lib/load";
import type { OpenLoopRequest, OpenLoopResult, OpenLoopSpec } from "./lib/open-loop";
import { countsPerSecond, type PeakToMean, peakToMean } from "./lib/open-loop-stats";
import { median, round } from "./lib/stats";
import type { SteadyServerCommand, SteadySetup } from "./lib/steady-server";

const SERVER = fileURLToPath(new URL("./lib/steady-server.ts", import.meta.url));
const SENDER = fileURLToPath(new URL("./lib/open-loop.ts", import.meta.url));

export interface SteadyOptions {
  /** Servers registered in the tenant (the issue's: 10,000 on PostgreSQL, 2,000 on PGlite). */
  servers: number;
  /** Real MCP servers (the SDK's, on loopback ports of their own) whose URLs the servers share. */
  fleet: number;
  /** Every server's check interval (its check_interval_seconds; 60 by default, as registered). */
  intervalSeconds: number;
  /** Seconds of load at each offered rate. */
  seconds: number;
  /** Offered rates of the mix, requests/s, measured with the scheduler off and in the steady state. */
  rates: number[];
  /** Offered rate of the list page alone (0: not measured), both ways. */
  listRate: number;
  /** Offered rate of the mix while every server's check is overdue and the scheduler catches up. */
  catchUpRate: number;
  /** The longest the catch-up may take before the benchmark gives up on it. */
  catchUpMaxSeconds: number;
  /**
   * API worker processes (WEB_CONCURRENCY) the steady state is measured with too, after the single
   * process; below 2 it is not. PostgreSQL (and Redis) only, as in production.
   */
  workers: number;
  /**
   * Runs of the mix at `pairRate` with the scheduler working and then off, one after the other,
   * the first pair included (its runs are the steady state's and the scheduler off's at that
   * rate): two p99s measured minutes apart move with a shared machine more than the checks move
   * them, so their ratio is taken as the median over the pairs (odd, for a median that was
   * measured). Below 2 only the first pair is measured.
   */
  pairs: number;
  pairRate: number;
}

export type SteadyPhase = "scheduler off" | "catch-up" | "steady state";

export interface SteadyRow {
  phase: SteadyPhase;
  /** API processes serving the load: 1, or the workers of WEB_CONCURRENCY (the scheduler runs apart). */
  apiProcesses: number;
  /** The weighted mix, or the list page alone. */
  load: "mix" | "list";
  offeredRps: number;
  seconds: number;
  sent: number;
  /** Latency of the 2xx answers from each request's scheduled send time, in ms. */
  p50: number;
  p99: number;
  max: number;
  /** The p99 of each kind of request in the mix, in ms. */
  p99ByKind: string;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Health checks recorded per second during the run. */
  checksPerSecond: number;
  /** The overview's checks.lagSeconds and checks.overdue when the run ended, and its servers by health. */
  lagSeconds: number;
  overdue: number;
  health: string;
  /**
   * CPU ms per request sent: Switchboard's process (with the scheduler's work when it runs, and
   * PGlite when embedded), PostgreSQL's, the load generator's.
   */
  serverCpuMs: number;
  databaseCpuMs: number | null;
  loadCpuMs: number;
  /** How late the load generator sent at p99 (its own queueing), ms. */
  sendLagP99: number;
  /** The machine's time for a fixed piece of work just before the run (lib/cpu timeFixedWork), ms. */
  machineMs: number;
}

export interface SaturatedList {
  connections: number;
  seconds: number;
  requestsPerSecond: number;
  p99: number;
  failed: number;
  /** CPU ms per request: Switchboard's process (PGlite in it), and the load generator's. */
  serverCpuMs: number;
  loadCpuMs: number;
}

export interface SteadyResult {
  servers: number;
  fleet: number;
  intervalSeconds: number;
  seconds: number;
  rows: SteadyRow[];
  /**
   * From every server overdue to the overview's overdue = 0 (every check started), and to every
   * server's check recorded; null if that took longer than catchUpMaxSeconds. The catch-up's load
   * runs until both.
   */
  catchUp: {
    servers: number;
    drainSeconds: number | null;
    checkedSeconds: number | null;
    checksPerSecond: number;
  };
  /** Checks recorded per second over one interval of the steady state. */
  checks: PeakToMean;
  /**
   * The list page alone as fast as Switchboard serves it, the scheduler off (measured with the
   * list rate): what a page costs when requests keep the process busy. At a low offered rate each
   * request also pays for waking an idle process, which on a virtual machine is most of it.
   */
  listSaturated?: SaturatedList;
  /** The MCP servers' CPU ms per check in the steady state. */
  fleetCpuMsPerCheck: number;
  /** The mix's p99 at `rate` with the scheduler working and off, pair by pair (see SteadyOptions). */
  pairs?: SteadyPairs;
}

export interface SteadyPair {
  on: number;
  off: number;
  ratio: number;
  /** Failed requests of the run with the scheduler working. */
  failed: number;
}

export interface SteadyPairs {
  rate: number;
  runs: SteadyPair[];
  medianRatio: number;
}

/** Switchboard's process (lib/steady-server.ts); `ask` fails if it exits first. */
function startSteadyServer() {
  // BENCH_CPU_PROF=<folder>: Switchboard's process (and its threads) write V8 CPU profiles there.
  const profile = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = fork(SERVER, { execArgv: ["--import", "tsx", ...profile] });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`Switchboard exited with ${code}`))),
  );
  exited.catch(() => {}); // read by each ask
  const ask = <T>(command: SteadyServerCommand) =>
    Promise.race([
      new Promise<T>((resolve, reject) => {
        child.once("message", (m: T & { error?: string }) =>
          m.error ? reject(new Error(m.error)) : resolve(m),
        );
        child.send(command);
      }),
      exited,
    ]);
  return { ask, kill: () => child.kill() };
}

/** Runs the open-loop load generator (lib/open-loop.ts) in a process of its own; `stop` ends it early. */
function openLoop(spec: OpenLoopSpec) {
  const child = fork(SENDER, { execArgv: ["--import", "tsx"] });
  const result = new Promise<OpenLoopResult>((resolve, reject) => {
    child.once("message", (m: { result?: OpenLoopResult; error?: string }) =>
      m.result ? resolve(m.result) : reject(new Error(m.error)),
    );
    child.once("exit", (code) => code !== 0 && reject(new Error(`the load generator exited with ${code}`)));
  });
  child.send(spec);
  return { result, stop: () => child.connected && child.send("stop") };
}

/** A run's requests that failed: errors, timeouts and answers other than 2xx. */
export const failedOf = (r: SteadyRow) => r.errors + r.timeouts + r.non2xx;

/**
 * The fleet stands in for MCP servers on other hosts: on this machine it takes the cores only when
 * Switchboard, its database and the load leave them idle (it took 1.4 ms of CPU a check, more than
 * Switchboard's own 1.1, and at full priority its answers competed with the API for two cores).
 */
const FLEET_NICE = 19;

/** Seconds a pair's scheduler works before its run (see the pairs below). */
const RESUME_SECONDS = 10;

/** Seconds of load before each run, not reported. */
const WARM_UP_SECONDS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The dashboard's and API clients' mix: 60% pages of the list, 20% one server, 10% search, 5% health history, 5% writes. */
function mixOf(ids: string[]): OpenLoopRequest[] {
  const some = ids.length > 2000 ? ids.filter((_, i) => i % Math.ceil(ids.length / 2000) === 0) : ids;
  return [
    {
      kind: "list",
      weight: 60,
      method: "GET",
      paths: Array.from({ length: 7 }, (_, t) => `/mcp/servers?pageSize=50&tag=tag-${t}&sort=-updatedAt`),
    },
    { kind: "get", weight: 20, method: "GET", paths: some.map((id) => `/mcp/servers/${id}`) },
    {
      kind: "search",
      weight: 10,
      method: "GET",
      paths: Array.from({ length: 50 }, (_, i) => `/mcp/servers?q=thing%20${i * 37 + 11}&pageSize=50`),
    },
    { kind: "health", weight: 5, method: "GET", paths: some.map((id) => `/mcp/servers/${id}/health`) },
    {
      kind: "write",
      weight: 5,
      method: "PATCH",
      paths: some.map((id) => `/mcp/servers/${id}`),
      body: JSON.stringify({ description: "Edited while under load, $n" }),
    },
  ];
}

/**
 * The API in a steady state of health checks, and while they catch up. One tenant registers
 * `servers` servers, each checked every `intervalSeconds`, whose URLs take in turn those of a
 * fleet of `fleet` real MCP servers (in a process of its own; many registered servers to each
 * listening one, as 10,000 SDK servers would be too heavy for the machine, each still probed in
 * full). Switchboard runs in a process of its own as `npm start` runs it, and an open-loop load
 * generator in another offers the mix at fixed rates (and the list page alone), timing each answer
 * from its scheduled send time:
 *
 * 1. catch-up: every check overdue, the scheduler started, the mix offered at `catchUpRate` until
 *    the overview reports none overdue (the drain time: every check started) and every server's
 *    check is recorded;
 * 2. after half an interval more (the catch-up's checks come due again from then on, spread by
 *    their phases), in the steady state: the mix at each rate, while the checks recorded per
 *    second over one interval give their peak-to-mean ratio;
 * 3. with the scheduler stopped: the same rates again, on the same fleet as its checks left it
 *    (the baseline the steady state is compared with), and the list page alone;
 * 4. `pairs` - 1 more pairs at `pairRate`: the scheduler started again where it left off, a run,
 *    the scheduler stopped, a run; the steady state's ratio to the scheduler off is their median.
 */
export async function benchSteady(kind: BenchDbKind, opts: SteadyOptions): Promise<SteadyResult> {
  const fleet = startFleet(opts.fleet, 0, {}, { nice: FLEET_NICE });
  const switchboard = startSteadyServer();
  try {
    const urls = await fleet.urls;
    const setup = await switchboard.ask<SteadySetup>({
      type: "setup",
      kind,
      servers: opts.servers,
      urls,
      intervalSeconds: opts.intervalSeconds,
      admins: 10,
      history: 5,
    });
    const mix = mixOf(setup.ids);
    const list = mix.filter((m) => m.kind === "list");
    const fleetOverview = async () => {
      const res = await fetch(`${setup.url}/mcp/servers/overview`, { headers: setup.owner });
      if (res.status !== 200) throw new Error(`overview: ${res.status} ${await res.text()}`);
      return (await res.json()) as FleetOverview;
    };
    const overview = async () => (await fleetOverview()).checks;
    /**
     * Waits (30 s at most) until Switchboard answers the overview within 100 ms twice in a row:
     * requests an overloaded run left queued must not be counted against the next.
     */
    const settle = async () => {
      const t0 = performance.now();
      let quick = 0;
      while (quick < 2 && performance.now() - t0 < 30_000) {
        const t = performance.now();
        await fleetOverview();
        quick = performance.now() - t < 100 ? quick + 1 : 0;
        await sleep(200);
      }
    };
    const cpuMs = async () => (await switchboard.ask<{ cpuMs: number }>({ type: "cpu" })).cpuMs;
    const checksBetween = async (fromMs: number, toMs: number) =>
      (await switchboard.ask<{ times: number[] }>({ type: "checks", fromMs, toMs })).times;

    let url = setup.url;
    let apiProcesses = 1;
    const spec = (rate: number, requests: OpenLoopRequest[], seconds = opts.seconds): OpenLoopSpec => ({
      url,
      rate,
      seconds,
      mix: requests,
      sessions: setup.sessions,
    });

    /**
     * One run at an offered rate; `during` runs alongside (the catch-up stops the load when drained).
     * Each run follows WARM_UP_SECONDS of its own load, not reported, as a running instance has it:
     * after the pause between two runs every cache has expired and every idle connection waited,
     * and the first second of a run would otherwise measure a restart.
     */
    const measure = async (
      phase: SteadyPhase,
      load: "mix" | "list",
      rate: number,
      during?: (stop: () => void) => Promise<void>,
    ): Promise<SteadyRow> => {
      await openLoop(spec(rate, load === "mix" ? mix : list, WARM_UP_SECONDS)).result;
      await settle();
      const machineMs = timeFixedWork();
      const cpu0 = await cpuMs();
      const meter = startCpuMeter({ postgres: kind === "postgres" });
      const from = Date.now();
      const sender = openLoop(
        spec(rate, load === "mix" ? mix : list, during ? opts.catchUpMaxSeconds : undefined),
      );
      await during?.(sender.stop);
      const r = await sender.result;
      const to = Date.now();
      const spent = meter();
      const serverMs = (await cpuMs()) - cpu0;
      const checks = (await checksBetween(from, to)).length;
      const { checks: lag, counts } = await fleetOverview();
      const per = (ms: number) => (r.sent ? round(ms / r.sent, 3) : 0);
      const row: SteadyRow = {
        phase,
        apiProcesses,
        load,
        offeredRps: rate,
        seconds: r.seconds,
        sent: r.sent,
        p50: r.ok.p50,
        p99: r.ok.p99,
        max: r.ok.max,
        p99ByKind: Object.entries(r.byKind)
          .map(([k, l]) => `${k} ${l.p99}`)
          .join(" · "),
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
        checksPerSecond: round(checks / ((to - from) / 1000), 1),
        lagSeconds: lag.lagSeconds,
        overdue: lag.overdue,
        health: Object.entries(counts)
          .filter(([, n]) => n > 0)
          .map(([status, n]) => `${status} ${n}`)
          .join(" · "),
        serverCpuMs: per(serverMs),
        databaseCpuMs: spent.postgresMs === null ? null : per(spent.postgresMs),
        loadCpuMs: per(r.loadCpuMs),
        sendLagP99: r.sendLagP99,
        machineMs,
      };
      console.error(
        `  steady ${kind}: ${phase}${apiProcesses > 1 ? ` (${apiProcesses} API workers)` : ""}, ${load} at ${rate} req/s: p50 ${row.p50} ms, p99 ${row.p99} ms, ` +
          `${row.errors + row.timeouts + row.non2xx} failed, ${row.checksPerSecond} checks/s, lag ${row.lagSeconds} s` +
          (r.failures.length ? `\n    ${r.failures.join("\n    ")}` : ""),
      );
      return row;
    };

    /** The list page by a closed loop of 10 connections, as fast as it is answered. */
    const saturate = async (): Promise<SaturatedList> => {
      await settle();
      const connections = 10;
      const seconds = Math.min(opts.seconds, 20);
      const cpu0 = await cpuMs();
      const r = await load({
        url,
        connections,
        durationSeconds: seconds,
        kind: "random-path",
        paths: list.flatMap((m) => m.paths),
        sessions: setup.sessions,
      });
      const serverMs = (await cpuMs()) - cpu0;
      const per = (ms: number) => (r.requests ? round(ms / r.requests, 3) : 0);
      const saturated = {
        connections,
        seconds,
        requestsPerSecond: r.requestsPerSecond,
        p99: r.p99,
        failed: r.errors + r.timeouts + r.non2xx,
        serverCpuMs: per(serverMs),
        loadCpuMs: per(r.loadCpuMs),
      };
      console.error(
        `  steady ${kind}: scheduler off, list by ${connections} connections: ${saturated.requestsPerSecond} req/s, ` +
          `p99 ${saturated.p99} ms, ${saturated.failed} failed, ${saturated.serverCpuMs} ms of server CPU a request`,
      );
      return saturated;
    };

    const rows: SteadyRow[] = [];
    // Catch-up: every check overdue at once, as after an outage, a restart or a bulk import.
    const { overdue } = await switchboard.ask<{ overdue: number }>({ type: "overdue" });
    let drainSeconds: number | null = null;
    let checkedSeconds: number | null = null;
    const catchUpFrom = Date.now();
    const catchUpRow = await measure("catch-up", "mix", opts.catchUpRate, async (stop) => {
      await switchboard.ask({ type: "scheduler", on: true });
      const t0 = performance.now();
      const elapsed = () => round((performance.now() - t0) / 1000, 1);
      while (elapsed() < opts.catchUpMaxSeconds) {
        await sleep(500);
        if (drainSeconds === null && (await overview()).overdue === 0) drainSeconds = elapsed();
        if (drainSeconds === null) continue;
        const { checked } = await switchboard.ask<{ checked: number }>({
          type: "checked",
          sinceMs: catchUpFrom,
        });
        if (checked >= overdue) {
          checkedSeconds = elapsed();
          break;
        }
      }
      stop();
    });
    rows.push(catchUpRow);
    const catchUpChecks = (await checksBetween(catchUpFrom, Date.now())).length;
    console.error(
      `  steady ${kind}: ${overdue} overdue checks all started in ${drainSeconds ?? "–"} s, ` +
        `all recorded in ${checkedSeconds ?? `more than ${opts.catchUpMaxSeconds}`} s`,
    );

    // A check done at t comes due again at its phase's first slot after t + interval/2.
    await sleep((opts.intervalSeconds / 2) * 1000);
    const steadyFrom = Math.ceil(Date.now() / 1000) * 1000;
    const fleetCpu0 = await fleet.cpuMs();
    for (const rate of opts.rates) rows.push(await measure("steady state", "mix", rate));
    if (opts.listRate > 0) rows.push(await measure("steady state", "list", opts.listRate));
    // One whole interval of checks, however short the runs were (and their last batch recorded).
    const steadyTo = steadyFrom + opts.intervalSeconds * 1000;
    await sleep(Math.max(0, steadyTo + 1000 - Date.now()));
    const fleetCpuMs = (await fleet.cpuMs()) - fleetCpu0;
    const steadyTimes = await checksBetween(steadyFrom, steadyTo);
    const allSteadyChecks = (await checksBetween(steadyFrom, Date.now())).length;
    const checks = peakToMean(countsPerSecond(steadyTimes, steadyFrom, opts.intervalSeconds));

    // The same steady state served by API workers (WEB_CONCURRENCY), the scheduler in the primary.
    if (kind === "postgres" && opts.workers > 1) {
      ({ url } = await switchboard.ask<{ url: string }>({ type: "workers", count: opts.workers }));
      apiProcesses = opts.workers;
      for (const rate of opts.rates) rows.push(await measure("steady state", "mix", rate));
      ({ url } = await switchboard.ask<{ url: string }>({ type: "workers", count: 0 }));
      apiProcesses = 1;
    }

    // The same fleet, as its checks left it, with the scheduler stopped: what the API costs
    // without the checks, not without their results (a fleet never checked answers smaller pages).
    await switchboard.ask({ type: "scheduler", on: false });
    for (const rate of opts.rates) rows.push(await measure("scheduler off", "mix", rate));
    if (opts.listRate > 0) rows.push(await measure("scheduler off", "list", opts.listRate));
    const listSaturated = opts.listRate > 0 ? await saturate() : undefined;

    // More pairs at the pair rate: the scheduler working (from where it left off, as if it had
    // never stopped), then off.
    const pairOf = (on: SteadyRow | undefined, off: SteadyRow | undefined): SteadyPair[] =>
      on && off
        ? [{ on: on.p99, off: off.p99, ratio: round(on.p99 / off.p99, 2), failed: failedOf(on) }]
        : [];
    const first = (phase: SteadyPhase) =>
      rows.find((r) => r.phase === phase && r.load === "mix" && r.offeredRps === opts.pairRate);
    const pairs = pairOf(first("steady state"), first("scheduler off"));
    while (pairs.length > 0 && pairs.length < opts.pairs) {
      await switchboard.ask({ type: "scheduler", on: true, skipMissed: true });
      // The checks that came due while the rows were moved and vacuumed start together.
      await sleep(RESUME_SECONDS * 1000);
      const on = await measure("steady state", "mix", opts.pairRate);
      await switchboard.ask({ type: "scheduler", on: false });
      const off = await measure("scheduler off", "mix", opts.pairRate);
      rows.push(on, off);
      pairs.push(...pairOf(on, off));
      console.error(
        `  steady ${kind}: pair ${pairs.length} at ${opts.pairRate} req/s: ${on.p99} against ${off.p99} ms`,
      );
    }
    return {
      servers: opts.servers,
      fleet: opts.fleet,
      intervalSeconds: opts.intervalSeconds,
      seconds: opts.seconds,
      rows,
      catchUp: {
        servers: overdue,
        drainSeconds,
        checkedSeconds,
        checksPerSecond: checkedSeconds ? round(catchUpChecks / checkedSeconds, 1) : 0,
      },
      checks: { ...checks, mean: round(checks.mean, 2), ratio: round(checks.ratio, 2) },
      fleetCpuMsPerCheck: allSteadyChecks ? round(fleetCpuMs / allSteadyChecks, 3) : 0,
      ...(listSaturated ? { listSaturated } : {}),
      ...(pairs.length
        ? { pairs: { rate: opts.pairRate, runs: pairs, medianRatio: median(pairs.map((p) => p.ratio)) } }
        : {}),
    };
  } finally {
    await switchboard.ask({ type: "stop" }).catch(() => switchboard.kill());
    await fleet.stop();
  }
}
