import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  addMember,
  createOrg,
  createTestApp,
  ORIGIN,
  signUp,
  type TestApp,
  type TestUser,
} from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { queryRows } from "../../db/client";
import { auditLogs } from "../../db/schema";
import type { Clock } from "../../lib/clock";
import { MASK } from "./mask";
import { scheduleAuditRetention } from "./retention";
import { diff, purgeExpiredAuditLogs, recordAudit } from "./service";

const DAY = 86_400_000;
const origin = { correlationId: "corr-audit-test", ip: "127.0.0.1", userAgent: "vitest" };
const fixedClock = (at: Date): Clock => ({ now: () => at });

describe.each(testDatabaseKinds())("audit trail on %s", (kind) => {
  let t: TestApp;
  let owner: TestUser;
  let orgId: string;

  const list = (query = "", cookie = owner.cookie) =>
    t.app.inject({ method: "GET", url: `/mcp/audit-logs${query}`, headers: { cookie } });

  beforeAll(async () => {
    t = await createTestApp(kind);
    owner = await signUp(t.app);
    orgId = await createOrg(t.app, owner, "Audit Co");
    const db = t.database.db;
    // 30 rows, one a day back from 2026-06-30, alternating two actions and two targets.
    for (let i = 0; i < 30; i++) {
      await db.insert(auditLogs).values({
        tenantId: orgId,
        actorType: "user",
        actorId: i % 3 === 0 ? "actor-a" : "actor-b",
        action: i % 2 === 0 ? "server.create" : "server.delete",
        targetType: "server",
        targetId: `target-${i % 2}`,
        createdAt: new Date(Date.UTC(2026, 5, 30) - i * DAY),
      });
    }
  });
  afterAll(() => t.close());

  describe("GET /mcp/audit-logs", () => {
    it("pages through the trail newest first", async () => {
      const first = await list("?pageSize=10");
      expect(first.statusCode).toBe(200);
      const body = first.json();
      expect(body.page).toBe(1);
      expect(body.pageSize).toBe(10);
      expect(body.total).toBeGreaterThanOrEqual(32); // 30 seeded + organization.create + member.add
      const times = body.items.map((i: { createdAt: string }) => Date.parse(i.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      const last = await list(`?pageSize=10&page=${Math.ceil(body.total / 10)}`);
      expect(last.json().items.length).toBe(body.total % 10 || 10);
      expect((await list("?page=999")).json().items).toEqual([]);
    });

    it("defaults to 50 a page", async () => {
      expect((await list()).json().pageSize).toBe(50);
    });

    it("filters by action, actor, target and time range, alone and together", async () => {
      const deletes = (await list("?action=server.delete&pageSize=200")).json();
      expect(deletes.total).toBe(15);
      expect(deletes.items.every((i: { action: string }) => i.action === "server.delete")).toBe(true);

      const byActor = (await list("?actorId=actor-a&pageSize=200")).json();
      expect(byActor.total).toBe(10);

      const byTarget = (await list("?targetId=target-1")).json();
      expect(byTarget.total).toBe(15);

      const june = (await list("?from=2026-06-21T00:00:00Z&to=2026-06-30T00:00:00Z&pageSize=200")).json();
      expect(june.total).toBe(10);

      const combined = (await list("?action=server.create&actorId=actor-a&from=2026-06-01T00:00:00Z")).json();
      // i even and divisible by 3 → i in {0, 6, 12, 18, 24}, all on or after June 1st (i ≤ 29).
      expect(combined.total).toBe(5);
      expect(
        combined.items.every(
          (i: { action: string; actorId: string }) => i.action === "server.create" && i.actorId === "actor-a",
        ),
      ).toBe(true);
    });

    it.each([
      ["?pageSize=201", "query.pageSize"],
      ["?pageSize=0", "query.pageSize"],
      ["?page=0", "query.page"],
      ["?page=abc", "query.page"],
      ["?from=yesterday", "query.from"],
      ["?from=2026-06-30T00:00:00Z&to=2026-06-01T00:00:00Z", "query.from"],
      ["?action=%3Cscript%3E", "query.action"],
      ["?colour=red", "query.colour"],
    ])("refuses %s with a 400 naming %s", async (query, field) => {
      const res = await list(query);
      expect(res.statusCode).toBe(400);
      expect(res.json().issues.map((i: { path: string }) => i.path)).toContain(field);
    });

    it("lists rows that share a timestamp in the order they were written", async () => {
      const boss = await signUp(t.app);
      const org = await createOrg(t.app, boss, "Same Instant Ltd");
      const at = new Date(Date.UTC(2020, 0, 1));
      const actions = Array.from({ length: 10 }, (_, i) => `server.step${i}`);
      for (const action of actions) {
        await t.database.db.insert(auditLogs).values({
          tenantId: org,
          actorType: "system",
          action,
          targetType: "server",
          createdAt: at,
        });
      }
      const items = (await list(`?to=${at.toISOString()}`, boss.cookie)).json().items as { action: string }[];
      expect(items.map((i) => i.action)).toEqual([...actions].reverse());
    });

    it("shows a tenant only its own trail", async () => {
      const other = await signUp(t.app);
      const otherOrg = await createOrg(t.app, other, "Other Co");
      const mine = (await list("?pageSize=200")).json();
      const theirs = (await list("?pageSize=200", other.cookie)).json();
      expect(mine.items.every((i: { tenantId: string }) => i.tenantId === orgId)).toBe(true);
      expect(theirs.items.every((i: { tenantId: string }) => i.tenantId === otherOrg)).toBe(true);
      expect(theirs.total).toBe(2);
      // Filtering by another tenant's target finds nothing.
      expect((await list(`?targetId=${otherOrg}`)).json().total).toBe(0);
    });
  });

  describe("organization and membership changes made through Better-Auth", () => {
    it("are audited with the acting user, the request's correlation id, ip and user agent", async () => {
      const boss = await signUp(t.app);
      const org = await createOrg(t.app, boss, "Hooks Inc");
      const alice = await signUp(t.app);
      await addMember(t.app, boss, org, alice, "member");
      const memberId = (
        await queryRows<{ id: string }>(
          t.database.db,
          sql`SELECT id FROM member WHERE organization_id = ${org} AND user_id = ${alice.id}`,
        )
      )[0]?.id;
      const role = await t.app.inject({
        method: "POST",
        url: "/api/auth/organization/update-member-role",
        headers: {
          ...ORIGIN,
          cookie: boss.cookie,
          "x-correlation-id": "role-change-0001",
          "user-agent": "ops-console/1.0",
        },
        payload: { memberId, role: "admin", organizationId: org },
      });
      expect(role.statusCode).toBe(200);
      const renamed = await t.app.inject({
        method: "POST",
        url: "/api/auth/organization/update",
        headers: { ...ORIGIN, cookie: boss.cookie },
        payload: { data: { name: "Hooks Incorporated" }, organizationId: org },
      });
      expect(renamed.statusCode).toBe(200);
      const removed = await t.app.inject({
        method: "POST",
        url: "/api/auth/organization/remove-member",
        headers: { ...ORIGIN, cookie: boss.cookie },
        payload: { memberIdOrEmail: alice.email, organizationId: org },
      });
      expect(removed.statusCode).toBe(200);

      const items = (await list("?pageSize=200", boss.cookie)).json().items as {
        action: string;
        actorId: string;
        targetId: string;
        correlationId: string;
        userAgent: string;
        changes: Record<string, unknown>;
      }[];
      expect(items.map((i) => i.action).reverse()).toEqual([
        "member.add",
        "organization.create",
        "invitation.create",
        "invitation.accept",
        "member.role_update",
        "organization.update",
        "member.remove",
      ]);
      const roleRow = items.find((i) => i.action === "member.role_update");
      expect(roleRow).toMatchObject({
        actorId: boss.id,
        targetId: memberId,
        correlationId: "role-change-0001",
        userAgent: "ops-console/1.0",
        changes: { role: { from: "member", to: "admin" }, email: alice.email },
      });
      expect(items.find((i) => i.action === "member.remove")?.actorId).toBe(boss.id);
      expect(items.find((i) => i.action === "invitation.accept")?.actorId).toBe(alice.id);
    });
  });

  describe("recordAudit", () => {
    it("masks secrets whatever the caller passes", async () => {
      await recordAudit(t.database.db, {
        tenantId: orgId,
        actor: { type: "system", name: "test" },
        action: "server.update",
        target: { type: "server", id: "masking" },
        changes: {
          headers: {
            from: [{ name: "Authorization", value: "Bearer old-secret" }],
            to: [{ name: "Authorization", value: "Bearer new-secret" }],
          },
          apiKey: "mcp_plaintext",
          password: "hunter2",
          name: { from: "a", to: "b" },
        },
        origin,
      });
      const [row] = (await list("?targetId=masking")).json().items;
      expect(JSON.stringify(row)).not.toMatch(/old-secret|new-secret|mcp_plaintext|hunter2/);
      expect(row.changes).toEqual({
        headers: {
          from: [{ name: "Authorization", value: MASK }],
          to: [{ name: "Authorization", value: MASK }],
        },
        apiKey: MASK,
        password: MASK,
        name: { from: "a", to: "b" },
      });
    });

    it("commits and rolls back with the change it records", async () => {
      const target = `rollback-${randomUUID()}`;
      await expect(
        t.database.db.transaction(async (tx) => {
          await recordAudit(tx, {
            tenantId: orgId,
            actor: { type: "system", name: "test" },
            action: "server.create",
            target: { type: "server", id: target },
            origin,
          });
          throw new Error("the change failed");
        }),
      ).rejects.toThrow("the change failed");
      expect((await list(`?targetId=${target}`)).json().total).toBe(0);
    });

    it("diffs two snapshots field by field", () => {
      expect(diff({ a: 1, b: [1], c: "x" }, { a: 1, b: [2], d: true })).toEqual({
        b: { from: [1], to: [2] },
        c: { from: "x", to: null },
        d: { from: null, to: true },
      });
    });
  });

  describe("append-only table", () => {
    it.each([
      ["UPDATE", sql`UPDATE audit_logs SET action = 'forged'`],
      ["DELETE", sql`DELETE FROM audit_logs`],
      ["TRUNCATE", sql`TRUNCATE audit_logs`],
    ])("refuses %s outside the retention purge", async (_, statement) => {
      const before = await queryRows(t.database.db, sql`SELECT id, action FROM audit_logs ORDER BY id`);
      await expect(t.database.db.execute(statement)).rejects.toThrow();
      expect(await queryRows(t.database.db, sql`SELECT id, action FROM audit_logs ORDER BY id`)).toEqual(
        before,
      );
    });
  });

  describe("retention", () => {
    it("purges rows older than the retention period and keeps the rest", async () => {
      const tenantId = `retention-${randomUUID()}`;
      const now = new Date(Date.UTC(2033, 0, 15));
      const ages = [1, 365, 7 * 365 - 1, 7 * 365 + 1, 10 * 365];
      for (const age of ages) {
        await t.database.db.insert(auditLogs).values({
          tenantId,
          actorType: "system",
          action: `age.${age}`,
          targetType: "test",
          createdAt: new Date(now.getTime() - age * DAY),
        });
      }
      const kept = async () =>
        (
          await queryRows<{ action: string }>(
            t.database.db,
            sql`SELECT action FROM audit_logs WHERE tenant_id = ${tenantId} ORDER BY created_at DESC`,
          )
        ).map((r) => r.action);
      const purged = await purgeExpiredAuditLogs({
        db: t.database.db,
        clock: fixedClock(now),
        retentionDays: 7 * 365,
      });
      expect(purged).toBeGreaterThanOrEqual(2);
      expect(await kept()).toEqual(["age.1", "age.365", "age.2554"]);
      await purgeExpiredAuditLogs({ db: t.database.db, clock: fixedClock(now), retentionDays: 30 });
      expect(await kept()).toEqual(["age.1"]);
    });

    it("runs on a schedule: at start, then every interval", async () => {
      const tenantId = `schedule-${randomUUID()}`;
      let now = new Date(Date.UTC(2040, 0, 1));
      const clock: Clock = { now: () => now };
      const insert = (action: string, at: Date) =>
        t.database.db
          .insert(auditLogs)
          .values({ tenantId, actorType: "system", action, targetType: "test", createdAt: at });
      const count = async () =>
        (
          await queryRows<{ n: number }>(
            t.database.db,
            sql`SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = ${tenantId}`,
          )
        )[0]?.n;

      await insert("old", new Date(now.getTime() - 11 * DAY));
      await insert("recent", new Date(now.getTime() - 5 * DAY));
      const stop = scheduleAuditRetention({
        db: t.database.db,
        clock,
        log: pino({ level: "silent" }),
        retentionDays: 10,
        intervalSeconds: 1,
      });
      try {
        await vi.waitFor(async () => expect(await count()).toBe(1));
        now = new Date(now.getTime() + 6 * DAY); // "recent" is now 11 days old
        await vi.waitFor(async () => expect(await count()).toBe(0), { timeout: 5000, interval: 100 });
      } finally {
        await stop();
      }
    });
  });
});
