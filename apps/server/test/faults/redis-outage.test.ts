import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  as,
  createTenant,
  createTestApp,
  ORIGIN,
  PASSWORD,
  secondInstance,
  type Tenant,
  type TestApp,
} from "../app";
import { createdNames, eventsSocket } from "./clients";
import { missingServices, type RedisServer, startRedis, until } from "./services";

const missing = missingServices({ postgres: false });
if (missing) console.warn(`Redis fault tests skipped: ${missing}`);

const PREFIX = "faults:";

describe.skipIf(missing)(
  `Redis stopped and restarted while requests flow${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let redis: RedisServer;
    let one: TestApp;
    let two: Awaited<ReturnType<typeof secondInstance>>;
    let tenant: Tenant;
    let base: { one: string; two: string };

    beforeAll(async () => {
      redis = await startRedis();
      one = await createTestApp("pglite", {
        env: { REDIS_URL: redis.url, REDIS_PREFIX: PREFIX, EVENTS_HEARTBEAT_SECONDS: "1" },
      });
      // Another instance on the same database and the same Redis, as behind a load balancer.
      two = await secondInstance(one);
      const listen = async (app: TestApp["app"]) => {
        await app.listen({ host: "127.0.0.1", port: 0 });
        return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      };
      base = { one: await listen(one.app), two: await listen(two.app) };
      tenant = await createTenant(one.app);
    }, 90_000);
    afterAll(async () => {
      try {
        await two?.close();
        await one?.close();
      } finally {
        await redis?.close();
      }
    });

    it("fails no request while it is away, delivers events on the instance that made them, and shares limits and events again once it is back", async () => {
      const onOne = await eventsSocket(base.one, tenant.member.cookie);
      const onTwo = await eventsSocket(base.two, tenant.member.cookie);
      const failures: string[] = [];
      let load = true;
      let created = 0;
      let redisAway = false;
      /** Servers created while Redis was away. */
      const createdMeanwhile: string[] = [];
      const write = async (app: TestApp["app"]) => {
        const name = `s-${created++}`;
        const res = await as(
          app,
          tenant.admin,
        )({ method: "POST", url: "/mcp/servers", payload: { name, url: "http://127.0.0.1:9/mcp" } });
        if (redisAway && res.statusCode === 201) createdMeanwhile.push(name);
        return res;
      };
      // One client writes on the first instance, one reads on the second, one signs in there (the
      // auth limiter counts in Redis too), each again as soon as it is answered, until told to stop.
      const steps = [
        () => write(one.app),
        () => as(two.app, tenant.member)({ method: "GET", url: "/mcp/servers?pageSize=5" }),
        () =>
          two.app.inject({
            method: "POST",
            url: "/api/auth/sign-in/email",
            headers: ORIGIN,
            payload: { email: tenant.member.email, password: PASSWORD },
          }),
      ];
      const answered = steps.map(() => 0);
      const clients = Promise.all(
        steps.map(async (step, n) => {
          while (load) {
            const res = await step();
            answered[n] = (answered[n] ?? 0) + 1;
            if (res.statusCode >= 300) failures.push(`${res.statusCode} ${res.body}`);
            // Paced: one embedded database serves both instances, and unpaced reads starve writes.
            await new Promise((r) => setTimeout(r, 10));
          }
        }),
      );
      const answeredSince = (before: number[], least: number[]) =>
        answered.every((count, n) => count - (before[n] ?? 0) >= (least[n] ?? 0));
      const logged = (logs: Record<string, unknown>[], msg: string) =>
        logs.some((l) => String(l.msg).startsWith(msg));

      try {
        await until("events through Redis", () => createdNames(onTwo.messages).length >= 3);
        await redis.stop();
        redisAway = true;
        const stopped = [...answered];
        await until("requests during the outage", () => answeredSince(stopped, [10, 20, 1]), 30_000);
        // Both instances counted in memory meanwhile, and said so.
        await until("the fallback to be logged", () =>
          [one.logs, two.logs].every((logs) => logged(logs, "redis unavailable")),
        );
        // The socket on the instance that made the changes is still told of them.
        await until("the changes on the first instance's socket", () =>
          createdMeanwhile.every((name) => createdNames(onOne.messages).includes(name)),
        );
        redisAway = false;
        await redis.start();
        const restarted = [...answered];
        await until(
          "both instances to use Redis again",
          () => logged(one.logs, "redis is back") && logged(two.logs, "redis is back"),
        );
        await until("requests after the restart", () => answeredSince(restarted, [5, 5, 1]), 30_000);
      } finally {
        load = false;
        await clients;
      }

      expect(failures).toEqual([]);
      expect(createdMeanwhile.length).toBeGreaterThanOrEqual(10);
      // No socket was closed (the one on the other instance missed those changes: without Redis an
      // event reaches only the instance that made it).
      expect([onOne.ws.readyState, onTwo.ws.readyState]).toEqual([onOne.ws.OPEN, onTwo.ws.OPEN]);

      // Events cross instances again: a server created on the first reaches the socket on the second.
      await until(
        "an event from the first instance on the second",
        async () => {
          const res = await write(one.app);
          expect(res.statusCode).toBe(201);
          await new Promise((r) => setTimeout(r, 200));
          return createdNames(onTwo.messages).includes(res.json().name);
        },
        15_000,
      );

      // And limits are counted in Redis again, one count for both instances.
      const owner = (app: TestApp["app"]) => as(app, tenant.owner)({ method: "GET", url: "/mcp/servers" });
      for (const app of [one.app, two.app, one.app, two.app]) expect((await owner(app)).statusCode).toBe(200);
      const check = new Redis(redis.url);
      try {
        expect(await check.get(`${PREFIX}ratelimit:user:${tenant.owner.id}`)).toBe("4");
      } finally {
        check.disconnect();
      }
      onOne.ws.close();
      onTwo.ws.close();
    }, 60_000);
  },
);
