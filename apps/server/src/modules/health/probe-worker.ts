import { parentPort, workerData } from "node:worker_threads";
import { lowerThreadPriority } from "../../lib/thread-priority";
import { createUpstreamDispatcher } from "../upstream/dispatcher";
import { createProber, type ProbeResult } from "./probe";
import { PROBE_THREAD_NICE, type ProbeRequest, type ProbeThreadOptions } from "./probe-thread";
import { hashToolSet } from "./tools";

/**
 * The probe thread: runs health probes for the scheduler, off the event loop that serves the API.
 * It has its own SSRF-guarded dispatcher and era cache; the targets it is sent carry their headers
 * opened, and nothing of them is kept past the probe.
 */
const options = workerData as ProbeThreadOptions;

// Below the process's priority: see PROBE_THREAD_NICE.
lowerThreadPriority(PROBE_THREAD_NICE);
const probe = createProber({
  timeoutMs: options.timeoutMs,
  degradedMs: options.degradedMs,
  maxBodyBytes: options.maxBodyBytes,
  dispatcher: createUpstreamDispatcher({ allowPrivate: options.allowPrivate }),
});

/** A probe reports failure as a value; this covers a bug in it, so the scheduler never waits. */
const failed = (started: number): ProbeResult => ({
  status: "unhealthy",
  latencyMs: Math.round(performance.now() - started),
  error: "internal",
  serverInfo: null,
  tools: [],
  prompts: [],
  resources: [],
  authChallenge: null,
});

parentPort?.on("message", async ({ id, target }: ProbeRequest) => {
  const started = performance.now();
  const result = await probe(target).catch(() => failed(started));
  const answeredAt = Date.now();
  const answer: ProbeResult = { ...result, hashes: hashToolSet(result.tools), answeredAt };
  parentPort?.postMessage({ id, result: answer });
});
// Loaded: the scheduler may start its checks (see ThreadProber.warm).
parentPort?.postMessage({ ready: true });
