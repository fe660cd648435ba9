import autocannon from "autocannon";
import { ownCpuMs } from "./cpu";
import { quantile, round } from "./stats";

/**
 * The load generator, in a process of its own so that it does not share the server's event loop.
 * It receives a scenario over IPC, runs it with autocannon, and sends the result back.
 */
export interface LoadScenario {
  url: string;
  connections: number;
  durationSeconds: number;
  /**
   * Request kinds: a fixed path, a path picked at random per request, create-then-delete, or an
   * MCP call (`body` POSTed to the path, each connection holding one session's headers throughout,
   * as a client holds its key).
   */
  kind: "path" | "random-path" | "create-delete" | "mcp-call";
  paths: string[];
  /** Headers per session; requests take them round-robin, so every session is in use at once. */
  sessions: Record<string, string>[];
  /** The JSON-RPC request an `mcp-call` sends. */
  body?: string;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Connection errors (resets, refusals). */
  errors: number;
  /** Requests unanswered after autocannon's 10 s timeout. */
  timeouts: number;
  non2xx: number;
  requests: number;
  /** CPU time the load generator itself spent, in ms. */
  loadCpuMs: number;
  /**
   * `mcp-call` only: 2xx answers that were not a JSON-RPC result (an error from the gateway or
   * the server), and p50 and p99 to the microsecond (autocannon's own are whole milliseconds).
   */
  rpcErrors?: number;
  p50Precise?: number;
  p99Precise?: number;
}

/** What a connection remembers: its session's headers, and the id between a create and its delete. */
type Context = { headers?: Record<string, string>; id?: string };

function run(s: LoadScenario): Promise<LoadResult> {
  let turn = 0;
  const session = () => s.sessions[turn++ % s.sessions.length] ?? {};
  const pick = () => s.paths[Math.floor(Math.random() * s.paths.length)] ?? "/";
  let created = 0;
  let rpcErrors = 0;
  const latencies: number[] = [];

  const requests: autocannon.Request[] =
    s.kind === "create-delete"
      ? [
          {
            method: "POST",
            path: s.paths[0],
            setupRequest: (req, context: Context) => {
              context.headers = session();
              return {
                ...req,
                headers: { ...context.headers, "content-type": "application/json" },
                body: JSON.stringify({
                  name: `bench-${process.pid}-${created++}`,
                  url: "http://127.0.0.1:9/mcp",
                  transport: "streamable-http",
                }),
              };
            },
            onResponse: (status, body, context: Context) => {
              if (status === 201) context.id = JSON.parse(body).id;
            },
          },
          {
            method: "DELETE",
            setupRequest: (req, context: Context) =>
              context.id
                ? {
                    ...req,
                    path: `${s.paths[0]}/${context.id}`,
                    headers: context.headers as Record<string, string>,
                  }
                : (undefined as unknown as autocannon.Request),
          },
        ]
      : s.kind === "mcp-call"
        ? [
            {
              method: "POST",
              path: s.paths[0],
              setupRequest: (req, context: Context) => {
                context.headers ??= session();
                return { ...req, headers: context.headers, body: s.body };
              },
              // A JSON-RPC error arrives in a 200: only a result counts as served.
              onResponse: (status, body) => {
                if (status >= 200 && status < 300 && !body.includes('"result":')) rpcErrors++;
              },
            },
          ]
        : [
            {
              method: "GET",
              setupRequest: (req) => ({
                ...req,
                path: s.kind === "random-path" ? pick() : s.paths[0],
                headers: session(),
              }),
            },
          ];

  const cpuBefore = ownCpuMs();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: s.url, connections: s.connections, duration: s.durationSeconds, requests },
      (err, result) => {
        if (err) return reject(err);
        const precise =
          s.kind === "mcp-call"
            ? {
                rpcErrors,
                p50Precise: round(quantile(latencies, 0.5), 3),
                p99Precise: round(quantile(latencies, 0.99), 3),
              }
            : {};
        resolve({
          ...precise,
          requestsPerSecond: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          errors: result.errors - result.timeouts,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          requests: result.requests.total,
          loadCpuMs: ownCpuMs() - cpuBefore,
        });
      },
    );
    // Each answer's time in ms, as a fraction (as autocannon measures it, before it rounds).
    if (s.kind === "mcp-call")
      instance.on("response", (_client, status: number, _bytes, ms: number) => {
        if (status >= 200 && status < 300) latencies.push(ms);
      });
  });
}

process.once("message", (scenario: LoadScenario) => {
  run(scenario).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (err: Error) => process.send?.({ error: err.message }, () => process.exit(1)),
  );
});
