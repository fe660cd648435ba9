import { createServer, type Server } from "node:http";
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import type { Logger } from "./log";

/** How a gateway request ended, in a few stable words (the `outcome` label). */
export type GatewayOutcome =
  /** The server answered 2xx (or 3xx) and the answer reached the client whole. */
  | "ok"
  /** The server answered 4xx or 5xx, or a redirect the gateway does not follow. */
  | "upstream_error"
  /** The server could not be reached (refused, reset, DNS, TLS, a refused address). */
  | "unreachable"
  /** The server did not answer within GATEWAY_UPSTREAM_TIMEOUT_MS. */
  | "timeout"
  /** The server refused the credentials Switchboard holds for it. */
  | "auth_rejected"
  /** The gateway refused the request itself: key, server, transport, headers, size, tool policy. */
  | "refused"
  /** Over the key's rate limit or its open-stream cap. */
  | "rate_limited"
  /** The client went away before the answer ended. */
  | "client_gone"
  /** The answer broke off midway on the server's side. */
  | "stream_error";

/** Which limit refused a request (the `kind` label of `switchboard_rate_limited_total`). */
export type RateLimitKind =
  | "api"
  | "auth_ip"
  | "auth_email"
  | "gateway"
  | "gateway_streams"
  | "events_sockets";

/** One gateway request, as the metrics count it. Org and server are null until the key resolved them. */
export interface GatewayObservation {
  org: string | null;
  server: string | null;
  /** A bounded JSON-RPC method word (see the gateway's `rpcMethodLabel`). */
  rpcMethod: string;
  outcome: GatewayOutcome;
  seconds: number;
  /** The tools that `tools/call` messages of the request named. */
  tools: readonly string[];
  /** The tools the server's last check listed: only these are ever named in a label. */
  knownTools: ReadonlySet<string>;
}

/** What the gauges read at scrape time, from the database. */
export interface FleetSnapshot {
  /** Servers by health status and whether they are enabled. */
  servers: { status: string; enabled: boolean; count: number }[];
  /** How late the oldest due check is, in seconds (0 when none is due). */
  schedulerLagSeconds: number;
  /** Enabled servers whose last check found them unhealthy (at most MAX_DOWN_SERIES). */
  down: { org: string; server: string }[];
}

