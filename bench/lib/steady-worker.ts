import { startClusterWorker } from "../../apps/server/src/cluster";
import { benchConfig } from "./app";

/**
 * An API worker of the steady-state benchmark's Switchboard (lib/steady-server.ts forks them with
 * node:cluster, as `start` does with WEB_CONCURRENCY): the same configuration as the benchmark's
 * own instance, on its PostgreSQL database, sharing one port with the other workers. Its log lines
 * are written to a pipe the primary drains, so that their cost is counted.
 */
const env = JSON.parse(process.env.BENCH_WORKER_ENV ?? "{}") as Record<string, string>;
await startClusterWorker(await benchConfig(env));
