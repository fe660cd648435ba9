import { fork } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import type { BenchDbKind } from "./lib/database";
import { startFleet } from "./lib/fleet";
import type { GatewayServerCommand } from "./lib/gateway-server";
import { load } from "./lib/load";
import type { LoadResult, LoadScenario } from "./lib/load-worker";
import type { MemorySample } from "./lib/memory";
import { memoryTrend } from "./lib/memory";
import { median, round } from "./lib/stats";

const SERVER = fileURLToPath(new URL("./lib/gateway-server.ts", import.meta.url));

/** The call every client makes: the echo tool of a stateless MCP server that answers JSON. */
export const CALL = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "echo", arguments: { text: "hello through the gateway" } },
});
export const MCP_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
};

export interface GatewayOptions {
  /** Concurrent clients at each level (each with a connection and a key of its own). */
  clients: number[];
  /** Seconds of load per level and way (direct, through the gateway) in each run. */
  seconds: number;
  /** Rounds over every level; direct and gateway interleaved, so that a noisy spell is shared. */
  runs: number;
  /** Seconds of the memory run through the gateway (0: none), and its clients. */
  soakSeconds: number;
  soakClients: number;
}

export interface GatewayRow {
  clients: number;
  runs: number;
  /** Requests/s: the medians of the runs. */
  directRps: number;
  gatewayRps: number;
  /** Gateway throughput as a share of calling the server directly. */
  throughputShare: number;
  /** Latencies in ms, to the microsecond: the medians of the runs' p50 and p99. */
  directP50: number;
  gatewayP50: number;
  /** What the gateway adds: its p50 (p99) less the direct p50 (p99). */
  addedP50: number;
  directP99: number;
  gatewayP99: number;
  addedP99: number;
  /** Calls that failed in any way (connection, timeout, non-2xx, JSON-RPC error), all runs. */
  directErrors: number;
  gatewayErrors: number;
  /** CPU ms per direct call (the MCP server's and the load generator's), and the calls/s it allows. */
  directCpuMs: number;
  directCeilingRps: number;
  /** CPU ms per call through the gateway: Switchboard's process, the MCP server's, the load generator's. */
  switchboardCpuMs: number;
  upstreamCpuMs: number;
  loadCpuMs: number;
  /** The most calls/s through the gateway that the machine's cores allow at those costs. */
  cpuCeilingRps: number;
}

export interface SoakResult {
  seconds: number;
  clients: number;
  requestsPerSecond: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  /** The first seconds, left out of the trend: the heap and JIT settle while the load starts. */
  warmupSeconds: number;
  /** Switchboard's resident memory on the least-squares line through the samples after warm-up. */
  rssStartMb: number;
  rssEndMb: number;
  rssGrowthPct: number;
  rssPeakMb: number;
  heapStartMb: number;
  heapEndMb: number;
  /** The median resident memory of each minute (MiB), to show the shape of the run. */
  rssByMinuteMb: string;
}

export interface GatewayResult {
  rows: GatewayRow[];
  soak: SoakResult | null;
}

/** Switchboard's own process (lib/gateway-server.ts): `ask` sends a command and awaits its answer. */
export function startSwitchboard() {
  // BENCH_CPU_PROF=<folder>: Switchboard's process writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  // --expose-gc: the memory run samples what is held after a full collection too.
  const child = fork(SERVER, { execArgv: ["--import", "tsx", "--expose-gc", ...profile] });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`Switchboard exited with ${code}`))),
  );
  exited.catch(() => {}); // read by each ask
  const ask = <T>(command: GatewayServerCommand) =>
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

/** One call made by hand before any load: both ways must answer the echo tool's result. */
export async function checkCall(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: "POST", headers: { ...MCP_HEADERS, ...headers }, body: CALL });
  const body = (await res.json()) as { result?: { content?: { text?: string }[] } };
  if (res.status !== 200 || body.result?.content?.[0]?.text !== "hello through the gateway")
    throw new Error(`the echo call through ${url} answered ${res.status} ${JSON.stringify(body)}`);
}

export const failures = (r: LoadResult) => r.errors + r.timeouts + r.non2xx + (r.rpcErrors ?? 0);

/**
 * The gateway's cost: one stateless MCP server answering JSON (the SDK's, in a process of its own)
 * is called with its echo tool directly and through Switchboard (in a process of its own, every
 * client with a key of its own), by one load generator, at each level of concurrent clients; then
 * a run of `soakSeconds` through the gateway samples Switchboard's memory every second.
 */
