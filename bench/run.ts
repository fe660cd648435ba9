import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { benchApi } from "./api";
import { benchDashboard } from "./dashboard";
import { benchGateway } from "./gateway";
import { type BenchDbKind, benchDatabaseKinds } from "./lib/database";
import { benchMetrics } from "./metrics";
import { benchQueries } from "./queries";
import { benchSteady, type SteadyOptions } from "./steady";
import { benchSweep } from "./sweep";
import { type Run, targetsOf } from "./targets";

/**
 * `npm run bench`: every benchmark on embedded PGlite, and on PostgreSQL when BENCH_DATABASE_URL is
 * set (BENCH_DATABASES=postgres or pglite runs one of them); prints each table and writes bench/results/latest.json and latest.md. Sections named as
 * arguments (`npm run bench -- gateway`) or in BENCH_ONLY run alone (of api, queries, sweep,
 * dashboard, gateway, metrics, steady); the figures of the others are kept from the last report, with their dates
 * (`npm run bench -- report` measures nothing and writes the report again from them).
 * BENCH_DURATION sets the seconds of load per endpoint and BENCH_API_RUNS how many times each
 * endpoint is loaded; BENCH_GATEWAY_SECONDS, BENCH_GATEWAY_RUNS and BENCH_GATEWAY_SOAK_SECONDS the
 * gateway's seconds per level and way, its runs, and its memory run (default five minutes);
 * BENCH_METRICS_SECONDS and BENCH_METRICS_RUNS the metrics cost's seconds per path and way and its
 * runs; BENCH_STEADY_SERVERS (default 2,000 on PGlite, 10,000 on PostgreSQL), BENCH_STEADY_FLEET,
 * BENCH_STEADY_INTERVAL, BENCH_STEADY_SECONDS, BENCH_STEADY_RATES, BENCH_STEADY_LIST_RATE and
 * BENCH_STEADY_WORKERS the steady state's servers, MCP servers behind them, check interval, seconds
 * per rate, offered rates of the mix and of the list page alone (PGlite), and the API workers it is
 * measured with too (default 2, on PostgreSQL when REDIS_URL is set); BENCH_STEADY_PAIRS the runs
 * at 200 requests/s with the scheduler working and off whose median ratio is reported (default 5
 * on PostgreSQL); SCHEDULER_MAX_RATE fixes its
 * scheduler's pace (derived from the fleet when unset, as in production). A
 * sequential scan of a large table fails the run (exit code 1); the other targets are reported,
 * met or not.
 */
const SECTIONS = ["api", "queries", "sweep", "dashboard", "gateway", "metrics", "steady"] as const;
type Section = (typeof SECTIONS)[number];
const asked = process.argv.slice(2).length
  ? process.argv.slice(2)
  : (process.env.BENCH_ONLY ?? SECTIONS.join(",")).split(",");
// `report` measures nothing: it writes the report again from the last figures (after a change of targets).
const unknown = asked.filter((a) => a !== "report" && !(SECTIONS as readonly string[]).includes(a));
if (unknown.length)
  throw new Error(`unknown benchmark sections: ${unknown.join(", ")} (of ${SECTIONS.join(", ")})`);
const only = new Set(asked.filter((a): a is Section => a !== "report"));
const duration = Number(process.env.BENCH_DURATION ?? 20);
const apiRuns = Number(process.env.BENCH_API_RUNS ?? 3);
const gatewayOptions = {
  clients: [1, 10, 100],
  seconds: Number(process.env.BENCH_GATEWAY_SECONDS ?? 5),
  runs: Number(process.env.BENCH_GATEWAY_RUNS ?? 3),
  soakSeconds: Number(process.env.BENCH_GATEWAY_SOAK_SECONDS ?? 300),
  soakClients: 100,
};
const metricsOptions = {
  clients: 10,
  seconds: Number(process.env.BENCH_METRICS_SECONDS ?? 5),
  runs: Number(process.env.BENCH_METRICS_RUNS ?? 7),
  scrapeEverySeconds: 5,
};
const steadyOptions = (database: BenchDbKind): SteadyOptions => ({
  servers: Number(process.env.BENCH_STEADY_SERVERS ?? (database === "postgres" ? 10_000 : 2_000)),
  fleet: Number(process.env.BENCH_STEADY_FLEET ?? 50),
  intervalSeconds: Number(process.env.BENCH_STEADY_INTERVAL ?? 60),
  seconds: Number(process.env.BENCH_STEADY_SECONDS ?? 60),
  rates: (process.env.BENCH_STEADY_RATES ?? "100,200,400").split(",").map(Number),
  // The embedded default: the list page alone at 50 requests/s.
  listRate: database === "pglite" ? Number(process.env.BENCH_STEADY_LIST_RATE ?? 50) : 0,
  catchUpRate: 100,
  catchUpMaxSeconds: 600,
  // API workers need Redis, as `start` with WEB_CONCURRENCY does.
  workers: process.env.REDIS_URL ? Number(process.env.BENCH_STEADY_WORKERS ?? 2) : 0,
  // The ratio is PostgreSQL's, at 200 requests/s.
  pairs: database === "postgres" ? Number(process.env.BENCH_STEADY_PAIRS ?? 5) : 1,
  pairRate: 200,
});
const results = join(import.meta.dirname, "results");
const API_SESSIONS = 100;

