import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { benchApi } from "./api";
import { benchDashboard } from "./dashboard";
import { benchDatabaseKinds } from "./lib/database";
import { benchQueries } from "./queries";
import { benchSweep } from "./sweep";
import { type Run, targetsOf } from "./targets";

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
  const targets = runs.flatMap((run) => targetsOf(run, { sessions: API_SESSIONS, cores: cpus().length }));
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
