import type { Socket } from "node:net";
import { sql } from "drizzle-orm";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, queryRows } from "../../src/db/client";
import { isDatabaseUnavailable } from "../../src/db/errors";
import { as, createTenant, createTestApp, type Tenant, type TestApp } from "../app";
import { missingServices, type Postgres, startPostgres, until } from "./services";

const missing = missingServices({ redis: false });
if (missing) console.warn(`PostgreSQL fault tests skipped: ${missing}`);

interface Answer {
  write: boolean;
  status: number;
  id?: string;
  problem?: { code?: string; status?: number };
  contentType?: string;
  retryAfter?: string;
}

/** The session token inside a Better-Auth cookie (the part before its signature). */
const tokenOf = (cookie: string) =>
  decodeURIComponent(/session_token=([^;]+)/.exec(cookie)?.[1] ?? "").split(".")[0] ?? "";

describe.skipIf(missing)(
  `PostgreSQL stopped and restarted under load${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let cluster: Postgres;
    let t: TestApp;
    let tenant: Tenant;

    beforeAll(async () => {
      cluster = await startPostgres();
      t = await createTestApp("postgres", {
        database: await openDatabase({ kind: "postgres", url: cluster.url, poolSize: 10 }),
        // Every request looks its session up, so that the outage meets Better-Auth's queries too.
        env: { SESSION_CACHE_SECONDS: "0" },
      });
      tenant = await createTenant(t.app);
    }, 90_000);
    afterAll(async () => {
      try {
        await t?.close();
      } finally {
        await cluster?.close();
      }
    });

    it("fails a transaction whose connection ends between two queries, without crashing the process", async () => {
      // The fault behind a restart mid-request: PostgreSQL ends a connection the app holds but is
      // not querying (between the statements of a transaction). pg then emits an error on a client
      // nobody listens to, which would end the whole process as an uncaught exception.
      const uncaught: unknown[] = [];
      const record = (err: unknown) => uncaught.push(err);
      process.prependListener("uncaughtException", record);
      const database = await openDatabase({ kind: "postgres", url: cluster.url, poolSize: 2 });
      const admin = await openDatabase({ kind: "postgres", url: cluster.url, poolSize: 1 });
      try {
        const failure = await database.db
          .transaction(async (tx) => {
            const [me] = await queryRows<{ pid: number }>(tx, sql`SELECT pg_backend_pid() AS pid`);
            await admin.db.execute(sql`SELECT pg_terminate_backend(${me?.pid})`);
            await until("the connection to end", async () => {
              const rows = await queryRows(
                admin.db,
                sql`SELECT 1 FROM pg_stat_activity WHERE pid = ${me?.pid}`,
              );
              return rows.length === 0;
            });
            await new Promise((r) => setTimeout(r, 50));
            await tx.execute(sql`SELECT 1`);
          })
          .then(
            () => null,
            (err: unknown) => err,
          );
        expect(isDatabaseUnavailable(failure)).toBe(true);
        expect(uncaught).toEqual([]);
        // The pool has let the broken connection go: the next query gets a new one.
        expect(await queryRows(database.db, sql`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
      } finally {
        process.off("uncaughtException", record);
        await Promise.all([database.close(), admin.close()]);
      }
    });

    it("gives a client whose connection died before its transaction began back to the pool", async () => {
      // One client in the pool: were it lost, the next query would wait for ever.
      const database = await openDatabase({ kind: "postgres", url: cluster.url, poolSize: 1 });
      const pool = (database.db as unknown as { $client: pg.Pool }).$client;
      try {
        await database.db.execute(sql`SELECT 1`);
        // The connection dies as it is lent, as one PostgreSQL closed while it sat idle does.
        pool.once("acquire", (client) =>
          (client as unknown as { connection: { stream: Socket } }).connection.stream.destroy(),
        );
        const failure = await database.db
          .transaction(async (tx) => tx.execute(sql`SELECT 1`))
          .then(
            () => null,
            (err: unknown) => err,
          );
        expect(isDatabaseUnavailable(failure)).toBe(true);
        expect(pool.totalCount - pool.idleCount).toBe(0);
        const next = await Promise.race([
          queryRows<{ one: number }>(database.db, sql`SELECT 1 AS one`),
          new Promise((r) => setTimeout(() => r("no client to lend after 3 s"), 3_000)),
        ]);
        expect(next).toEqual([{ one: 1 }]);
        expect(await database.db.transaction(async (tx) => queryRows(tx, sql`SELECT 2 AS two`))).toEqual([
          { two: 2 },
        ]);
      } finally {
        // Bounded: closing a pool waits for the clients it lent.
        await Promise.race([database.close(), new Promise((r) => setTimeout(r, 2_000))]);
      }
    });

    it("answers 503 with Retry-After while it is down, recovers by itself, and keeps every write it acknowledged", async () => {
      const answers: Answer[] = [];
      let load = true;
      const admin = as(t.app, tenant.admin);
      const member = as(t.app, tenant.member);
      // Six clients writing and reading as fast as the app answers them, until told to stop.
      const client = async (n: number) => {
        for (let i = 0; load; i++) {
          const write = i % 2 === 0;
          const res = write
            ? await admin({
                method: "POST",
                url: "/mcp/servers",
                payload: { name: `c${n}-${i}`, url: `http://127.0.0.1:9/mcp?c=${n}&i=${i}` },
              })
            : await member({ method: "GET", url: "/mcp/servers?pageSize=5" });
          const json = res.headers["content-type"]?.toString().includes("json") ? res.json() : undefined;
          answers.push({
            write,
            status: res.statusCode,
            id: res.statusCode === 201 ? json?.id : undefined,
            problem: res.statusCode >= 400 ? json : undefined,
            contentType: res.headers["content-type"]?.toString(),
            retryAfter: res.headers["retry-after"]?.toString(),
          });
          // Paced while the database is away, as a client told to retry would be.
          if (res.statusCode === 503) await new Promise((r) => setTimeout(r, 20));
        }
      };
      const clients = Promise.all([0, 1, 2, 3, 4, 5].map(client));
      const since = () => answers.length;
      const ok = (from: number, status: number) => answers.slice(from).some((a) => a.status === status);

      try {
        await until("writes before the outage", () => ok(0, 201));
        for (const mode of ["fast", "immediate"] as const) {
          const before = since();
          await until(
            "more writes",
            () => answers.slice(before).filter((a) => a.status === 201).length >= 10,
          );
          // `fast` ends every session and refuses new ones; `immediate` kills the server as a crash does.
          await cluster.stop(mode);
          const down = since();
          await until(
            "503s during the outage",
            () => answers.slice(down).filter((a) => a.status === 503).length >= 10,
          );
          await cluster.start();
          const up = since();
          // Recovered without a restart of the app: answers are successes again, write after write.
          await until(
            "requests to succeed again",
            () => ok(up, 201) && answers.length - up >= 12 && answers.slice(-12).every((a) => a.status < 300),
            20_000,
          );
        }
      } finally {
        load = false;
        await clients;
      }

      // Nothing but success or a 503 that says when to retry: no 500, no hang.
      const statuses = new Set(answers.map((a) => a.status));
      expect([...statuses].sort()).toEqual([200, 201, 503]);
      for (const a of answers.filter((a) => a.status === 503)) {
        expect(a.contentType).toMatch(/^application\/problem\+json/);
        expect(a.retryAfter).toBe("5");
        expect(a.problem).toMatchObject({ code: "UNAVAILABLE", status: 503 });
      }

      // Every write answered 201 is in the database, with the audit row written in its transaction;
      // and no server is there without its audit row (a write that failed left nothing behind).
      const acknowledged = answers.filter((a) => a.status === 201).map((a) => a.id as string);
      expect(acknowledged.length).toBeGreaterThan(20);
      const check = await openDatabase({ kind: "postgres", url: cluster.url, poolSize: 1 });
      try {
        const rows = await queryRows<{ id: string; audits: number }>(
          check.db,
          sql`SELECT s.id, count(a.id)::int AS audits FROM mcp_servers s
              LEFT JOIN audit_logs a ON a.target_id = s.id::text AND a.action = 'server.create'
              WHERE s.tenant_id = ${tenant.orgId} GROUP BY s.id`,
        );
        const stored = new Set(rows.map((r) => r.id));
        expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
        expect(rows.filter((r) => r.audits !== 1)).toEqual([]);
      } finally {
        await check.close();
      }

      // The outage was logged, but no session token was, however the failed queries were reported.
      expect(t.logs.some((l) => l.msg === "database unavailable")).toBe(true);
      const log = JSON.stringify(t.logs);
      for (const user of [tenant.admin, tenant.member]) {
        const token = tokenOf(user.cookie);
        expect(token.length).toBeGreaterThan(10);
        expect(log).not.toContain(token);
      }
    }, 60_000);
  },
);
