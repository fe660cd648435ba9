import { join } from "node:path";
import type { Config } from "../config";
import { startServer } from "../server";
import { type RunningMcpServer, startMcpServer } from "./mcp-servers";

export const DEMO_USER = { email: "demo@switchboard.dev", password: "switchboard-demo", name: "Demo User" };
export const DEMO_ORG = { name: "Demo Org", slug: "demo-org" };

const DEMO_SERVERS = [
  {
    name: "weather",
    displayName: "Weather (healthy)",
    description: "Answers at once. Stays **healthy**.",
    tags: ["demo", "healthy"],
    mcp: { name: "weather", tools: [{ name: "forecast", description: "Tomorrow's weather for a city" }] },
  },
  {
    name: "archive",
    displayName: "Archive (slow)",
    description: "Answers correctly, but slowly: **degraded**.",
    tags: ["demo", "slow"],
    mcp: { name: "archive", behaviour: "slow" as const, delayMs: 800 },
  },
  {
    name: "payments",
    displayName: "Payments (flaky)",
    description: "Fails now and then: watch it go **unhealthy** and recover.",
    tags: ["demo", "flaky"],
    mcp: { name: "payments", behaviour: "flaky" as const, failRate: 0.3 },
  },
];

/**
 * `npm run demo`: Switchboard with a demo user and organization and three real MCP servers run
 * in this process (healthy, slow, flaky), checked every 10 seconds so health changes live.
 */
export async function startDemo(base: Config) {
  const config: Config = {
    ...base,
    dataDir: join(base.dataDir, "demo"),
    probe: { ...base.probe, allowPrivate: true, degradedMs: Math.min(base.probe.degradedMs, 2000) },
    scheduler: { ...base.scheduler, enabled: true, idleMs: 500 },
  };
  const mcps: RunningMcpServer[] = [];
  for (const s of DEMO_SERVERS) mcps.push(await startMcpServer(s.mcp));
  const server = await startServer(config);
  const { app } = server;
  const origin = { origin: config.baseUrl };

  const signIn = await app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    headers: origin,
    payload: DEMO_USER,
  });
  const session =
    signIn.statusCode === 200
      ? signIn
      : await app.inject({
          method: "POST",
          url: "/api/auth/sign-up/email",
          headers: origin,
          payload: DEMO_USER,
        });
  if (session.statusCode !== 200) throw new Error(`demo sign-up failed: ${session.body}`);
  const cookie = ([] as string[])
    .concat(session.headers["set-cookie"] ?? [])
    .map((c) => c.split(";")[0])
    .join("; ");
  const headers = { ...origin, cookie };

  const orgs = await app.inject({ method: "GET", url: "/api/auth/organization/list", headers });
  const existing = (orgs.json() as { id: string; slug: string }[]).find((o) => o.slug === DEMO_ORG.slug);
  if (existing) {
    await app.inject({
      method: "POST",
      url: "/api/auth/organization/set-active",
      headers,
      payload: { organizationId: existing.id },
    });
  } else {
    await app.inject({ method: "POST", url: "/api/auth/organization/create", headers, payload: DEMO_ORG });
  }

  // The MCP servers get new ports every run: register them, or point the saved ones at the new ports.
  const listed = await app.inject({ method: "GET", url: "/mcp/servers?tag=demo", headers });
  const saved = new Map((listed.json().items as { id: string; name: string }[]).map((s) => [s.name, s.id]));
  for (const [i, s] of DEMO_SERVERS.entries()) {
    const url = mcps[i]?.url as string;
    const id = saved.get(s.name);
    const res = id
      ? await app.inject({
          method: "PATCH",
          url: `/mcp/servers/${id}`,
          headers,
          payload: { url, enabled: true },
        })
      : await app.inject({
          method: "POST",
          url: "/mcp/servers",
          headers,
          payload: {
            name: s.name,
            displayName: s.displayName,
            description: s.description,
            tags: s.tags,
            url,
            checkIntervalSeconds: 10,
          },
        });
    if (res.statusCode >= 300) throw new Error(`demo server ${s.name}: ${res.body}`);
  }

  app.log.info(
    { url: config.baseUrl, email: DEMO_USER.email, password: DEMO_USER.password },
    "demo ready: sign in with the demo user; servers are checked every 10 seconds",
  );
  process.stdout.write(
    `\n  Switchboard demo: ${config.baseUrl}\n  Sign in as ${DEMO_USER.email} / ${DEMO_USER.password}\n  API reference: ${config.baseUrl}/docs\n\n`,
  );

  return {
    app,
    async stop() {
      await server.stop();
      await Promise.all(mcps.map((m) => m.close()));
    },
  };
}