export async function benchGateway(kind: BenchDbKind, opts: GatewayOptions): Promise<GatewayResult> {
  const upstream = startFleet(1, 0, { name: "echo", stateless: true, jsonResponse: true });
  const switchboard = startSwitchboard();
  try {
    const [upstreamUrl] = await upstream.urls;
    if (!upstreamUrl) throw new Error("the MCP server did not start");
    const maxClients = Math.max(...opts.clients, opts.soakClients);
    const { gatewayUrl, keys } = await switchboard.ask<{ gatewayUrl: string; keys: string[] }>({
      type: "setup",
      kind,
      upstreamUrl,
      keys: maxClients,
    });
    await checkCall(upstreamUrl, {});
    await checkCall(gatewayUrl, { authorization: `Bearer ${keys[0]}` });

    const direct = new URL(upstreamUrl);
    const gateway = new URL(gatewayUrl);
    const scenario = (way: "direct" | "gateway", clients: number, seconds: number): LoadScenario => {
      const target = way === "direct" ? direct : gateway;
      return {
        url: target.origin,
        paths: [target.pathname],
        kind: "mcp-call",
        body: CALL,
        connections: clients,
        durationSeconds: seconds,
        sessions:
          way === "direct"
            ? [MCP_HEADERS]
            : keys.slice(0, clients).map((key) => ({ ...MCP_HEADERS, authorization: `Bearer ${key}` })),
      };
    };
    const cpu = async () => ({
      switchboard: (await switchboard.ask<{ cpuMs: number }>({ type: "cpu" })).cpuMs,
      upstream: await upstream.cpuMs(),
    });

    // Untimed: the JIT, connection pools and the key and server caches warm up.
    await load(scenario("direct", 10, 2));
    await load(scenario("gateway", 10, 2));

    /** Per level: each run's results, and the CPU ms each party spent in it. */
    type Level = { direct: LoadResult[]; gateway: LoadResult[]; directCpu: number[]; gatewayCpu: number[][] };
    const measured = new Map<number, Level>();
    for (let run = 1; run <= opts.runs; run++) {
      for (const clients of opts.clients) {
        const level = measured.get(clients) ?? { direct: [], gateway: [], directCpu: [], gatewayCpu: [] };
        measured.set(clients, level);
        const start = await cpu();
        const alone = await load(scenario("direct", clients, opts.seconds));
        const between = await cpu();
        const through = await load(scenario("gateway", clients, opts.seconds));
        const end = await cpu();
        level.direct.push(alone);
        level.gateway.push(through);
        level.directCpu.push(between.upstream - start.upstream + alone.loadCpuMs);
        level.gatewayCpu.push([
          end.switchboard - between.switchboard,
          end.upstream - between.upstream,
          through.loadCpuMs,
        ]);
        console.error(
          `  gateway ${kind} (run ${run} of ${opts.runs}), ${clients} clients: ` +
            `direct ${Math.round(alone.requestsPerSecond)} req/s p50 ${alone.p50Precise} ms p99 ${alone.p99Precise} ms; ` +
            `gateway ${Math.round(through.requestsPerSecond)} req/s p50 ${through.p50Precise} ms p99 ${through.p99Precise} ms`,
        );
      }
    }

    const rows = [...measured].map(([clients, level]): GatewayRow => {
      const med = (results: LoadResult[], pick: (r: LoadResult) => number) => median(results.map(pick));
      const directRps = med(level.direct, (r) => r.requestsPerSecond);
      const gatewayRps = med(level.gateway, (r) => r.requestsPerSecond);
      const p = (results: LoadResult[], q: "p50Precise" | "p99Precise") =>
        round(
          med(results, (r) => r[q] ?? Number.NaN),
          3,
        );
      const calls = (results: LoadResult[]) => results.reduce((s, r) => s + r.requests, 0);
      const perCall = (ms: number, results: LoadResult[]) => (calls(results) ? ms / calls(results) : 0);
      const sum = (i: number) => level.gatewayCpu.reduce((s, c) => s + (c[i] ?? 0), 0);
      const [sb, up, ld] = [0, 1, 2].map((i) => perCall(sum(i), level.gateway)) as [number, number, number];
      const direct = perCall(
        level.directCpu.reduce((s, c) => s + c, 0),
        level.direct,
      );
      const ceiling = (ms: number) => (ms > 0 ? Math.round((cpus().length * 1000) / ms) : 0);
      return {
        clients,
        runs: level.gateway.length,
        directRps: round(directRps, 1),
        gatewayRps: round(gatewayRps, 1),
        throughputShare: round(directRps ? gatewayRps / directRps : 0, 3),
        directP50: p(level.direct, "p50Precise"),
        gatewayP50: p(level.gateway, "p50Precise"),
        addedP50: round(p(level.gateway, "p50Precise") - p(level.direct, "p50Precise"), 3),
        directP99: p(level.direct, "p99Precise"),
        gatewayP99: p(level.gateway, "p99Precise"),
        addedP99: round(p(level.gateway, "p99Precise") - p(level.direct, "p99Precise"), 3),
        directErrors: level.direct.reduce((s, r) => s + failures(r), 0),
        gatewayErrors: level.gateway.reduce((s, r) => s + failures(r), 0),
        directCpuMs: round(direct, 3),
        directCeilingRps: ceiling(direct),
        switchboardCpuMs: round(sb, 3),
        upstreamCpuMs: round(up, 3),
        loadCpuMs: round(ld, 3),
        cpuCeilingRps: ceiling(sb + up + ld),
      };
    });

    let soak: SoakResult | null = null;
    if (opts.soakSeconds > 0) {
      console.error(
        `  gateway ${kind}: ${opts.soakClients} clients for ${opts.soakSeconds} s, sampling Switchboard's memory`,
      );
      await switchboard.ask({ type: "watch", everyMs: 1000, gcEvery: 10 });
      const result = await load(scenario("gateway", opts.soakClients, opts.soakSeconds));
      const { samples } = await switchboard.ask<{ samples: MemorySample[] }>({ type: "samples" });
      soak = {
        seconds: opts.soakSeconds,
        clients: opts.soakClients,
        requestsPerSecond: round(result.requestsPerSecond, 1),
        requests: result.requests,
        errors: failures(result),
        p50: result.p50Precise ?? Number.NaN,
        p99: result.p99Precise ?? Number.NaN,
        ...memoryTrend(samples, opts.soakSeconds),
      };
      console.error(
        `  gateway ${kind}: ${soak.requests} calls, resident memory ${soak.rssStartMb} → ${soak.rssEndMb} MiB (${soak.rssGrowthPct}%)`,
      );
    }
    return { rows, soak };
  } finally {
    await switchboard.ask({ type: "stop" }).catch(() => switchboard.kill());
    await upstream.stop();
  }
}
