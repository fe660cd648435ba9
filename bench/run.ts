import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { type ApiRow, benchApi } from "./api";
import { benchDashboard, type DashboardResult } from "./dashboard";
import type { BenchDbKind } from "./lib/database";
import { benchDatabaseKinds } from "./lib/database";
import { round } from "./lib/stats";
import { benchQueries, type QueryRow } from "./queries";
import { benchSweep, type SweepRow } from "./sweep";

/**
 * `npm run bench`: every benchmark on embedded PGlite, and on PostgreSQL when BENCH_DATABASE_URL is
 * set; prints each table and writes bench/results/latest.json and latest.md. BENCH_ONLY picks
 * some of api, queries, sweep, dashboard; BENCH_DURATION sets the seconds of load per endpoint and
 * BENCH_API_RUNS how many times each endpoint is loaded. A sequential scan of a large table fails
 * the run (exit code 1); the other targets are reported, met or not.
 */
const only = new Set((process.env.BENCH_ONLY ?? "api,queries,sweep,dashboard").split(","));
const duration = Number(process.env.BENCH_DURATION ?? 20);
const apiRuns = Number(process.env.BENCH_API_RUNS ?? 3);
const results = join(import.meta.dirname, "results");
const API_SESSIONS = 100;

interface Target {
  database: BenchDbKind;
  target: string;
  measured: string;
  met: boolean;
  /** What the measured CPU cost allows on this machine at best, where that bounds the target. */
  bound: string;
}

interface Run {
  database: BenchDbKind;
  api?: ApiRow[];
  queries?: QueryRow[];
  sweep?: SweepRow[];
  dashboard?: DashboardResult;
}

function targetsOf(run: Run): Target[] {
  const t: Target[] = [];
  const add = (target: string, measured: string, met: boolean, bound = "") =>
    t.push({ database: run.database, target, measured, met, bound });
  const bare = run.api?.find((r) => r.ratioToBare === null);
  for (const r of run.api ?? []) {
    if (r.ratioToBare === null) continue;
    const limit = r.endpoint.startsWith("create") ? 100 : r.endpoint.startsWith("key") ? null : 50;
    const cpu = `${r.serverCpuMs} + ${r.databaseCpuMs ?? "–"} + ${r.loadCpuMs} ms CPU a request (server + database + load)`;
    // Little's law: with every session always waiting on a request, mean latency = sessions / throughput.
    const meanFloor = r.cpuCeilingRps ? Math.round((API_SESSIONS * 1000) / r.cpuCeilingRps) : "?";
    if (limit !== null)
      add(
        `${r.endpoint}: p99 < ${limit} ms, 0 errors`,
        `p99 ${r.p99} ms, ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`,
        r.p99 < limit && r.errors + r.timeouts + r.non2xx === 0,
        `${cpu}: at most ${r.cpuCeilingRps} req/s, so a mean of at least ${meanFloor} ms`,
      );
    if (r.endpoint.startsWith("list"))
      add(
        "list throughput ≥ 25% of the bare route",
        `${Math.round(r.ratioToBare * 100)}%`,
        r.ratioToBare >= 0.25,
        bare ? `${cpu}: at most ${Math.round((r.cpuCeilingRps / bare.requestsPerSecond) * 100)}%` : "",
      );
  }
  if (run.queries) {
    const slow = run.queries.filter((q) => q.medianMs >= 2);
    const scans = run.queries.filter((q) => q.largeSeqScans.length > 0);
    add(
      "every query < 2 ms median",
      slow.length
        ? `${slow.length} slower: ${slow.map((q) => `${q.medianMs} ms`).join(", ")}`
        : `slowest ${Math.max(...run.queries.map((q) => q.medianMs))} ms`,
      slow.length === 0,
    );
    add(
      "no sequential scan of a large table",
      scans.length ? `${scans.length} statements` : "none",
      scans.length === 0,
    );
  }
  for (const s of run.sweep ?? []) {
    if (s.servers >= 5000) {
      const perProbe = s.schedulerCpuMs + s.fleetCpuMs + (s.databaseCpuMs ?? 0);
      add(
        `sweep of ${s.servers} servers < 15 s`,
        `${s.wallSeconds} s median of ${s.runs} (answering servers done at ${s.answeredSeconds} s)`,
        s.wallSeconds < 15,
        `${s.schedulerCpuMs} + ${s.fleetCpuMs} + ${s.databaseCpuMs ?? "–"} ms CPU a probe (scheduler + MCP servers + database): ` +
          `the answering servers take at least ${round((s.servers * perProbe) / 1000 / cpus().length, 1)} s, then the hanging ones the probe timeout`,
      );
    }
  }
  for (const r of run.dashboard?.rows ?? []) {
    const limit = r.measure.includes("first render") ? 1000 : 200;
    add(`${r.measure} < ${limit} ms`, `${r.medianMs} ms median`, r.medianMs < limit);
  }
  return t;
}

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

async function main() {
  const runs: Run[] = [];
  for (const database of benchDatabaseKinds()) {
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
  }

  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const targets = runs.flatMap(targetsOf);
  const report = {
    date: new Date().toISOString(),
    machine,
    durationSeconds: duration,
    apiRuns,
    runs,
    targets,
  };
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);

  const md: string[] = [
    "# Benchmark results",
    "",
    `Run ${report.date} on ${machine.cpus} × ${machine.cpu}, ${machine.memoryGb} GiB, Node ${machine.node}. ` +
      "Written by `npm run bench`; the raw figures are in `latest.json`.",
    "",
    "## Targets",
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
  }
  writeFileSync(join(results, "latest.md"), md.join("\n"));

  for (const run of runs) {
    console.log(`\n== ${run.database} ==`);
    if (run.api) console.table(run.api);
    if (run.queries) console.table(run.queries.map((q) => ({ ...q, query: q.query.slice(0, 70) })));
    if (run.sweep) console.table(run.sweep);
    if (run.dashboard) console.table(run.dashboard.rows);
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
