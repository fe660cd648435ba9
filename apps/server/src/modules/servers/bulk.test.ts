import { randomUUID } from "node:crypto";
import { FLEET_BATCH_MAX, MAX_TAGS } from "@switchboard/shared";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { as, createTenant, createTestApp, type Tenant, type TestApp, testClock } from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { queryRows } from "../../db/client";
import { createMemoryBus, type InternalEvent } from "../../lib/bus";

const URL = "http://127.0.0.1:9/mcp";

describe.each(testDatabaseKinds())("POST /mcp/servers/bulk on %s", (kind) => {
  const clock = testClock(new Date("2031-06-01T09:00:00.000Z"));
  const events: InternalEvent[] = [];
  const bus = createMemoryBus();
  bus.subscribe((e) => events.push(e));
  let t: TestApp;
  let tenant: Tenant;
  let admin: ReturnType<typeof as>;
  let owner: ReturnType<typeof as>;
  let member: ReturnType<typeof as>;
  let foreign: string;

  const register = async (name: string, extra: Record<string, unknown> = {}) => {
    const res = await admin({ method: "POST", url: "/mcp/servers", payload: { name, url: URL, ...extra } });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };
  const bulk = (payload: unknown, who = admin) => who({ method: "POST", url: "/mcp/servers/bulk", payload });
  const get = async (id: string) => (await admin({ method: "GET", url: `/mcp/servers/${id}` })).json();
  const audit = (ids: string[]) =>
    queryRows<{ action: string; target_id: string; changes: Record<string, unknown> }>(
      t.database.db,
      sql`SELECT action, target_id, changes FROM audit_logs
          WHERE target_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))
          ORDER BY created_at, target_id`,
    );
  /** What a failed request must leave as it was: the servers' rows and their audit trail. */
  const snapshot = async (ids: string[]) => ({
    servers: await queryRows(
      t.database.db,
      sql`SELECT * FROM mcp_servers WHERE id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid) ORDER BY id`,
    ),
    audit: await audit(ids),
  });
  const published = (type: string) =>
    events.flatMap((e) => (e.type === "public" && e.event.type === type ? [e.event] : []));

  beforeAll(async () => {
    t = await createTestApp(kind, { clock, events: bus });
    tenant = await createTenant(t.app);
    admin = as(t.app, tenant.admin);
    owner = as(t.app, tenant.owner);
    member = as(t.app, tenant.member);
    const other = await createTenant(t.app);
    foreign = (
      await as(
        t.app,
        other.admin,
      )({ method: "POST", url: "/mcp/servers", payload: { name: "theirs", url: URL } })
    ).json().id;
  });
  beforeEach(() => {
    events.length = 0;
  });
  afterAll(() => t?.close());

  it("disables the enabled servers, leaves those already off out, and audits and publishes each change", async () => {
    const a = await register("dis-a");
    const b = await register("dis-b");
    const off = await register("dis-off", { enabled: false });
    const res = await bulk({ action: "disable", ids: [a, off, b] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ action: "disable", ids: [a, b] });
    for (const id of [a, b])
      expect(await get(id)).toMatchObject({ enabled: false, nextCheckAt: null, version: 2 });
    expect((await get(off)).version).toBe(1);
    const rows = (await audit([a, b, off])).filter((r) => r.action !== "server.create");
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r).toMatchObject({ action: "server.update", changes: { enabled: { from: true, to: false } } });
    }
    expect(new Set(rows.map((r) => r.target_id))).toEqual(new Set([a, b]));
    expect(published("server.updated").map((e) => "server" in e && e.server.id)).toEqual([a, b]);
  });

  it("enables the disabled servers and schedules their check at once, as one update would", async () => {
    const on = await register("en-on");
    const off = await register("en-off", { enabled: false });
    const res = await owner({
      method: "POST",
      url: "/mcp/servers/bulk",
      payload: { action: "enable", ids: [on, off] },
    });
    expect(res.json()).toEqual({ action: "enable", ids: [off] });
    expect(await get(off)).toMatchObject({
      enabled: true,
      nextCheckAt: clock.now().toISOString(),
      version: 2,
    });
    const [row] = (await audit([off])).filter((r) => r.action === "server.update");
    expect(row?.changes).toEqual({ enabled: { from: false, to: true } });
  });

  it("adds tags once each and removes them, listing only the servers whose tags changed", async () => {
    const a = await register("tag-a", { tags: ["prod"] });
    const b = await register("tag-b");
    const tagged = await bulk({ action: "tag", ids: [a, b], tags: ["prod", "eu", "eu"] });
    expect(tagged.statusCode).toBe(200);
    expect(tagged.json()).toEqual({ action: "tag", ids: [a, b] });
    expect((await get(a)).tags).toEqual(["prod", "eu"]);
    expect((await get(b)).tags).toEqual(["prod", "eu"]);

    expect((await bulk({ action: "tag", ids: [a, b], tags: ["eu"] })).json().ids).toEqual([]);

    const untagged = await bulk({ action: "untag", ids: [a, b], tags: ["prod", "missing"] });
    expect(untagged.json()).toEqual({ action: "untag", ids: [a, b] });
    expect((await get(a)).tags).toEqual(["eu"]);
    const updates = (await audit([a])).filter((r) => r.action === "server.update");
    expect(updates.map((r) => r.changes.tags)).toEqual([
      { from: ["prod"], to: ["prod", "eu"] },
      { from: ["prod", "eu"], to: ["eu"] },
    ]);
  });

  it("refuses tags that would take any server over the limit with a 400, and changes none of them", async () => {
    const full = await register("tag-full", {
      tags: Array.from({ length: MAX_TAGS - 1 }, (_, i) => `t${i}`),
    });
    const roomy = await register("tag-roomy");
    const before = await snapshot([full, roomy]);
    const res = await bulk({ action: "tag", ids: [roomy, full], tags: ["x", "y"] });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json().detail).toContain("tag-full");
    expect(await snapshot([full, roomy])).toEqual(before);
    expect(published("server.updated")).toEqual([]);
  });

  it("schedules a check of the enabled servers that need no configuration now, audited as scheduled", async () => {
    const due = await register("chk-due");
    const off = await register("chk-off", { enabled: false });
    const unconfigured = await register("chk-unconfigured", {
      declaredHeaders: [{ name: "X-Token", isRequired: true, isSecret: true }],
    });
    expect((await get(unconfigured)).needsConfiguration).toBe(true);
    // Its first check sits somewhere in the next minute: asked for now, it is due now.
    const res = await bulk({ action: "check", ids: [due, off, unconfigured] });
    expect(res.json()).toEqual({ action: "check", ids: [due] });
    expect((await get(due)).nextCheckAt).toBe(clock.now().toISOString());
    expect((await get(off)).nextCheckAt).toBeNull();
    // Overdue already, it keeps its place in the queue rather than going to the back of it.
    const overdueSince = clock.now().toISOString();
    clock.advance(90_000);
    expect((await bulk({ action: "check", ids: [due] })).json()).toEqual({ action: "check", ids: [due] });
    expect((await get(due)).nextCheckAt).toBe(overdueSince);
    const checks = (await audit([due, off, unconfigured])).filter((r) => r.action === "server.check");
    expect(checks).toEqual([
      { action: "server.check", target_id: due, changes: { scheduled: true } },
      { action: "server.check", target_id: due, changes: { scheduled: true } },
    ]);
  });

  it("deletes the servers, one audit row and one event each", async () => {
    const a = await register("del-a");
    const b = await register("del-b");
    const res = await bulk({ action: "delete", ids: [a, b] });
    expect(res.json()).toEqual({ action: "delete", ids: [a, b] });
    for (const id of [a, b])
      expect((await admin({ method: "GET", url: `/mcp/servers/${id}` })).statusCode).toBe(404);
    const deletes = (await audit([a, b])).filter((r) => r.action === "server.delete");
    expect(deletes.map((r) => [r.target_id, r.changes.name])).toEqual(
      expect.arrayContaining([
        [a, "del-a"],
        [b, "del-b"],
      ]),
    );
    expect(deletes).toHaveLength(2);
    expect(published("server.deleted").map((e) => "serverId" in e && e.serverId)).toEqual([a, b]);
  });

  it("refuses members with a 403 and changes nothing", async () => {
    const a = await register("member-a");
    const before = await snapshot([a]);
    for (const action of ["check", "disable", "delete"]) {
      const res = await bulk({ action, ids: [a] }, member);
      expect(res.statusCode).toBe(403);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    }
    expect(await snapshot([a])).toEqual(before);
  });

  it("answers 404 naming the ids that are not the organization's servers, and changes none of the others", async () => {
    const a = await register("cross-a");
    const unknown = randomUUID();
    const before = await snapshot([a, foreign]);
    for (const action of ["delete", "disable", "check"]) {
      const res = await bulk({ action, ids: [a, foreign, unknown] });
      expect(res.statusCode).toBe(404);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.json().detail).toContain(foreign);
      expect(res.json().detail).toContain(unknown);
      expect(res.json().detail).not.toContain(a);
    }
    expect(await snapshot([a, foreign])).toEqual(before);
    expect(published("server.deleted")).toEqual([]);
  });

  it("refuses malformed requests with a 400 problem naming the field", async () => {
    const a = await register("bad-a");
    const cases: [unknown, string][] = [
      [{ action: "explode", ids: [a] }, "action"],
      [{ action: "tag", ids: [a] }, "tags"],
      [{ action: "delete", ids: [a], tags: ["x"] }, "tags"],
      [{ action: "delete", ids: [] }, "ids"],
      [{ action: "delete", ids: [a, a] }, "ids"],
      [{ action: "delete", ids: ["not-a-uuid"] }, "ids"],
      [{ action: "delete", ids: Array.from({ length: FLEET_BATCH_MAX + 1 }, () => randomUUID()) }, "ids"],
      [{ action: "tag", ids: [a], tags: ["Not A Tag"] }, "tags"],
      [{ action: "delete", ids: [a], extra: true }, ""],
    ];
    for (const [payload, field] of cases) {
      const res = await bulk(payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      if (field) expect(JSON.stringify(res.json().issues ?? res.json())).toContain(field);
    }
    expect((await get(a)).version).toBe(1);
  });
});