const cell = (v: unknown) => (Array.isArray(v) ? v.join(" ") : String(v ?? "")).replaceAll("|", "\\|");

function markdownTable(rows: object[]): string {
  if (rows.length === 0) return "_none_\n";
  const keys = Object.keys(rows[0] as object);
  return [
    `| ${keys.join(" | ")} |`,
    `| ${keys.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${keys.map((k) => cell((r as Record<string, unknown>)[k])).join(" | ")} |`),
    "",
  ].join("\n");
}

interface Report {
  date: string;
  /** When each database's section was measured ("pglite api"): a run of some keeps the others'. */
  measuredAt: Record<string, string>;
  machine: object;
  durationSeconds: number;
  apiRuns: number;
  gateway: typeof gatewayOptions;
  metrics?: typeof metricsOptions;
  runs: Run[];
  targets: unknown[];
}

const previousFile = join(results, "latest.json");
const previous: Report | null = existsSync(previousFile)
  ? (JSON.parse(readFileSync(previousFile, "utf8")) as Report)
  : null;

/**
 * Fills in what this run did not measure from the last report: other sections, and databases it
 * did not run on. Answers when each database's section was measured.
 */
function keepEarlier(runs: Run[], now: string): Record<string, string> {
  const measuredAt: Record<string, string> = {};
  for (const run of runs)
    for (const section of SECTIONS)
      if (run[section] !== undefined) measuredAt[`${run.database} ${section}`] = now;
  for (const old of previous?.runs ?? []) {
    let run = runs.find((r) => r.database === old.database);
    if (!run) {
      run = { database: old.database };
      runs.push(run);
    }
    for (const section of SECTIONS) {
      if (run[section] !== undefined || old[section] === undefined) continue;
      Object.assign(run, { [section]: old[section] });
      const key = `${old.database} ${section}`;
      measuredAt[key] = previous?.measuredAt?.[key] ?? previous?.date ?? "earlier";
    }
  }
  return measuredAt;
}

/** "pglite api", "pglite gateway", … grouped by the date they were measured on. */
function sectionsByDate(measuredAt: Record<string, string>): Map<string, string[]> {
  const byDate = new Map<string, string[]>();
  for (const [what, at] of Object.entries(measuredAt)) byDate.set(at, [...(byDate.get(at) ?? []), what]);
  return byDate;
}

function gatewayMarkdown(gateway: NonNullable<Run["gateway"]>, opts: typeof gatewayOptions): string[] {
  const md = [
    `### Gateway (the echo tool of a stateless JSON MCP server, directly and through the gateway; ${opts.runs} runs of ${opts.seconds} s per level and way)`,
    "",
    "Latencies in ms; added = through the gateway less direct; CPU in ms a call. Where the targets stand, and why: the README's benchmark section.",
    "",
    markdownTable(gateway.rows),
  ];
  if (gateway.soak)
    md.push(
      `#### Memory run: ${gateway.soak.clients} clients for ${gateway.soak.seconds} s through the gateway`,
      "",
      markdownTable([gateway.soak]),
    );
  return md;
}

function steadyMarkdown(steady: NonNullable<Run["steady"]>): string[] {
  const { checks, catchUp } = steady;
  return [
    `### Steady state (${steady.servers} servers behind ${steady.fleet} MCP servers, checked every ${steady.intervalSeconds} s; ${steady.seconds} s of open-loop load per rate)`,
    "",
    "Latencies in ms from each request's scheduled send time; the mix is 60% list pages, 20% one server, 10% search, 5% health history, 5% writes. CPU in ms a request (Switchboard's includes the scheduler's work when it runs).",
    "",
    markdownTable(steady.rows),
    ...(steady.pairs
      ? [
          `Steady state against the scheduler off at ${steady.pairs.rate} req/s, run after run: p99 ` +
            steady.pairs.runs.map((p) => `${p.on} against ${p.off} ms (${p.ratio}×)`).join(", ") +
            `; median ${steady.pairs.medianRatio}×.`,
          "",
        ]
      : []),
    `Catch-up: ${catchUp.servers} overdue checks all started in ${catchUp.drainSeconds ?? "–"} s (the overview's overdue = 0), ` +
      `all recorded in ${catchUp.checkedSeconds ?? "more than the limit of"} s (${catchUp.checksPerSecond} checks/s). Steady state over ${checks.seconds} s: ${checks.mean} checks/s on average, ` +
      `${checks.peak} in the busiest second (peak-to-mean ${checks.ratio}); the MCP servers' CPU ${steady.fleetCpuMsPerCheck} ms a check.`,
    "",
  ];
}

