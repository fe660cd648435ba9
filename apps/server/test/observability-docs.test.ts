import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMetrics, type GatewayOutcome } from "../src/lib/metrics";

const REPO = resolve(import.meta.dirname, "../../..");
const read = (path: string) => readFileSync(resolve(REPO, path), "utf8");

const OUTCOMES: GatewayOutcome[] = [
  "ok",
  "upstream_error",
  "unreachable",
  "timeout",
  "auth_rejected",
  "refused",
  "rate_limited",
  "client_gone",
  "stream_error",
];

/** Every metric family a fully wired process exports, with its type. */
async function exported(): Promise<Map<string, string>> {
  const metrics = createMetrics({
    orgLabel: true,
    toolsPerServer: 5,
    sources: {
      fleet: async () => ({
        servers: [{ status: "healthy", enabled: true, count: 1 }],
        schedulerLagSeconds: 0,
        down: [{ org: "acme", server: "weather" }],
      }),
      pools: { api: () => ({ max: 20, size: 1, idle: 1, waiting: 0 }) },
      redisUp: () => true,
    },
  });
  const { body } = await metrics.scrape();
  return new Map([...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
}

/** The metric names a PromQL expression reads, histogram series folded into their family. */
const namesIn = (expr: string) =>
  [...expr.matchAll(/\b((?:switchboard|process|nodejs)_[a-z0-9_]+)/g)].map((m) =>
    (m[1] as string).replace(/_(bucket|sum|count)$/, ""),
  );

describe("the operator documentation", () => {
  it("lists in the README every switchboard_ metric Switchboard exports, and no other", async () => {
    const families = [...(await exported()).keys()].filter((n) => n.startsWith("switchboard_"));
    const readme = read("README.md");
    const section = readme.slice(readme.indexOf("### Metrics"), readme.indexOf("### Traces"));
    const listed = [...section.matchAll(/^\| `(switchboard_[a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(families.sort());
    expect(families.length).toBeGreaterThanOrEqual(18);
  });

  it("has a Grafana dashboard whose every query reads metrics Switchboard exports", async () => {
    const families = await exported();
    const dashboard = JSON.parse(read("docs/grafana/switchboard-dashboard.json"));
    const exprs = (dashboard.panels as { targets?: { expr: string }[] }[]).flatMap((p) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    expect(exprs.length).toBeGreaterThan(20);
    for (const expr of exprs) {
      const names = namesIn(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(families.has(name), `${name} in ${expr}`).toBe(true);
    }
    const used = new Set(exprs.flatMap(namesIn));
    for (const name of families.keys())
      if (name.startsWith("switchboard_")) expect(used.has(name), `${name} is on no panel`).toBe(true);
  });

  it("has alert rules for a server down 5 minutes, scheduler lag and the gateway's error rate, on exported metrics", async () => {
    const families = await exported();
    const rules = (
      parse(read("docs/prometheus/switchboard-alerts.yml")) as {
        groups: {
          rules: {
            alert: string;
            expr: string;
            for: string;
            labels: { severity: string };
            annotations: { summary: string };
          }[];
        }[];
      }
    ).groups.flatMap((g) => g.rules);
    const byName = new Map(rules.map((r) => [r.alert, r]));
    expect(byName.get("SwitchboardMcpServerDown")).toMatchObject({ for: "5m" });
    expect(byName.get("SwitchboardMcpServerDown")?.expr).toContain("switchboard_server_down");
    expect(byName.get("SwitchboardSchedulerLagging")?.expr).toContain("switchboard_scheduler_lag_seconds");
    expect(byName.get("SwitchboardGatewayErrorRate")?.expr).toContain("switchboard_gateway_requests_total");
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(rule.labels.severity, rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      for (const name of namesIn(rule.expr))
        expect(families.has(name), `${name} in ${rule.alert}`).toBe(true);
      for (const m of rule.expr.matchAll(/outcome=~"([^"]+)"/g))
        for (const outcome of (m[1] as string).split("|")) expect(OUTCOMES).toContain(outcome);
    }
  });
});
