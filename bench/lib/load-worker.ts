import autocannon from "autocannon";
import { ownCpuMs } from "./cpu";

/**
 * The load generator, in a process of its own so that it does not share the server's event loop.
 * It receives a scenario over IPC, runs it with autocannon, and sends the result back.
 */
export interface LoadScenario {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Request kinds: a fixed path, a path picked at random per request, or create-then-delete. */
  kind: "path" | "random-path" | "create-delete";
  paths: string[];
  /** Headers per session; requests take them round-robin, so every session is in use at once. */
  sessions: Record<string, string>[];
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
}

/** What a connection remembers between its create and its delete. */
type Context = { headers?: Record<string, string>; id?: string };

function run(s: LoadScenario): Promise<LoadResult> {
  let turn = 0;
  const session = () => s.sessions[turn++ % s.sessions.length] ?? {};
  const pick = () => s.paths[Math.floor(Math.random() * s.paths.length)] ?? "/";
  let created = 0;

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
    autocannon(
      { url: s.url, connections: s.connections, duration: s.durationSeconds, requests },
      (err, result) => {
        if (err) return reject(err);
        resolve({
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
  });
}

process.once("message", (scenario: LoadScenario) => {
  run(scenario).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (err: Error) => process.send?.({ error: err.message }, () => process.exit(1)),
  );
});