async function main() {
  const runs: Run[] = [];
  for (const database of only.size ? benchDatabaseKinds() : []) {
    const run: Run = { database };
    runs.push(run);
    console.error(`\n== ${database} ==`);
    if (only.has("queries"))
      run.queries = await benchQueries(database, {
        tenants: 100,
        serversPerTenant: 1000,
        healthPerServer: 10,
        runs: 10,
      });
    if (only.has("api"))
      run.api = await benchApi(database, {
        servers: 10_000,
        sessions: API_SESSIONS,
        durationSeconds: duration,
        runs: apiRuns,
      });
    if (only.has("sweep"))
      run.sweep = [await benchSweep(database, 1000, 3), await benchSweep(database, 5000, 3)];
    if (only.has("dashboard")) run.dashboard = await benchDashboard(database, { servers: 10_000, runs: 10 });
    if (only.has("gateway")) run.gateway = await benchGateway(database, gatewayOptions);
    if (only.has("metrics")) run.metrics = await benchMetrics(database, metricsOptions);
    if (only.has("steady")) run.steady = await benchSteady(database, steadyOptions(database));
  }
  const now = new Date().toISOString();
  const measuredAt = keepEarlier(runs, now);

  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const targets = runs.flatMap((run) => targetsOf(run, { sessions: API_SESSIONS, cores: cpus().length }));
  const report: Report = {
    date: now,
    measuredAt,
    machine,
    durationSeconds: only.has("api") ? duration : (previous?.durationSeconds ?? duration),
    apiRuns: only.has("api") ? apiRuns : (previous?.apiRuns ?? apiRuns),
    gateway: only.has("gateway") ? gatewayOptions : (previous?.gateway ?? gatewayOptions),
    metrics: only.has("metrics") ? metricsOptions : (previous?.metrics ?? metricsOptions),
    runs,
    targets,
  };
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);

  const md: string[] = [
    "# Benchmark results",
    "",
    `Run on ${machine.cpus} × ${machine.cpu}, ${machine.memoryGb} GiB, Node ${machine.node}. ` +
      "Written by `npm run bench`; the raw figures are in `latest.json`. Measured: " +
      [...sectionsByDate(measuredAt)].map(([at, what]) => `${what.join(", ")} on ${at}`).join("; ") +
      ".",
    "",
    "## Targets",
    "",
    'Where a target is missed, the README\'s "Where the targets stand, and why" gives the profile that explains it and what was tried.',
    "",
    markdownTable(targets.map((t) => ({ ...t, met: t.met ? "yes" : "**no**" }))),
  ];
  for (const run of runs) {
    md.push(`## ${run.database}`, "");
    if (run.api)
      md.push(
        `### API under load (${API_SESSIONS} sessions; ${apiRuns} runs of ${duration} s per endpoint)`,
        "",
        markdownTable(run.api),
      );
    if (run.queries)
      md.push("### Every statement the API runs (EXPLAIN ANALYZE, ms)", "", markdownTable(run.queries));
    if (run.sweep) md.push("### Health sweep", "", markdownTable(run.sweep));
    if (run.dashboard)
      md.push(
        "### Dashboard in Chromium",
        "",
        markdownTable(run.dashboard.rows),
        `Main bundle: ${run.dashboard.mainBundleKbGzip} KiB gzipped.`,
        "",
      );
    if (run.gateway) md.push(...gatewayMarkdown(run.gateway, report.gateway));
    if (run.metrics) {
      const m = report.metrics ?? metricsOptions;
      md.push(
        `### What metrics cost (Switchboard with and without them, ${m.clients} clients, ${m.runs} runs of ${m.seconds} s per path and way, /metrics scraped every ${m.scrapeEverySeconds} s)`,
        "",
        "CPU in ms a request, of Switchboard's process (medians); cost = the median of each run's with-and-without pair, in % of without.",
        "",
        markdownTable(run.metrics),
      );
    }
    if (run.steady) md.push(...steadyMarkdown(run.steady));
  }
  writeFileSync(join(results, "latest.md"), md.join("\n"));

  for (const run of runs) {
    console.log(`\n== ${run.database} ==`);
    if (run.api) console.table(run.api);
    if (run.queries) console.table(run.queries.map((q) => ({ ...q, query: q.query.slice(0, 70) })));
    if (run.sweep) console.table(run.sweep);
    if (run.dashboard) console.table(run.dashboard.rows);
    if (run.gateway) console.table(run.gateway.rows);
    if (run.gateway?.soak) console.table([run.gateway.soak]);
    if (run.metrics) console.table(run.metrics);
    if (run.steady) {
      console.table(run.steady.rows);
      console.table([{ ...run.steady.catchUp, ...run.steady.checks }]);
    }
  }
  console.table(targets);
  console.log(`Results: ${join(results, "latest.md")}`);

  const scans = runs.flatMap((run) =>
    (run.queries ?? [])
      .filter((q) => q.largeSeqScans.length > 0)
      .map((q) => `${run.database}: ${q.largeSeqScans.join(", ")} in ${q.query}`),
  );
  if (scans.length > 0) {
    console.error(`\nFailed: sequential scans of large tables:\n${scans.join("\n")}`);
    process.exitCode = 1;
  }
}

await main();
