import type { Database } from "../../apps/server/src/db/client";
import { createOrg, ORIGIN, signUp } from "../../apps/server/test/users";
import { type BenchApp, startBenchApp } from "./app";
import { ownCpuMs } from "./cpu";
import { type BenchDbKind, openBenchDatabase } from "./database";
import type { MemorySample } from "./memory";

/**
 * Switchboard for the gateway and metrics benchmarks, in a process of its own, so that its CPU time
 * and resident memory are its own and not what earlier benchmarks left in the runner's heap. Over
 * IPC: `setup` registers the upstream server in a new organization and issues `keys` keys for it,
 * answering the gateway URL and the keys, the server's API URL with the owner's session cookie, and
 * the metrics URL (null with `metrics: false`, which runs with METRICS_PORT=0); `cpu` answers this process's CPU time so far; `watch` starts
 * sampling its memory every `everyMs`, every `gcEvery`-th sample after a full garbage collection,
 * and `samples` answers the samples since; `stop` exits.
 */
export type GatewayServerCommand =
  | { type: "setup"; kind: BenchDbKind; upstreamUrl: string; keys: number; metrics?: boolean }
  | { type: "cpu" }
  | { type: "watch"; everyMs: number; gcEvery: number }
  | { type: "samples" }
  | { type: "stop" };

const ORG_NAME = "Bench Gateway";
const SERVER_NAME = "echo";

let database: Database | null = null;
let server: BenchApp | null = null;
let samples: MemorySample[] = [];
let watching: NodeJS.Timeout | undefined;

export interface GatewaySetup {
  gatewayUrl: string;
  keys: string[];
  /** The registered server's own API route, and a session cookie of its organization's owner. */
  apiUrl: string;
  cookie: string;
  metricsUrl: string | null;
}

async function setup(
  kind: BenchDbKind,
  upstreamUrl: string,
  keys: number,
  metrics = true,
): Promise<GatewaySetup> {
  database = await openBenchDatabase(kind, "gateway");
  // The per-key gateway limit is raised so that the load measures the gateway, not the limiter
  // (which still counts every request); the per-key stream cap stays at its default.
  server = await startBenchApp(database, {
    RATE_LIMIT_GATEWAY: "1000000000",
    ...(metrics ? {} : { METRICS_PORT: "0" }),
  });
  const { app } = server;
  const owner = await signUp(app);
  await createOrg(app, owner, ORG_NAME);
  const headers = { ...ORIGIN, cookie: owner.cookie };
  const registered = await app.inject({
    method: "POST",
    url: "/mcp/servers",
    headers,
    payload: { name: SERVER_NAME, url: upstreamUrl, transport: "streamable-http" },
  });
  if (registered.statusCode !== 201)
    throw new Error(`register failed: ${registered.statusCode} ${registered.body}`);
  const serverId = (registered.json() as { id: string }).id;
  const issued: string[] = [];
  for (let i = 0; i < keys; i++) {
    const key = await app.inject({
      method: "POST",
      url: `/mcp/servers/${serverId}/keys`,
      headers,
      payload: { name: `client-${i}` },
    });
    if (key.statusCode !== 201) throw new Error(`key failed: ${key.statusCode} ${key.body}`);
    issued.push((key.json() as { key: string }).key);
  }
  const slug = ORG_NAME.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return {
    gatewayUrl: `${server.url}/gateway/${slug}/${SERVER_NAME}/mcp`,
    keys: issued,
    apiUrl: `${server.url}/mcp/servers/${serverId}`,
    cookie: owner.cookie,
    metricsUrl: server.metricsUrl,
  };
}

async function handle(command: GatewayServerCommand): Promise<unknown> {
  switch (command.type) {
    case "setup":
      return setup(command.kind, command.upstreamUrl, command.keys, command.metrics);
    case "cpu":
      return { cpuMs: ownCpuMs() };
    case "watch": {
      samples = [];
      const t0 = performance.now();
      let tick = 0;
      clearInterval(watching);
      watching = setInterval(() => {
        // Every `gcEvery`-th sample follows a full collection (the process runs with --expose-gc):
        // what is still held then, unlike the collector's saw-tooth, is what a leak would raise.
        const afterGc = ++tick % command.gcEvery === 0;
        if (afterGc) (globalThis as { gc?: () => void }).gc?.();
        const m = process.memoryUsage();
        samples.push({
          at: (performance.now() - t0) / 1000,
          rss: m.rss,
          heapUsed: m.heapUsed,
          external: m.external,
          afterGc,
        });
      }, command.everyMs);
      return { watching: true };
    }
    case "samples":
      clearInterval(watching);
      return { samples };
    case "stop":
      clearInterval(watching);
      await server?.close();
      await database?.close();
      return { stopped: true };
  }
}

process.on("message", (command: GatewayServerCommand) => {
  handle(command).then(
    (answer) =>
      process.send?.(answer, () => {
        if (command.type === "stop") process.exit(0);
      }),
    (err: Error) => process.send?.({ error: err.stack ?? err.message }),
  );
});
