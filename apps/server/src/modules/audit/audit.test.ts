import { randomUUID } from "node:crypto";
import { AUDIT_ACTIONS, AUDIT_EXPORT_COLUMNS, AuditLog } from "@switchboard/shared";
import { sql } from "drizzle-orm";
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
import { startModernMcpServer } from "../../demo/modern-servers";
import { createJobs } from "../../jobs";
import type { Clock } from "../../lib/clock";
import { MASK } from "./mask";
import { csvLine, diff, EXPORT_BATCH_SIZE, purgeExpiredAuditLogs, recordAudit } from "./service";

const DAY = 86_400_000;
const origin = { correlationId: "corr-audit-test", ip: "127.0.0.1", userAgent: "vitest" };
const fixedClock = (at: Date): Clock => ({ now: () => at });

/** Reads CSV as RFC 4180 writes it: CRLF records, quoted fields with doubled quotes. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i++;
    } else field += c;
  }
  if (field !== "" || record.length > 0)
    throw new Error(`CSV does not end with CRLF: ${JSON.stringify(field)}`);
  return records;
}

/** The CSV's rows as objects keyed by its header. */
function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  expect(header).toEqual([...AUDIT_EXPORT_COLUMNS]);
  return rows.map((r) => {
    expect(r.length).toBe(AUDIT_EXPORT_COLUMNS.length);
    return Object.fromEntries(AUDIT_EXPORT_COLUMNS.map((c, i) => [c, r[i] ?? ""]));
  });
}

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
      const steps = Array.from({ length: 10 }, (_, i) => `step-${i}`);
      for (const step of steps) {
        await t.database.db.insert(auditLogs).values({
          tenantId: org,
          actorType: "system",
          action: "server.update",
          targetType: "server",
          targetId: step,
          createdAt: at,
        });
      }
      const items = (await list(`?to=${at.toISOString()}`, boss.cookie)).json().items as {
        targetId: string;
      }[];
      expect(items.map((i) => i.targetId)).toEqual([...steps].reverse());
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

  it("names each row's actor and target, as they are called now or were last called", async () => {
    const boss = await signUp(t.app, `names-${randomUUID()}@example.com`);
    await createOrg(t.app, boss, `Names ${randomUUID().slice(0, 6)}`);
    const api = (method: "POST" | "DELETE" | "PATCH", url: string, payload?: object) =>
      t.app.inject({
        method,
        url,
        headers: { ...ORIGIN, cookie: boss.cookie },
        ...(payload ? { payload } : {}),
      });
    const server = (
      await api("POST", "/mcp/servers", {
        name: "named",
        displayName: "Named One",
        url: "http://127.0.0.1:9/mcp",
      })
    ).json();
    const key = (await api("POST", `/mcp/servers/${server.id}/keys`, { name: "deploy key" })).json();
    await api("DELETE", `/mcp/servers/${server.id}`);
    const kept = (
      await api("POST", "/mcp/servers", { name: "kept", displayName: "Kept", url: "http://127.0.0.1:9/mcp" })
    ).json();
    const items = (await list("?pageSize=200", boss.cookie)).json().items as Record<string, unknown>[];
    const find = (action: string, targetId?: string) =>
      items.find((i) => i.action === action && (!targetId || i.targetId === targetId));
    expect(find("server.create", server.id)).toMatchObject({
      actorName: boss.email.split("@")[0],
      actorEmail: boss.email,
      targetName: "Named One",
      targetExists: false,
    });
    expect(find("server.create", kept.id)).toMatchObject({ targetName: "Kept", targetExists: true });
    expect(find("organization.create")).toMatchObject({ targetExists: true });
    // Deleted since: the names come from what the rows recorded.
    expect(find("key.create")).toMatchObject({ targetId: key.id, targetName: "deploy key" });
    expect(find("server.delete")).toMatchObject({ targetName: "Named One" });
    expect(find("organization.create")?.targetName).toMatch(/^Names /);
  });

  it("writes exactly the actions of the shared AuditAction enum, every one of them", async () => {
    const boss = await signUp(t.app);
    const org = await createOrg(t.app, boss, "Every Action Ltd");
    const auth = (user: TestUser, path: string, payload: object) =>
      t.app.inject({
        method: "POST",
        url: `/api/auth/organization/${path}`,
        headers: { ...ORIGIN, cookie: user.cookie },
        payload,
      });
    const ok = async (res: Promise<{ statusCode: number; body: string }>) => {
      const r = await res;
      expect(r.statusCode, r.body).toBeLessThan(300);
      return JSON.parse(r.body || "null");
    };
    const api = (method: "POST" | "PUT" | "PATCH" | "DELETE", url: string, payload?: object) =>
      t.app.inject({
        method,
        url,
        headers: { ...ORIGIN, cookie: boss.cookie },
        ...(payload ? { payload } : {}),
      });

    const alice = await signUp(t.app);
    await addMember(t.app, boss, org, alice, "member");
    const memberId = (
      await queryRows<{ id: string }>(
        t.database.db,
        sql`SELECT id FROM member WHERE organization_id = ${org} AND user_id = ${alice.id}`,
      )
    )[0]?.id;
    await ok(auth(boss, "update-member-role", { memberId, role: "admin", organizationId: org }));
    await ok(auth(boss, "update", { data: { name: "Every Action Limited" }, organizationId: org }));
    await ok(auth(boss, "remove-member", { memberIdOrEmail: alice.email, organizationId: org }));
    const bob = await signUp(t.app);
    const forBob = await ok(
      auth(boss, "invite-member", { email: bob.email, role: "member", organizationId: org }),
    );
    await ok(
      t.app.inject({
        method: "POST",
        url: `/api/invitations/${forBob.id}/reject`,
        headers: { ...ORIGIN, cookie: bob.cookie },
      }),
    );
    const forCarol = await ok(
      auth(boss, "invite-member", { email: "carol@example.com", role: "member", organizationId: org }),
    );
    await ok(auth(boss, "cancel-invitation", { invitationId: forCarol.id }));

    const mcp = await startModernMcpServer({ tools: [{ name: "t", description: "before" }] });
    const server = await ok(api("POST", "/mcp/servers", { name: "every", url: mcp.url }));
    await ok(api("PATCH", `/mcp/servers/${server.id}`, { displayName: "Every" }));
    await ok(api("POST", `/mcp/servers/${server.id}/check`));
    await ok(api("PUT", `/mcp/servers/${server.id}/tools/pin`));
    mcp.setTools([{ name: "t", description: "after" }]);
    await ok(api("POST", `/mcp/servers/${server.id}/check`));
    await ok(api("DELETE", `/mcp/servers/${server.id}/tools/pin`));
    await mcp.close();
    await ok(api("POST", "/mcp/probe", { url: "http://127.0.0.1:9/mcp" }));
    await ok(
      api("POST", "/mcp/servers/import", {
        name: "com.example/imported",
        description: "Imported.",
        version: "1.0.0",
        remotes: [{ type: "streamable-http", url: "http://127.0.0.1:9/mcp" }],
      }),
    );
    await ok(api("PATCH", "/mcp/registry/settings", { catalogPublic: true }));
    const key = await ok(api("POST", `/mcp/servers/${server.id}/keys`, { name: "k" }));
    await ok(api("DELETE", `/mcp/servers/${server.id}/keys/${key.id}`));
    await ok(api("DELETE", `/mcp/servers/${server.id}`));
    await ok(auth(boss, "delete", { organizationId: org }));

    const written = await queryRows<{ action: string }>(
      t.database.db,
      sql`SELECT DISTINCT action FROM audit_logs WHERE tenant_id = ${org}`,
    );
    expect(written.map((r) => r.action).sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  describe("GET /mcp/audit/export", () => {
    const download = (query: string, cookie = owner.cookie) =>
      t.app.inject({ method: "GET", url: `/mcp/audit/export${query}`, headers: { cookie } });
    const listed = async (query: string, cookie = owner.cookie) =>
      (await list(`?pageSize=200${query}`, cookie)).json().items as AuditLog[];

    it("downloads the filtered trail as CSV, newest first, named after the organization and the day", async () => {
      const res = await download("?format=csv&action=server.delete&actorId=actor-b");
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
      const today = new Date().toISOString().slice(0, 10);
      expect(res.headers["content-disposition"]).toBe(
        `attachment; filename="switchboard-audit-audit-co-${today}.csv"`,
      );
      expect(res.headers["cache-control"]).toBe("no-store");
      const rows = csvObjects(res.body);
      const expected = await listed("&action=server.delete&actorId=actor-b");
      expect(expected.length).toBe(10); // odd i, not divisible by 3
      expect(rows.map((r) => r.id)).toEqual(expected.map((i) => i.id));
      expect(rows.every((r) => r.action === "server.delete" && r.actorId === "actor-b")).toBe(true);
      expect(rows[0]).toMatchObject({ targetType: "server", targetExists: "false", ip: "", changes: "" });
    });

    it("is CSV by default, and honours the time range and target", async () => {
      const query = "&targetId=target-0&from=2026-06-11T00:00:00Z&to=2026-06-20T23:59:59Z";
      const res = await download(`?${query.slice(1)}`);
      expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
      const rows = csvObjects(res.body);
      expect(rows.map((r) => r.id)).toEqual((await listed(query)).map((i) => i.id));
      expect(rows.length).toBe(5);
      expect(rows.map((r) => r.createdAt)).toEqual(
        ["2026-06-20", "2026-06-18", "2026-06-16", "2026-06-14", "2026-06-12"].map(
          (d) => `${d}T00:00:00.000Z`,
        ),
      );
    });

    it("downloads JSON lines: one audit row per line, as the list returns it", async () => {
      const res = await download("?format=jsonl&actorId=actor-a");
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("application/x-ndjson");
      expect(res.headers["content-disposition"]).toMatch(
        /filename="switchboard-audit-audit-co-\d{4}-\d{2}-\d{2}\.jsonl"/,
      );
      expect(res.body.endsWith("\n")).toBe(true);
      const lines = res.body.trimEnd().split("\n");
      const rows = lines.map((line) => AuditLog.parse(JSON.parse(line)));
      expect(rows).toEqual(await listed("&actorId=actor-a"));
      expect(rows.length).toBe(10);
    });

    it("quotes fields as RFC 4180 says and defuses what a spreadsheet would run as a formula", async () => {
      const nasty = {
        actorId: '=HYPERLINK("http://127.0.0.1/x","click")',
        targetId: "+1+2",
        correlationId: "-2+3",
        ip: "@SUM(A1)",
        userAgent: 'agent, with "quotes"\r\nand a second line',
      };
      const marker = `csv-${randomUUID()}`;
      await t.database.db.insert(auditLogs).values({
        tenantId: orgId,
        actorType: "user",
        action: "server.update",
        targetType: marker,
        changes: { note: "=1+1", tab: "\tx", cr: "\rx" },
        ...nasty,
      });
      await t.database.db.insert(auditLogs).values({
        tenantId: orgId,
        actorType: "system",
        actorId: "\tTabbed",
        action: "server.update",
        targetType: marker,
        targetId: "\rReturn",
      });
      const res = await download("?action=server.update");
      expect(res.body).toContain(`"'=HYPERLINK(""http://127.0.0.1/x"",""click"")"`);
      expect(res.body).toContain(`"'\rReturn"`);
      const rows = csvObjects(res.body).filter((r) => r.targetType === marker);
      expect(rows).toHaveLength(2);
      expect(rows[1]).toMatchObject({
        actorId: `'${nasty.actorId}`,
        targetId: "'+1+2",
        correlationId: "'-2+3",
        ip: "'@SUM(A1)",
        userAgent: nasty.userAgent,
      });
      // A JSON cell starts with "{": nothing to defuse, and it reads back whole.
      expect(JSON.parse(rows[1]?.changes ?? "")).toEqual({ note: "=1+1", tab: "\tx", cr: "\rx" });
      expect(rows[0]).toMatchObject({ actorId: "'\tTabbed", targetId: "'\rReturn", changes: "" });
      // What needs neither stays as it is.
      expect(csvLine(["plain", "2026-01-01T00:00:00.000Z", ""])).toBe("plain,2026-01-01T00:00:00.000Z,\r\n");
    });

    it("holds no secret: rows are masked when written", async () => {
      await recordAudit(t.database.db, {
        tenantId: orgId,
        actor: { type: "system", name: "test" },
        action: "server.update",
        target: { type: "server", id: "export-masking" },
        changes: {
          headers: { from: [], to: [{ name: "Authorization", value: "Bearer export-secret" }] },
          token: "export-token",
        },
        origin,
      });
      for (const format of ["csv", "jsonl"]) {
        const res = await download(`?format=${format}&targetId=export-masking`);
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toMatch(/export-secret|export-token/);
        expect(res.body).toContain(MASK);
      }
    });

    it("streams every row, through as many batches as it takes", async () => {
      const boss = await signUp(t.app);
      const org = await createOrg(t.app, boss, `Big ${randomUUID().slice(0, 6)}`);
      const n = EXPORT_BATCH_SIZE * 2 + 37;
      // Half at the database's clock (microseconds on PostgreSQL), half in groups sharing one
      // instant, so that batches end inside a group: the cursor must keep their order exactly.
      const at = new Date(Date.UTC(2025, 0, 1));
      await t.database.db.insert(auditLogs).values(
        Array.from({ length: n }, (_, i) => ({
          tenantId: org,
          actorType: "system" as const,
          action: "server.check" as const,
          targetType: "server",
          targetId: `bulk-${i}`,
          ...(i % 2 === 0 ? { createdAt: new Date(at.getTime() + Math.floor(i / 300) * 1000) } : {}),
        })),
      );
      const res = await download("?format=jsonl&action=server.check", boss.cookie);
      expect(res.statusCode).toBe(200);
      const ids = res.body
        .trimEnd()
        .split("\n")
        .map((line) => (JSON.parse(line) as AuditLog).targetId);
      expect(ids).toHaveLength(n);
      expect(new Set(ids).size).toBe(n);
      // The same order as the list's pages.
      const paged: string[] = [];
      for (let page = 1; paged.length < n; page++) {
        const items = (await list(`?action=server.check&pageSize=200&page=${page}`, boss.cookie)).json()
          .items;
        paged.push(...items.map((i: AuditLog) => i.targetId));
      }
      expect(ids).toEqual(paged);

      const csv = await download("?action=server.check", boss.cookie);
      expect(csvObjects(csv.body)).toHaveLength(n);
    });

    it("is for owners and admins: a member gets a 403", async () => {
      const member = await signUp(t.app);
      await addMember(t.app, owner, orgId, member, "member");
      const res = await download("?format=csv", member.cookie);
      expect(res.statusCode).toBe(403);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.body).not.toContain("actor-a");
      const admin = await signUp(t.app);
      await addMember(t.app, owner, orgId, admin, "admin");
      expect((await download("?format=csv&actorId=actor-a", admin.cookie)).statusCode).toBe(200);
    });

    it("needs a session: 401 without one", async () => {
      const res = await t.app.inject({ method: "GET", url: "/mcp/audit/export" });
      expect(res.statusCode).toBe(401);
    });

    it("exports only the organization's own rows", async () => {
      const other = await signUp(t.app);
      const otherOrg = await createOrg(t.app, other, `Elsewhere ${randomUUID().slice(0, 6)}`);
      const rows = csvObjects((await download("", other.cookie)).body);
      expect(rows.length).toBe(2);
      expect(rows.every((r) => r.tenantId === otherOrg)).toBe(true);
      expect(csvObjects((await download(`?targetId=${otherOrg}`)).body)).toEqual([]);
    });

    it.each([
      ["?format=xml", "query.format"],
      ["?format=csv&page=2", "query.page"],
      ["?action=server.explode", "query.action"],
      ["?from=yesterday", "query.from"],
      ["?from=2026-06-30T00:00:00Z&to=2026-06-01T00:00:00Z", "query.from"],
      ["?actorId=%3Cscript%3E", "query.actorId"],
    ])("refuses %s with a problem+json 400 naming %s", async (query, field) => {
      const res = await download(query);
      expect(res.statusCode).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.json().issues.map((i: { path: string }) => i.path)).toContain(field);
    });

    it("is described in the OpenAPI document with its filters and both file types", async () => {
      const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
      const route = doc.paths["/mcp/audit/export"].get;
      expect(route.parameters.map((p: { name: string }) => p.name).sort()).toEqual(
        ["action", "actorId", "format", "from", "targetId", "to"].sort(),
      );
      expect(Object.keys(route.responses["200"].content).sort()).toEqual([
        "application/x-ndjson",
        "text/csv",
      ]);
      expect(Object.keys(route.responses)).toEqual(expect.arrayContaining(["400", "401", "403"]));
      const row = doc.paths["/mcp/audit-logs"].get.responses["200"].content["application/json"].schema;
      expect(JSON.stringify(row)).toContain("actorEmail");
    });

    it("has a CSV column for every field of an audit row", () => {
      expect([...AUDIT_EXPORT_COLUMNS].sort()).toEqual(Object.keys(AuditLog.shape).sort());
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
          action: "server.update",
          targetType: "test",
          targetId: `age.${age}`,
          createdAt: new Date(now.getTime() - age * DAY),
        });
      }
      const kept = async () =>
        (
          await queryRows<{ target_id: string }>(
            t.database.db,
            sql`SELECT target_id FROM audit_logs WHERE tenant_id = ${tenantId} ORDER BY created_at DESC`,
          )
        ).map((r) => r.target_id);
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

    it("runs among an instance's jobs: at start, then every interval", async () => {
      const tenantId = `schedule-${randomUUID()}`;
      let now = new Date(Date.UTC(2040, 0, 1));
      const clock: Clock = { now: () => now };
      const insert = (targetId: string, at: Date) =>
        t.database.db.insert(auditLogs).values({
          tenantId,
          actorType: "system",
          action: "server.update",
          targetType: "test",
          targetId,
          createdAt: at,
        });
      const count = async () =>
        (
          await queryRows<{ n: number }>(
            t.database.db,
            sql`SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = ${tenantId}`,
          )
        )[0]?.n;

      await insert("old", new Date(now.getTime() - 11 * DAY));
      await insert("recent", new Date(now.getTime() - 5 * DAY));
      const { config } = t.runtime;
      const jobs = createJobs(
        { ...t.runtime, clock, config: { ...config, audit: { retentionDays: 10, purgeIntervalSeconds: 1 } } },
        { scheduler: false },
      );
      jobs.start();
      try {
        await vi.waitFor(async () => expect(await count()).toBe(1));
        now = new Date(now.getTime() + 6 * DAY); // "recent" is now 11 days old
        await vi.waitFor(async () => expect(await count()).toBe(0), { timeout: 5000, interval: 100 });
      } finally {
        await jobs.stop();
      }
    });
  });
});
