import { Worker } from "node:worker_threads";
import type { Logger } from "../../lib/log";
import type { ProbeResult, Prober, ProbeTarget } from "./probe";

/**
 * How much lower than the process the probe thread runs (nice, on Linux): checks are background
 * work, and on a busy machine the threads that serve the API and the gateway go first. A probe's
 * latency then includes that wait, as it includes any other on a busy machine.
 */
export const PROBE_THREAD_NICE = 10;

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
/** A probe's answer, or the thread's word that it has loaded and takes probes. */
type ThreadMessage = { id: number; result: ProbeResult } | { ready: true };

export interface ThreadProber {
  probe: Prober;
  /**
   * Starts the thread if it is not running, and resolves once it has loaded (or failed to): the
   * scheduler waits for it before its first claim, so that loading the probe code never falls
   * within its first checks.
   */
  warm(): Promise<void>;
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
 * scheduler (`warm`) or the first probe; should it die, the probes in flight fail (their servers
 * are checked again once the lease runs out) and the next probe starts a new one.
 */
export function createThreadProber(options: ProbeThreadOptions, log: Logger): ThreadProber {
  let worker: Worker | null = null;
  let nextId = 0;
  let probes = 0;
  const pending = new Map<number, { resolve: (r: ProbeResult) => void; reject: (e: Error) => void }>();
  let loaded: Promise<void> = Promise.resolve();

  const start = () => {
    const w = new Worker(ENTRY, { workerData: options, name: "switchboard-probes" });
    let ready = () => {};
    loaded = new Promise((resolve) => {
      ready = resolve;
    });
    w.on("message", (message: ThreadMessage) => {
      if ("ready" in message) return ready();
      probes++;
      pending.get(message.id)?.resolve(message.result);
      pending.delete(message.id);
    });
    const fail = (err: Error) => {
      ready();
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
    warm() {
      worker ??= start();
      return loaded;
    },
    stats: () => ({ probes, running: worker !== null }),
    async close() {
      const w = worker;
      worker = null;
      await w?.terminate();
    },
  };
}
