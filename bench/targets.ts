import type { ApiRow } from "./api";
import type { DashboardResult } from "./dashboard";
import type { BenchDbKind } from "./lib/database";
import { round } from "./lib/stats";
import type { QueryRow } from "./queries";
import type { SweepRow } from "./sweep";

/** One of the issue's targets, as measured by a run. */
export interface Target {
  database: BenchDbKind;
  target: string;
  measured: string;
  met: boolean;
  /** What the measured CPU cost allows on this machine at best, where that bounds the target. */
  bound: string;
}

/** What the benchmarks measured on one database. */
export interface Run {
  database: BenchDbKind;
  api?: ApiRow[];
  queries?: QueryRow[];
  sweep?: SweepRow[];
  dashboard?: DashboardResult;
}

/**
 * The targets a run is held to: p99 under 50 ms (100 ms to create) with no errors, list throughput
 * at least 25% of the bare route's, every statement under 2 ms median with no sequential scan of a
 * large table, a sweep of 5,000 servers under 15 s, the dashboard's first render under 1 s and
 * navigations under 200 ms. Where CPU bounds a target, `bound` says how far the machine allows.
 */
export function targetsOf(run: Run, machine: { sessions: number; cores: number }): Target[] {
  const t: Target[] = [];
  const add = (target: string, measured: string, met: boolean, bound = "") =>
    t.push({ database: run.database, target, measured, met, bound });
  const bare = run.api?.find((r) => r.ratioToBare === null);
  for (const r of run.api ?? []) {
    if (r.ratioToBare === null) continue;
    const limit = r.endpoint.startsWith("create") ? 100 : r.endpoint.startsWith("key") ? null : 50;
    const cpu = `${r.serverCpuMs} + ${r.databaseCpuMs ?? "–"} + ${r.loadCpuMs} ms CPU a request (server + database + load)`;
    // Little's law: with every session always waiting on a request, mean latency = sessions / throughput.
    const meanFloor = r.cpuCeilingRps ? Math.round((machine.sessions * 1000) / r.cpuCeilingRps) : "?";
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
        `${round(r.ratioToBare * 100, 1)}%`,
        r.ratioToBare >= 0.25,
        bare ? `${cpu}: at most ${round((r.cpuCeilingRps / bare.requestsPerSecond) * 100, 1)}%` : "",
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
          `the answering servers take at least ${round((s.servers * perProbe) / 1000 / machine.cores, 1)} s, then the hanging ones the probe timeout`,
      );
    }
  }
  for (const r of run.dashboard?.rows ?? []) {
    const limit = r.measure.includes("first render") ? 1000 : 200;
    add(`${r.measure} < ${limit} ms`, `${r.medianMs} ms median`, r.medianMs < limit);
  }
  return t;
}
