import { Worker } from "node:worker_threads";
import type { Logger } from "../../lib/log";
import type { ProbeResult, Prober, ProbeTarget } from "./probe";

/** What the probe thread is built with: plain data, since a thread shares no objects. */
export interface ProbeThreadOptions {
  timeoutMs: number;
  degradedMs: number;
  maxBodyBytes: number;
  allowPrivate: boolean;
}

/** A probe asked of the thread, and its answer. */
export interface ProbeRequest {
  id: number;
  target: ProbeTarget;
}
interface ProbeAnswer {
  id: number;
  result: ProbeResult;
}

export interface ThreadProber {
  probe: Prober;
  /** Probes the thread has answered, and whether it runs: what a test or an operator can check. */
  stats(): { probes: number; running: boolean };
  close(): Promise<void>;
}

// `import.meta` is read whole, not as `import.meta.url`: scripts/build.mjs rewrites the latter to
// each module's source location, and the thread's entry must be found beside the running bundle.
const meta = import.meta;
const fromSource = meta.url.endsWith(".ts");
const ENTRY = new URL(fromSource ? "./probe-worker.dev.mjs" : "./probe-worker.js", meta.url);

/**
 * Health probes in a worker thread of their own, so that a fleet's checks (HTTP, SSE parsing, JSON)
 * never hold up the event loop that serves the API and the gateway. The thread starts with the
 * first probe; should it die, the probes in flight fail (their servers are checked again once the
 * lease runs out) and the next probe starts a new one.
 */
export function createThreadProber(options: ProbeThreadOptions, log: Logger): ThreadProber {
  let worker: Worker | null = null;
  let nextId = 0;
  let probes = 0;
  const pending = new Map<number, { resolve: (r: ProbeResult) => void; reject: (e: Error) => void }>();

  const start = () => {
    const w = new Worker(ENTRY, { workerData: options, name: "switchboard-probes" });
    w.on("message", ({ id, result }: ProbeAnswer) => {
      probes++;
      pending.get(id)?.resolve(result);
      pending.delete(id);
    });
    const fail = (err: Error) => {
      if (worker === w) worker = null;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    };
    w.on("error", (err) => {
      log.error({ err }, "the probe thread failed; a new one starts with the next probe");
      fail(err);
    });
    w.on("exit", (code) => fail(new Error(`the probe thread exited (${code})`)));
    return w;
  };

  return {
    probe: (target) =>
      new Promise<ProbeResult>((resolve, reject) => {
        worker ??= start();
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, target } satisfies ProbeRequest);
      }),
    stats: () => ({ probes, running: worker !== null }),
    async close() {
      const w = worker;
      worker = null;
      await w?.terminate();
    },
  };
}
