import { Agent, get } from "node:http";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, queryRows } from "../../src/db/client";
import { createTestApp } from "../app";
import { BASE_URL } from "../users";
import { http, ownerOverHttp } from "./clients";
import {
  buildServer,
  missingServices,
  type Postgres,
  type Switchboard,
  startPostgres,
  startSwitchboard,
  until,
} from "./services";

const missing = missingServices({ redis: false });
if (missing) console.warn(`SIGTERM fault tests skipped: ${missing}`);

type Outcome = { name: string } & ({ status: number } | { error: string });

describe("a graceful stop of the HTTP server", () => {
  it("closes a keep-alive connection once the request in flight on it is answered, instead of waiting for its client", async () => {
    let arrived = () => {};
    const inFlight = new Promise<void>((r) => {
      arrived = r;
    });
    let answer = () => {};
    const gate = new Promise<void>((r) => {
      answer = r;
    });
    const t = await createTestApp("pglite", {
      routes: (app) =>
        app.get("/test/slow", async () => {
          arrived();
          await gate;
          return { ok: true };
        }),
    });
    // A client that keeps its connections open for the next request, as browsers and proxies do.
    const agent = new Agent({ keepAlive: true });
    try {
      await t.app.listen({ host: "127.0.0.1", port: 0 });
      const { port } = t.app.server.address() as { port: number };
      const response = new Promise<{ status?: number; connection?: string }>((done, fail) =>
        get({ host: "127.0.0.1", port, path: "/test/slow", agent }, (res) => {
          res.resume();
          res.on("end", () => done({ status: res.statusCode, connection: res.headers.connection }));
        }).on("error", fail),
      );
      await inFlight;
      const closed = t.app.close().then(() => "closed");
      await until("the server to stop listening", () => !t.app.server.listening, 5_000);
      answer();
      expect(await response).toEqual({ status: 200, connection: "close" });
      // Without `Connection: close` the idle connection would hold the stop open for the whole
      // keep-alive timeout (72 s by default), past the 15 s a stop is given.
      const waited = new Promise((r) => setTimeout(() => r("still open after 3 s"), 3_000));
      expect(await Promise.race([closed, waited])).toBe("closed");
    } finally {
      agent.destroy();
      await t.close();
    }
  }, 60_000);
});

describe.skipIf(missing)(
  `SIGTERM while writes are in flight${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let cluster: Postgres;
    let server: Switchboard | undefined;

    beforeAll(async () => {
      buildServer();
      cluster = await startPostgres();
    }, 90_000);
    afterAll(async () => {
      try {
        await server?.kill();
      } finally {
        await cluster?.close();
      }
    });

    it("answers every write that reached it, stores exactly the writes it answered, and exits 0 once they are done", async () => {
      server = await startSwitchboard({
        DATABASE_URL: cluster.url,
        BASE_URL,
        SCHEDULER: "off",
        AUTH_SECRET: "faults-secret-faults-secret-faults-secret-0123",
        RATE_LIMIT_ADMIN: "100000",
      });
      const { base } = server;
      const owner = await ownerOverHttp(base);
      const call = http(base, owner.cookie);

      // Eight clients write as fast as they are answered, until the server stops answering.
      const outcomes: Outcome[] = [];
      let sent = 0;
      const writer = async (n: number) => {
        for (let i = 0; ; i++) {
          const name = `w${n}-${i}`;
          sent++;
          try {
            const res = await call("POST", "/mcp/servers", { name, url: `http://127.0.0.1:9/mcp?${name}` });
            outcomes.push({ name, status: res.status });
          } catch (err) {
            const cause = (err as { cause?: { code?: string; message?: string } }).cause;
            outcomes.push({ name, error: cause?.code ?? cause?.message ?? String(err) });
            return;
          }
        }
      };
      const writers = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(writer));
      await until("writes before the signal", () => outcomes.length >= 40, 30_000);
      const atSignal = { sent, answered: outcomes.length };
      server.child.kill("SIGTERM");
      const code = await Promise.race([
        server.exit,
        new Promise((r) => setTimeout(() => r("still running after 20 s"), 20_000)),
      ]);
      await writers;

      expect(code).toBe(0);
      expect(server.output()).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
      expect(server.output()).toContain("shutdown complete");

      // Every write was answered 201, or refused before the server read it (no connection, or a
      // kept-alive one it had just closed): never a 5xx, never an answer cut short.
      const answered = outcomes.filter((o) => "status" in o);
      const refused = outcomes.filter((o) => "error" in o);
      expect(answered.filter((o) => o.status !== 201)).toEqual([]);
      expect(
        refused.filter((o) => !["ECONNREFUSED", "ECONNRESET", "UND_ERR_SOCKET"].includes(o.error)),
      ).toEqual([]);
      // Writes were in flight when the signal came, and were answered.
      expect(atSignal.sent).toBeGreaterThan(atSignal.answered);
      expect(answered.length).toBeGreaterThan(atSignal.answered);
      // Every request that reached the server was completed, before or after the signal.
      const logs = server.logs();
      const incoming = logs.filter((l) => l.msg === "incoming request").map((l) => l.correlationId);
      const completed = new Set(
        logs.filter((l) => l.msg === "request completed").map((l) => l.correlationId),
      );
      expect(incoming.filter((id) => !completed.has(id))).toEqual([]);

      // The database holds exactly the writes that were answered 201, each with its audit row: none
      // was lost, and none was done without its client being told.
      const acknowledged = answered.filter((o) => o.status === 201).map((o) => o.name);
      const check = await openDatabase({ kind: "postgres", url: cluster.url, poolSize: 1 });
      try {
        const rows = await queryRows<{ name: string; audits: number }>(
          check.db,
          sql`SELECT s.name, count(a.id)::int AS audits FROM mcp_servers s
            LEFT JOIN audit_logs a ON a.target_id = s.id::text AND a.action = 'server.create'
            WHERE s.tenant_id = ${owner.orgId} GROUP BY s.name`,
        );
        expect(rows.map((r) => r.name).sort()).toEqual(acknowledged.sort());
        expect(rows.filter((r) => r.audits !== 1)).toEqual([]);
      } finally {
        await check.close();
      }
    }, 90_000);
  },
);
