import { CALL, checkCall, failures, MCP_HEADERS, startSwitchboard } from "./gateway";
import type { BenchDbKind } from "./lib/database";
import { startFleet } from "./lib/fleet";
import type { GatewaySetup } from "./lib/gateway-server";
import { load } from "./lib/load";
import type { LoadResult, LoadScenario } from "./lib/load-worker";
import { median, round } from "./lib/stats";

export interface MetricsOptions {
  /** Concurrent clients on each hot path. */
  clients: number;
  /** Seconds of load per path, per Switchboard, in each run. */
  seconds: number;
  /** Rounds; the two Switchboards take turns within each, so that a noisy spell is shared. */
  runs: number;
  /** How often /metrics is scraped while the instrumented one is under load. */
  scrapeEverySeconds: number;
}

export interface MetricsRow {
  /** The hot path: a gateway tool call, or an API read of one server. */
  path: string;
  runs: number;
  /** Switchboard's CPU ms per request, the median of the runs, without and with metrics. */
  cpuMsOff: number;
  cpuMsOn: number;
  /**
   * What metrics add to a request's server CPU, in % of it without them: the median over the runs
   * of each run's pair (taken back to back, so that both share the machine's noise of the moment).
   */
  costPct: number;
  /** Requests/s, the medians of the runs. */
  rpsOff: number;
  rpsOn: number;
  /** Failed requests, all runs, both ways. */
  errors: number;
  /** Scrapes made while measuring, and the size of the last one. */
  scrapes: number;
  scrapeKb: number;
}

type Instance = { ask: ReturnType<typeof startSwitchboard>["ask"]; kill(): void; setup: GatewaySetup };

/**
 * What Prometheus metrics cost on the hot paths: two Switchboards in processes of their own, one
 * with metrics (the default) and one with METRICS_PORT=0, take turns under the same load — a tool
 * call through the gateway, and an API read of a server — while the instrumented one is scraped as
 * Prometheus would; each one's CPU time per request is compared.
 */
export async function benchMetrics(kind: BenchDbKind, opts: MetricsOptions): Promise<MetricsRow[]> {
  const upstream = startFleet(1, 0, { name: "echo", stateless: true, jsonResponse: true });
  const started: Instance[] = [];
  try {
    const [upstreamUrl] = await upstream.urls;
    if (!upstreamUrl) throw new Error("the MCP server did not start");
    for (const metrics of [false, true]) {
      const process = startSwitchboard();
      const setup = await process.ask<GatewaySetup>({
        type: "setup",
        kind,
        upstreamUrl,
        keys: opts.clients,
        metrics,
      });
      started.push({ ...process, setup });
      await checkCall(setup.gatewayUrl, { authorization: `Bearer ${setup.keys[0]}` });
    }
    const [off, on] = started as [Instance, Instance];
    if (off.setup.metricsUrl !== null || on.setup.metricsUrl === null)
      throw new Error("expected one Switchboard without metrics and one serving them");

    const paths = {
      "gateway tools/call": (i: Instance): LoadScenario => {
        const url = new URL(i.setup.gatewayUrl);
        return {
          url: url.origin,
          paths: [url.pathname],
          kind: "mcp-call",
          body: CALL,
          connections: opts.clients,
          durationSeconds: opts.seconds,
          sessions: i.setup.keys.map((key) => ({ ...MCP_HEADERS, authorization: `Bearer ${key}` })),
        };
      },
      "GET /mcp/servers/{id}": (i: Instance): LoadScenario => {
        const url = new URL(i.setup.apiUrl);
        return {
          url: url.origin,
          paths: [url.pathname],
          kind: "path",
          connections: opts.clients,
          durationSeconds: opts.seconds,
          sessions: [{ cookie: i.setup.cookie }],
        };
      },
    };

    let scrapes = 0;
    let scrapeBytes = 0;
    const scrape = async () => {
      const res = await fetch(on.setup.metricsUrl as string);
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      scrapeBytes = (await res.text()).length;
      scrapes++;
    };
    /** Switchboard's CPU ms per request under one scenario, with scrapes every few seconds for `on`. */
    const measure = async (instance: Instance, scenario: LoadScenario) => {
      const scraping =
        instance === on ? setInterval(() => void scrape(), opts.scrapeEverySeconds * 1000) : null;
      const before = (await instance.ask<{ cpuMs: number }>({ type: "cpu" })).cpuMs;
      const result = await load(scenario).finally(() => scraping && clearInterval(scraping));
      const after = (await instance.ask<{ cpuMs: number }>({ type: "cpu" })).cpuMs;
      return { result, cpuMs: result.requests ? (after - before) / result.requests : Number.NaN };
    };

    // Untimed: the JIT, connection pools and caches warm up on both.
    for (const instance of started)
      for (const make of Object.values(paths)) await load({ ...make(instance), durationSeconds: 2 });
    await scrape();

    const rows: MetricsRow[] = [];
    for (const [path, make] of Object.entries(paths)) {
      const cpu = { off: [] as number[], on: [] as number[] };
      const results = { off: [] as LoadResult[], on: [] as LoadResult[] };
      for (let run = 1; run <= opts.runs; run++) {
        // Alternate which goes first, so that neither always follows the other's garbage.
        const order = run % 2 ? (["off", "on"] as const) : (["on", "off"] as const);
        for (const way of order) {
          const instance = way === "on" ? on : off;
          const { result, cpuMs } = await measure(instance, make(instance));
          cpu[way].push(cpuMs);
          results[way].push(result);
        }
        console.error(
          `  metrics ${kind} (run ${run} of ${opts.runs}), ${path}: ` +
            `${round(cpu.off.at(-1) ?? 0, 3)} ms CPU a request without, ${round(cpu.on.at(-1) ?? 0, 3)} with`,
        );
      }
      const cpuMsOff = median(cpu.off);
      const cpuMsOn = median(cpu.on);
      rows.push({
        path,
        runs: opts.runs,
        cpuMsOff: round(cpuMsOff, 4),
        cpuMsOn: round(cpuMsOn, 4),
        costPct: round(median(cpu.on.map((ms, i) => (ms / (cpu.off[i] as number) - 1) * 100)), 1),
        rpsOff: round(median(results.off.map((r) => r.requestsPerSecond)), 1),
        rpsOn: round(median(results.on.map((r) => r.requestsPerSecond)), 1),
        errors: [...results.off, ...results.on].reduce((s, r) => s + failures(r), 0),
        scrapes,
        scrapeKb: round(scrapeBytes / 1024, 1),
      });
    }
    return rows;
  } finally {
    for (const instance of started) await instance.ask({ type: "stop" }).catch(() => instance.kill());
    await upstream.stop();
  }
}
