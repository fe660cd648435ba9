import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase, queryRows } from "../../src/db/client";
import { type RunningMcpServer, startMcpServer } from "../../src/demo/mcp-servers";
import { BASE_URL } from "../users";
import { createdNames, eventsSocket, http, ownerOverHttp } from "./clients";
import {
  buildServer,
  missingServices,
  type Postgres,
  type RedisServer,
  type Switchboard,
  startPostgres,
  startRedis,
  startSwitchboard,
  until,
} from "./services";

const missing = missingServices();
if (missing) console.warn(`Two-instance fault tests skipped: ${missing}`);

/** Requests a minute for an owner, on both instances together. */
const LIMIT = 30;

describe.skipIf(missing)(
  `two Switchboard processes on one PostgreSQL and one Redis${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let cluster: Postgres;
    let redis: RedisServer;
    let mcp: RunningMcpServer;
    let db: Database;
    const instances: Switchboard[] = [];
    let a: Switchboard;
    let b: Switchboard;

    beforeAll(async () => {
      buildServer();
      [cluster, redis, mcp] = await Promise.all([
        startPostgres(),
        startRedis(),
        // Answers every request a little late, so that one scheduler cannot take every check alone.
        startMcpServer({ name: "fleet", behaviour: "slow", delayMs: 100 }),
      ]);
      db = (await openDatabase({ kind: "postgres", url: cluster.url, poolSize: 1 })) as Database;
      // What instances behind one load balancer share: the database, Redis, and the secrets.
      const env = {
        DATABASE_URL: cluster.url,
        REDIS_URL: redis.url,
        REDIS_PREFIX: "faults:",
        BASE_URL,
        AUTH_SECRET: randomBytes(24).toString("hex"),
        SECRETS_KEY: randomBytes(32).toString("hex"),
        LOG_LEVEL: "debug",
        RATE_LIMIT_ADMIN: String(LIMIT),
        RATE_LIMIT_AUTH_PER_IP: "1000",
        SCHEDULER: "on",
        SCHEDULER_CONCURRENCY: "2",
        SCHEDULER_BATCH: "2",
        SCHEDULER_IDLE_MS: "50",
        PROBE_TIMEOUT_MS: "5000",
      };
      // Started together: they migrate the same database at the same moment, as a deploy does.
      const started = await Promise.allSettled([startSwitchboard(env), startSwitchboard(env)]);
      for (const s of started) if (s.status === "fulfilled") instances.push(s.value);
      const failed = started.find((s) => s.status === "rejected");
      if (failed) throw failed.reason;
      [a, b] = instances as [Switchboard, Switchboard];
    }, 90_000);
    afterAll(async () => {
      await Promise.allSettled([...instances.map((i) => i.kill()), db?.close(), mcp?.close()]);
      await Promise.allSettled([redis?.close(), cluster?.close()]);
    });

    it("share rate limits: what one instance counted, the other refuses past", async () => {
      const owner = await ownerOverHttp(a.base);
      const [onA, onB] = [http(a.base, owner.cookie), http(b.base, owner.cookie)];
      for (let i = 0; i < LIMIT / 2; i++) {
        expect((await onA("GET", "/mcp/servers")).status).toBe(200);
        expect((await onB("GET", "/mcp/servers")).status).toBe(200);
      }
      for (const call of [onA, onB]) {
        const res = await call("GET", "/mcp/servers");
        expect(res.status).toBe(429);
        expect(res.body).toMatchObject({ code: "RATE_LIMITED" });
      }
    });

    it("share events: a change made on one instance reaches a socket on the other", async () => {
      const owner = await ownerOverHttp(a.base);
      const sockets = [await eventsSocket(a.base, owner.cookie), await eventsSocket(b.base, owner.cookie)];
      try {
        const [onA, onB] = sockets as [(typeof sockets)[number], (typeof sockets)[number]];
        const create = (base: string, name: string) =>
          http(base, owner.cookie)("POST", "/mcp/servers", {
            name,
            url: "http://127.0.0.1:9/mcp",
            enabled: false,
          });
        expect((await create(a.base, "made-on-a")).status).toBe(201);
        expect((await create(b.base, "made-on-b")).status).toBe(201);
        await until(
          "each change on the other instance's socket",
          () =>
            createdNames(onB.messages).includes("made-on-a") &&
            createdNames(onA.messages).includes("made-on-b"),
        );
      } finally {
        for (const s of sockets) s.ws.close();
      }
    });

    it("share the health checks: each server is checked once per due time, by one instance or the other", async () => {
      const owner = await ownerOverHttp(a.base);
      const servers = 12;
      const rounds = 3;
      for (let i = 0; i < servers; i++) {
        const res = await http(i % 2 ? b.base : a.base, owner.cookie)("POST", "/mcp/servers", {
          name: `fleet-${i}`,
          url: `${mcp.url}?s=${i}`,
          // An hour: the only due times are the ones this test sets (a new server's first check
          // falls somewhere in its first interval).
          checkIntervalSeconds: 3600,
        });
        expect(res.status).toBe(201);
      }
      const checks = () =>
        queryRows<{ server_id: string; checks: number }>(
          db.db,
          sql`SELECT s.id AS server_id, count(h.id)::int AS checks FROM mcp_servers s
              LEFT JOIN mcp_server_health h ON h.server_id = s.id
              WHERE s.tenant_id = ${owner.orgId} GROUP BY s.id`,
        );
      for (let round = 1; round <= rounds; round++) {
        // Due, all at once, for both schedulers to race for.
        await db.db.execute(
          sql`UPDATE mcp_servers SET next_check_at = now() WHERE tenant_id = ${owner.orgId}`,
        );
        await until(
          `round ${round} of checks`,
          async () => (await checks()).filter((c) => c.checks >= round).length === servers,
          30_000,
        );
        // Whatever both schedulers still hold of this round is done: no second check comes in late.
        await new Promise((r) => setTimeout(r, 300));
        expect((await checks()).map((c) => c.checks)).toEqual(Array(servers).fill(round));
      }
      // Both instances took part, and between them checked each server exactly once a round.
      const ids = new Set((await checks()).map((c) => c.server_id));
      const checkedBy = (s: Switchboard) =>
        s
          .logs()
          .flatMap((l) =>
            l.msg === "server checked" && ids.has(String(l.serverId)) ? [String(l.serverId)] : [],
          );
      const [byA, byB] = [checkedBy(a), checkedBy(b)];
      expect(byA.length).toBeGreaterThan(0);
      expect(byB.length).toBeGreaterThan(0);
      const perServer = new Map<string, number>();
      for (const id of [...byA, ...byB]) perServer.set(id, (perServer.get(id) ?? 0) + 1);
      expect([...perServer.values()]).toEqual(Array(servers).fill(rounds));
    }, 60_000);
  },
);
