import { appendFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { ownCpuMs } from "./cpu";
import { pickWeighted } from "./open-loop-stats";
import { quantile, round } from "./stats";

/**
 * An open-loop load generator, in a process of its own: it sends requests at a fixed offered rate,
 * each at its scheduled time whether or not earlier ones have been answered, and times each answer
 * from that scheduled time, not from when it went out. A closed loop (autocannon's connections
 * each waiting for their last answer) sends less while the server stalls, and so leaves the stall
 * out of its latencies (coordinated omission); here a stall delays every request scheduled during
 * it, as it delays a dashboard's users. It runs for `seconds` or until sent "stop", then answers an
 * OpenLoopResult over IPC.
 */
export interface OpenLoopRequest {
  /** What the request is, for the per-kind figures ("list", "get one", …). */
  kind: string;
  weight: number;
  method: "GET" | "PATCH";
  /** One is picked at random per request. */
  paths: string[];
  /** JSON body; every "$n" becomes a number counting the requests sent. */
  body?: string;
}

export interface OpenLoopSpec {
  url: string;
  /** Requests per second offered. */
  rate: number;
  seconds: number;
  mix: OpenLoopRequest[];
  /** Headers per session; requests take them round-robin. */
  sessions: Record<string, string>[];
  /** An answer not finished after this long counts as a timeout (autocannon's is 10 s). */
  timeoutMs?: number;
}

export interface Latencies {
  requests: number;
  p50: number;
  p99: number;
  max: number;
}

export interface OpenLoopResult {
  /** Requests scheduled (and sent) in the run, and the seconds it lasted. */
  sent: number;
  seconds: number;
  /** 2xx answers, and their latencies in ms from their scheduled send time. */
  ok: Latencies;
  byKind: Record<string, Latencies>;
  /** Connection errors (refusals, resets), requests unanswered after the timeout, other statuses. */
  errors: number;
  timeouts: number;
  non2xx: number;
  /** The first few non-2xx answers, for the log. */
  failures: string[];
  /** How late this process sent requests after their scheduled time (its own queueing), p99 in ms. */
  sendLagP99: number;
  /** CPU time this process spent, in ms. */
  loadCpuMs: number;
}

/** BENCH_TRACE=<file>: every answer slower than 50 ms goes to `<file>.slow` (when, kind, ms). */
function traceSlow(file: string | undefined) {
  return (kind: string, ms: number) => {
    if (file && ms > 50) appendFileSync(`${file}.slow`, `${Date.now()} ${kind} ${Math.round(ms)}\n`);
  };
}

const latencies = (samples: number[]): Latencies => ({
  requests: samples.length,
  p50: round(quantile(samples, 0.5), 2),
  p99: round(quantile(samples, 0.99), 2),
  max: round(samples.length ? Math.max(...samples) : Number.NaN, 2),
});

function run(spec: OpenLoopSpec, stopped: { now: boolean }): Promise<OpenLoopResult> {
  const timeoutMs = spec.timeoutMs ?? 10_000;
  const target = new URL(spec.url);
  // No cap on connections: an open loop opens as many as the answers' lateness needs.
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const weights = spec.mix.map((m) => m.weight);
  const ok: number[] = [];
  const byKind = new Map<string, number[]>();
  const sendLags: number[] = [];
  const failures: string[] = [];
  let errors = 0;
  let timeouts = 0;
  let non2xx = 0;
  let sent = 0;
  let inFlight = 0;
  let turn = 0;
  const cpu0 = ownCpuMs();
  const slow = traceSlow(process.env.BENCH_TRACE);

  let finish: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let sending = true;
  const settle = () => {
    inFlight--;
    if (!sending && inFlight === 0) finish();
  };

  function send(scheduledAt: number) {
    const pick = spec.mix[pickWeighted(weights, Math.random())] as OpenLoopRequest;
    const path = pick.paths[Math.floor(Math.random() * pick.paths.length)] ?? "/";
    const n = sent++;
    const body = pick.body?.replaceAll("$n", String(n));
    const headers: Record<string, string> = { ...(spec.sessions[turn++ % spec.sessions.length] ?? {}) };
    if (body !== undefined) headers["content-type"] = "application/json";
    inFlight++;
    sendLags.push(performance.now() - scheduledAt);
    let done = false;
    const req = request(
      { host: target.hostname, port: target.port, path, method: pick.method, headers, agent },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (text.length < 300) text += chunk;
        });
        res.on("end", () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            const ms = performance.now() - scheduledAt;
            slow(pick.kind, ms);
            ok.push(ms);
            const list = byKind.get(pick.kind) ?? [];
            list.push(ms);
            byKind.set(pick.kind, list);
          } else {
            non2xx++;
            if (failures.length < 5) failures.push(`${pick.method} ${path}: ${status} ${text.slice(0, 200)}`);
          }
          settle();
        });
      },
    );
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      timeouts++;
      req.destroy();
      settle();
    }, timeoutMs);
    req.on("error", (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      errors++;
      if (failures.length < 5) failures.push(`${pick.method} ${path}: ${err.message}`);
      settle();
    });
    req.end(body);
  }

  const gapMs = 1000 / spec.rate;
  const t0 = performance.now();
  const end = t0 + spec.seconds * 1000;
  let next = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Every request whose time has come goes out now, however many that is.
      while (t0 + next * gapMs <= now && t0 + next * gapMs < end && !stopped.now) send(t0 + next++ * gapMs);
      const at = t0 + next * gapMs;
      if (at < end && !stopped.now) {
        setTimeout(tick, Math.max(0, at - performance.now()));
        return;
      }
      const seconds = (Math.min(performance.now(), end) - t0) / 1000;
      sending = false;
      if (inFlight === 0) finish();
      drained.then(() => {
        agent.destroy();
        resolve({
          sent,
          seconds: round(seconds, 2),
          ok: latencies(ok),
          byKind: Object.fromEntries([...byKind].map(([kind, samples]) => [kind, latencies(samples)])),
          errors,
          timeouts,
          non2xx,
          failures,
          sendLagP99: round(quantile(sendLags, 0.99), 2),
          loadCpuMs: ownCpuMs() - cpu0,
        });
      });
    };
    tick();
  });
}

const stopped = { now: false };
process.on("message", (message: OpenLoopSpec | "stop") => {
  if (message === "stop") {
    stopped.now = true;
    return;
  }
  run(message, stopped).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (err: Error) => process.send?.({ error: err.message }, () => process.exit(1)),
  );
});