export interface PoolStats {
  /** The most connections the pool opens. */
  max: number;
  /** Connections open now. */
  size: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

/** Where scrape-time values come from; each is optional (a process without Redis has no `redisUp`). */
export interface MetricSources {
  fleet?: () => Promise<FleetSnapshot>;
  /** PostgreSQL's pools by name: the API's, and the scheduler's own where it has one. */
  pools?: Record<string, () => PoolStats>;
  redisUp?: () => boolean;
}

/**
 * Switchboard's Prometheus metrics: what the code reports (requests, probes, refusals) in words of
 * its own, so that a caller never builds label sets and a test can pass a registry it reads back.
 */
export interface Metrics {
  readonly enabled: boolean;
  /** The Prometheus text exposition of every series, with the scrape-time gauges read now. */
  scrape(): Promise<Scrape>;
  /** Every series as data, read now: what a cluster's primary merges with its workers' (`mergeSeries`). */
  series(): Promise<Series>;
  /** An HTTP request answered: its route template (not its URL), method and status. */
  httpRequest(route: string, method: string, statusCode: number, seconds: number): void;
  gatewayRequest(o: GatewayObservation): void;
  /** A probe finished: its status and short reason (`timeout`, `http_503`, …; null when none). */
  probe(status: string, reason: string | null, seconds: number): void;
  /** A probe started (+1) or ended (-1). */
  probesInFlight(delta: 1 | -1): void;
  rateLimited(kind: RateLimitKind): void;
  /** An events WebSocket opened (+1) or closed (-1). */
  websocketClients(delta: 1 | -1): void;
}

export interface MetricsOptions {
  /** Label series with the organization's slug (false for very large deployments). */
  orgLabel: boolean;
  /** Tools named per server in `switchboard_gateway_tool_calls_total`; the rest count as `other`. */
  toolsPerServer: number;
  sources?: MetricSources;
  log?: Logger;
  /** Process and Node.js metrics (`process_*`, `nodejs_*`). */
  defaultMetrics?: boolean;
}

/** Series of `switchboard_server_down` at most: a mass outage is read from `switchboard_servers`. */
export const MAX_DOWN_SERIES = 1000;
/** The `org`/`server` value of a gateway request refused before its key named a server. */
export const UNRESOLVED = "_unknown";
export const OTHER_TOOL = "other";

const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const PROBE_REASON = /^(?:[a-z_]{1,40}|http_[1-5]\d\d)$/;

/** A Metrics that counts nothing: METRICS_PORT=0. */
export const noMetrics: Metrics = {
  enabled: false,
  scrape: async () => ({ contentType: "text/plain; version=0.0.4; charset=utf-8", body: "" }),
  series: async () => [],
  httpRequest() {},
  gatewayRequest() {},
  probe() {},
  probesInFlight() {},
  rateLimited() {},
  websocketClients() {},
};

export type Scrape = { contentType: string; body: string };
export type Series = MetricObjectWithValues<MetricValue<string>>[];

/**
 * One exposition of several processes' series (a cluster's primary and its workers): counters,
 * histograms and per-process gauges are summed; gauges that every process reads alike from the
 * database say `max`, and Redis being up says `min`.
 */
export async function mergeSeries(parts: Series[]): Promise<Scrape> {
  const merged = AggregatorRegistry.aggregate(parts);
  return { contentType: merged.contentType, body: await merged.metrics() };
}

/** Metrics kept in a registry of their own (never prom-client's global one), served by `serveMetrics`. */
export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  const { orgLabel, toolsPerServer, sources = {}, log } = opts;
  // The event loop's delay is sampled every 50 ms, not prom-client's 10: each sample wakes an idle
  // process, which on a virtual machine cost more of its idle CPU than anything else.
  if (opts.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 50 });
  const registers = [registry];
  const org = (labels: string[]) => (orgLabel ? ["org", ...labels] : labels);

  const httpRequests = new Counter({
    name: "switchboard_http_requests_total",
    help: "HTTP requests answered, by route template, method and status class",
    labelNames: ["route", "method", "status_class"],
    registers,
  });
  const httpDuration = new Histogram({
    name: "switchboard_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route template, method and status class",
    labelNames: ["route", "method", "status_class"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const gatewayRequests = new Counter({
    name: "switchboard_gateway_requests_total",
    help: "Gateway requests, by organization, server, JSON-RPC method and outcome",
    labelNames: org(["server", "rpc_method", "outcome"]),
    registers,
  });
  const gatewayDuration = new Histogram({
    name: "switchboard_gateway_request_duration_seconds",
    help: "Gateway requests from arrival to the end of the answer (a stream's whole life), by organization, server, JSON-RPC method and outcome",
    labelNames: org(["server", "rpc_method", "outcome"]),
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  const toolCalls = new Counter({
    name: "switchboard_gateway_tool_calls_total",
    help: `tools/call requests through the gateway, by organization, server and tool (tools the server's last check listed, at most ${toolsPerServer} a server; the rest are "other")`,
    labelNames: org(["server", "tool"]),
    registers,
  });
  const probes = new Counter({
    name: "switchboard_probes_total",
    help: "Health probes, by resulting status and reason (none when the probe found nothing wrong)",
    labelNames: ["status", "reason"],
    registers,
  });
  const probeDuration = new Histogram({
    name: "switchboard_probe_duration_seconds",
    help: "Time a health probe took, by resulting status",
    labelNames: ["status"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers,
  });
  const probesInFlight = new Gauge({
    name: "switchboard_probes_in_flight",
    help: "Health probes running now in this process (scheduled and requested)",
    registers,
  });
  const rateLimited = new Counter({
    name: "switchboard_rate_limited_total",
    help: "Requests refused by a rate limit, by kind: api, auth_ip, auth_email, gateway, gateway_streams, events_sockets",
    labelNames: ["kind"],
    registers,
  });
  const websocketClients = new Gauge({
    name: "switchboard_websocket_clients",
    help: "Live-event WebSockets open on this instance",
    registers,
  });

  // The fleet is read from the database once per scrape, before the registry is collected; its
  // gauges keep their last values when the read fails (the warning says so).
  let snapshot: FleetSnapshot | null = null;
  const readFleet = async () => {
    if (!sources.fleet) return;
    try {
      snapshot = await sources.fleet();
    } catch (err) {
      snapshot = null;
      log?.warn({ err }, "metrics: could not read servers and schedule from the database");
    }
  };
  if (sources.fleet) {
    new Gauge({
      name: "switchboard_servers",
      help: "Registered servers, by health status and whether they are enabled (the same on every instance: use max, not sum)",
      labelNames: ["status", "enabled"],
      registers,
      aggregator: "max",
      collect() {
        if (!snapshot) return;
        this.reset();
        for (const s of snapshot.servers) this.set({ status: s.status, enabled: String(s.enabled) }, s.count);
      },
    });
    new Gauge({
      name: "switchboard_server_down",
      help: `1 for each enabled server whose last check found it unhealthy (at most ${MAX_DOWN_SERIES} series)`,
      labelNames: org(["server"]),
      registers,
      aggregator: "max",
      collect() {
        if (!snapshot) return;
        this.reset();
        for (const d of snapshot.down.slice(0, MAX_DOWN_SERIES))
          this.set(orgLabel ? { org: d.org, server: d.server } : { server: d.server }, 1);
      },
    });
    new Gauge({
      name: "switchboard_scheduler_lag_seconds",
      help: "How late the oldest due health check is (0 when none is due)",
      registers,
      aggregator: "max",
      collect() {
        if (snapshot) this.set(snapshot.schedulerLagSeconds);
      },
    });
  }
  const pools = Object.entries(sources.pools ?? {});
  if (pools.length > 0) {
    const poolGauge = (name: string, help: string, pick: (p: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["pool"],
        registers,
        collect() {
          for (const [pool, stats] of pools) this.set({ pool }, pick(stats()));
        },
      });
    poolGauge("switchboard_db_pool_max", "The most database connections this process opens", (p) => p.max);
    poolGauge("switchboard_db_pool_size", "Database connections open now", (p) => p.size);
    poolGauge("switchboard_db_pool_idle", "Database connections open and idle", (p) => p.idle);
    poolGauge("switchboard_db_pool_waiting", "Queries waiting for a database connection", (p) => p.waiting);
  }
  const redisUp = sources.redisUp;
  if (redisUp) {
    new Gauge({
      name: "switchboard_redis_up",
      help: "1 while Redis answers (rate limits and events are shared), 0 while it is away",
      registers,
      aggregator: "min",
      collect() {
        this.set(redisUp() ? 1 : 0);
      },
    });
  }

  // Children per label set, looked up once: the HTTP hook runs on every request.
  const http = new Map<string, { count: { inc(): void }; duration: { observe(v: number): void } }>();
  const named = new Map<string, Set<string>>();
  const toolLabel = (serverKey: string, tool: string, known: ReadonlySet<string>) => {
    if (!known.has(tool)) return OTHER_TOOL;
    let tools = named.get(serverKey);
    if (!tools) {
      tools = new Set();
      named.set(serverKey, tools);
    }
    if (tools.has(tool)) return tool;
    if (tools.size >= toolsPerServer) return OTHER_TOOL;
    tools.add(tool);
    return tool;
  };

  return {
    enabled: true,
    async scrape() {
      await readFleet();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    async series() {
      await readFleet();
      return (await registry.getMetricsAsJSON()) as Series;
    },
    httpRequest(route, method, statusCode, seconds) {
      const key = `${route} ${method} ${statusCode}`;
      let child = http.get(key);
      if (!child) {
        const labels = [
          route,
          HTTP_METHODS.has(method) ? method : "other",
          `${Math.floor(statusCode / 100)}xx`,
        ] as const;
        child = { count: httpRequests.labels(...labels), duration: httpDuration.labels(...labels) };
        http.set(key, child);
      }
      child.count.inc();
      child.duration.observe(seconds);
    },
    gatewayRequest(o) {
      const orgValue = o.org ?? UNRESOLVED;
      const server = o.server ?? UNRESOLVED;
      const labels = orgLabel
        ? { org: orgValue, server, rpc_method: o.rpcMethod, outcome: o.outcome }
        : { server, rpc_method: o.rpcMethod, outcome: o.outcome };
      gatewayRequests.inc(labels);
      gatewayDuration.observe(labels, o.seconds);
      if (o.server === null) return;
      const serverKey = `${orgValue}\u0000${server}`;
      for (const tool of o.tools) {
        const name = toolLabel(serverKey, tool, o.knownTools);
        toolCalls.inc(orgLabel ? { org: orgValue, server, tool: name } : { server, tool: name });
      }
    },
    probe(status, reason, seconds) {
      const r = reason === null ? "none" : PROBE_REASON.test(reason) ? reason : "other";
      probes.inc({ status, reason: r });
      probeDuration.observe({ status }, seconds);
    },
    probesInFlight(delta) {
      probesInFlight.inc(delta);
    },
    rateLimited(kind) {
      rateLimited.inc({ kind });
    },
    websocketClients(delta) {
      websocketClients.inc(delta);
    },
  };
}

export interface MetricsServer {
  /** Where /metrics is served, e.g. http://127.0.0.1:9464/metrics. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` on a listener of its own, apart from the API: bound to 127.0.0.1 by
 * default, it answers only whoever can reach that address, and a flood of API traffic never
 * stands between Prometheus and the figures. Port 0 takes any free port.
 */
export async function serveMetrics(
  metrics: Pick<Metrics, "scrape">,
  { host, port, log }: { host: string; port: number; log?: Logger },
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found: try /metrics\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end();
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => {
        res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (err: unknown) => {
        log?.error({ err }, "metrics scrape failed");
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("scrape failed\n");
      },
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
