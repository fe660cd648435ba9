import { cpus } from "node:os";
import Fastify from "fastify";
import { headersFor, seedServers, seedTenant, startBenchApp } from "./lib/app";
import { type CpuSpent, startCpuMeter } from "./lib/cpu";
import { type BenchDbKind, openBenchDatabase } from "./lib/database";
import { load } from "./lib/load";
import type { LoadResult, LoadScenario } from "./lib/load-worker";
import { median, round } from "./lib/stats";

export interface ApiRow extends Omit<LoadResult, "loadCpuMs"> {
  endpoint: string;
  /** Runs of `durationSeconds` each; requests/s, p50 and p99 are their medians, the counts their sums. */
  runs: number;
  /** The slowest and fastest run's requests/s. */
  rpsRange: string;
  /** Throughput as a share of the bare Fastify route serving the same JSON. */
  ratioToBare: number | null;
  /** CPU ms per request: the server's process (with PGlite when embedded), PostgreSQL's, autocannon's. */
  serverCpuMs: number;
  databaseCpuMs: number | null;
  loadCpuMs: number;
  /** The most requests/s this machine's cores could serve at that CPU cost per request. */
  cpuCeilingRps: number;
}

/** Per-request CPU of the three parties, and the throughput all the machine's cores would allow. */
function cpuPerRequest(requests: number, spent: CpuSpent & { loadMs: number }) {
  const perRequest = (ms: number) => (requests ? ms / requests : 0);
  const server = perRequest(spent.selfMs);
  const database = spent.postgresMs === null ? null : perRequest(spent.postgresMs);
  const load = perRequest(spent.loadMs);
  const total = server + (database ?? 0) + load;
  return {
    serverCpuMs: round(server, 3),
    databaseCpuMs: database === null ? null : round(database, 3),
    loadCpuMs: round(load, 3),
    cpuCeilingRps: total > 0 ? Math.round((cpus().length * 1000) / total) : 0,
  };
}

export interface ApiOptions {
  servers: number;
  sessions: number;
  durationSeconds: number;
  /** Rounds over every endpoint; interleaved, so that a noisy spell on the machine is shared. */
  runs: number;
}

/** One endpoint's runs as one row: medians of the rates and latencies, sums of the counts and CPU. */
function summarize(endpoint: string, runs: { result: LoadResult; spent: CpuSpent }[]) {
  const med = (pick: (r: LoadResult) => number) => median(runs.map((r) => pick(r.result)));
  const sum = (pick: (r: { result: LoadResult; spent: CpuSpent }) => number) =>
    runs.reduce((total, r) => total + pick(r), 0);
  const rates = runs.map((r) => r.result.requestsPerSecond);
  const requests = sum((r) => r.result.requests);
  const postgres = runs.every((r) => r.spent.postgresMs !== null)
    ? sum((r) => r.spent.postgresMs ?? 0)
    : null;
  return {
    endpoint,
    runs: runs.length,
    requestsPerSecond: round(
      med((r) => r.requestsPerSecond),
      1,
    ),
    rpsRange: `${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}`,
    p50: med((r) => r.p50),
    p99: med((r) => r.p99),
    errors: sum((r) => r.result.errors),
    timeouts: sum((r) => r.result.timeouts),
    non2xx: sum((r) => r.result.non2xx),
    requests,
    ...cpuPerRequest(requests, {
      selfMs: sum((r) => r.spent.selfMs),
      postgresMs: postgres,
      loadMs: sum((r) => r.result.loadCpuMs),
    }),
  };
}

/**
 * 100 admin sessions of one tenant that owns 10,000 servers hammer each read and write endpoint;
 * a bare Fastify route serving the same JSON from memory sets the ceiling to compare with.
 */
export async function benchApi(kind: BenchDbKind, opts: ApiOptions): Promise<ApiRow[]> {
  const database = await openBenchDatabase(kind, "api");
  const server = await startBenchApp(database);
  const bare = Fastify({ logger: false });
  try {
    const tenant = await seedTenant(server.app, opts.sessions);
    await seedServers(database.db, tenant.orgId, opts.servers);
    const sessions = tenant.admins.map(headersFor);
    const owner = headersFor(tenant.owner);

    const listPath = "/mcp/servers?pageSize=50&sort=-updatedAt&status=healthy&transport=streamable-http";
    const list = await server.app.inject({ method: "GET", url: listPath, headers: owner });
    if (list.statusCode !== 200) throw new Error(`list failed: ${list.statusCode} ${list.body}`);
    const page = list.json() as { items: { id: string }[] };
    const all = await server.app.inject({ method: "GET", url: "/mcp/servers?pageSize=200", headers: owner });
    const ids = (all.json() as { items: { id: string }[] }).items.map((s) => s.id);
    const someId = page.items[0]?.id;
    const key = await server.app.inject({
      method: "POST",
      url: `/mcp/servers/${someId}/keys`,
      headers: owner,
      payload: { name: "bench" },
    });
    if (key.statusCode !== 201) throw new Error(`key failed: ${key.statusCode} ${key.body}`);
    const apiKey = (key.json() as { key: string }).key;

    const body = list.json();
    bare.get("/bare", async () => body);
    await bare.listen({ host: "127.0.0.1", port: 0 });
    const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`;

    const base = { connections: opts.sessions, durationSeconds: opts.durationSeconds };
    const scenarios: [string, LoadScenario][] = [
      ["bare Fastify route (same JSON)", { ...base, url: bareUrl, kind: "path", paths: ["/bare"], sessions }],
      [
        "list (page of 50, sorted, filtered)",
        { ...base, url: server.url, kind: "path", paths: [listPath], sessions },
      ],
      [
        "search",
        {
          ...base,
          url: server.url,
          kind: "random-path",
          paths: Array.from({ length: 50 }, (_, i) => `/mcp/servers?q=thing%20${i * 37 + 11}&pageSize=50`),
          sessions,
        },
      ],
      [
        "get one",
        {
          ...base,
          url: server.url,
          kind: "random-path",
          paths: ids.map((id) => `/mcp/servers/${id}`),
          sessions,
        },
      ],
      [
        "create + delete",
        { ...base, url: server.url, kind: "create-delete", paths: ["/mcp/servers"], sessions },
      ],
      [
        "key verification (/mcp/whoami)",
        {
          ...base,
          url: server.url,
          kind: "path",
          paths: ["/mcp/whoami"],
          sessions: [{ authorization: `Bearer ${apiKey}` }],
        },
      ],
    ];

    const measured = new Map<string, { result: LoadResult; spent: CpuSpent }[]>();
    for (let run = 1; run <= opts.runs; run++) {
      for (const [endpoint, scenario] of scenarios) {
        const meter = startCpuMeter({ postgres: kind === "postgres" });
        const result = await load(scenario);
        const spent = meter();
        measured.set(endpoint, [...(measured.get(endpoint) ?? []), { result, spent }]);
        console.error(
          `  api ${kind} (run ${run} of ${opts.runs}): ${endpoint}: ${Math.round(result.requestsPerSecond)} req/s, ` +
            `p50 ${result.p50} ms, p99 ${result.p99} ms`,
        );
      }
    }
    const rows = [...measured].map(([endpoint, runs]) => summarize(endpoint, runs));
    const bareRps = rows[0]?.requestsPerSecond ?? 0;
    return rows.map(
      (r, i): ApiRow => ({
        ...r,
        ratioToBare: i === 0 ? null : round(bareRps ? r.requestsPerSecond / bareRps : 0, 3),
      }),
    );
  } finally {
    await bare.close();
    await server.close();
    await database.close();
  }
}
