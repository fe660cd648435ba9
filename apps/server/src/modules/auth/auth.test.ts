import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  addMember,
  cookieOf,
  createOrg,
  createTestApp,
  ORIGIN,
  setActive,
  signUp,
  type TestApp,
} from "../../../test/app";
import { testDatabaseKinds } from "../../../test/db";
import { queryRows } from "../../db/client";

const auditLogs = (t: TestApp, cookie: string) =>
  t.app.inject({ method: "GET", url: "/mcp/audit-logs", headers: { cookie } });

describe.each(testDatabaseKinds())("sessions, tenants and roles on %s", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(kind);
  });
  afterAll(() => t.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets a new user sign up, create an organization, and read its audit log", async () => {
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner, "Acme Labs");
    const res = await auditLogs(t, owner.cookie);
    expect(res.statusCode).toBe(200);
    expect(
      res.json().items.map((i: { action: string; tenantId: string }) => [i.action, i.tenantId]),
    ).toContainEqual(["organization.create", orgId]);
  });

  it("sets the session cookie HttpOnly and SameSite=Lax", async () => {
    await signUp(t.app, "cookie-check@example.com");
    const res = await t.app.inject({
      method: "POST",
      url: "/api/auth/sign-in/email",
      headers: ORIGIN,
      payload: { email: "cookie-check@example.com", password: "correct-horse-battery" },
    });
    const cookie = ([] as string[])
      .concat(res.headers["set-cookie"] ?? [])
      .find((c) => c.includes("session_token"));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/);
  });

  it("answers 401 problem+json without a session, or with a forged one", async () => {
    for (const cookie of [undefined, "better-auth.session_token=forged.value"]) {
      const res = await t.app.inject({
        method: "GET",
        url: "/mcp/audit-logs",
        headers: cookie ? { cookie } : {},
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers["content-type"]).toMatch(/problem\+json/);
      expect(res.json()).toMatchObject({ code: "UNAUTHORIZED", detail: expect.stringMatching(/sign in/i) });
    }
  });

  it("authenticates before it validates: no session is a 401 even with a bad query", async () => {
    const res = await t.app.inject({ method: "GET", url: "/mcp/audit-logs?pageSize=9999" });
    expect(res.statusCode).toBe(401);
  });

  it("answers 403 with a clear detail when no organization is active", async () => {
    const user = await signUp(t.app);
    const res = await auditLogs(t, user.cookie);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      code: "FORBIDDEN",
      detail: expect.stringMatching(/no active organization/i),
    });
  });

  it("lets admins read the audit log and tells members why they cannot", async () => {
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner);
    const admin = await signUp(t.app);
    const member = await signUp(t.app);
    await addMember(t.app, owner, orgId, admin, "admin");
    await addMember(t.app, owner, orgId, member, "member");

    expect((await auditLogs(t, admin.cookie)).statusCode).toBe(200);
    const denied = await auditLogs(t, member.cookie);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().detail).toBe(
      "Only owners and admins of the organization may do this; you are a member",
    );
  });

  it("takes an organization past Better-Auth's default limit of 100 members", async () => {
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner);
    await t.database.db.execute(sql`
      INSERT INTO "user" (id, name, email, email_verified, created_at, updated_at)
      SELECT 'crowd-' || ${orgId} || '-' || n, 'Crowd ' || n, 'crowd-' || n || '-' || ${orgId} || '@example.com',
             true, now(), now()
      FROM generate_series(1, 120) n`);
    await t.database.db.execute(sql`
      INSERT INTO member (id, organization_id, user_id, role, created_at)
      SELECT 'crowd-member-' || ${orgId} || '-' || n, ${orgId}, 'crowd-' || ${orgId} || '-' || n, 'member', now()
      FROM generate_series(1, 120) n`);
    const late = await signUp(t.app);
    await addMember(t.app, owner, orgId, late, "admin");
    expect((await auditLogs(t, late.cookie)).statusCode).toBe(200);
  });

  it("refuses a user removed from the active organization", async () => {
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner);
    const admin = await signUp(t.app);
    await addMember(t.app, owner, orgId, admin, "admin");
    expect((await auditLogs(t, admin.cookie)).statusCode).toBe(200);
    const removed = await t.app.inject({
      method: "POST",
      url: "/api/auth/organization/remove-member",
      headers: { ...ORIGIN, cookie: owner.cookie },
      payload: { memberIdOrEmail: admin.email, organizationId: orgId },
    });
    expect(removed.statusCode).toBe(200);
    const res = await auditLogs(t, admin.cookie);
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toMatch(/not a member/);
  });

  it("ends a session after 60 minutes without activity", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const owner = await signUp(t.app);
    await createOrg(t.app, owner);
    vi.setSystemTime(start + 59 * 60_000);
    // Reading with disableRefresh proves the session is still there without renewing it.
    const alive = await t.app.inject({
      method: "GET",
      url: "/api/auth/get-session?disableRefresh=true",
      headers: { cookie: owner.cookie },
    });
    expect(alive.json()?.user?.id).toBe(owner.id);
    vi.setSystemTime(start + 61 * 60_000);
    const res = await auditLogs(t, owner.cookie);
    expect(res.statusCode).toBe(401);
  });

  it("renews a session on activity, so an active user stays signed in", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const owner = await signUp(t.app);
    await createOrg(t.app, owner);
    for (const minutes of [50, 100, 150]) {
      vi.setSystemTime(start + minutes * 60_000);
      const res = await auditLogs(t, owner.cookie);
      expect(res.statusCode, `after ${minutes} minutes`).toBe(200);
    }
    vi.setSystemTime(start + 211 * 60_000);
    expect((await auditLogs(t, owner.cookie)).statusCode).toBe(401);
  });

  it("invalidates the session on the server at sign-out", async () => {
    const owner = await signUp(t.app);
    await createOrg(t.app, owner);
    expect((await auditLogs(t, owner.cookie)).statusCode).toBe(200);
    const out = await t.app.inject({
      method: "POST",
      url: "/api/auth/sign-out",
      headers: { ...ORIGIN, cookie: owner.cookie },
      payload: {},
    });
    expect(out.statusCode).toBe(200);
    // Replaying the old cookie must not work: the session row is gone.
    expect((await auditLogs(t, owner.cookie)).statusCode).toBe(401);
  });

  it("applies a role change on the very next request", async () => {
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner);
    const admin = await signUp(t.app);
    await addMember(t.app, owner, orgId, admin, "admin");
    expect((await auditLogs(t, admin.cookie)).statusCode).toBe(200);
    const [row] = await queryRows<{ id: string }>(
      t.database.db,
      sql`SELECT id FROM member WHERE organization_id = ${orgId} AND user_id = ${admin.id}`,
    );
    const res = await t.app.inject({
      method: "POST",
      url: "/api/auth/organization/update-member-role",
      headers: { ...ORIGIN, cookie: owner.cookie },
      payload: { memberId: row?.id, role: "member", organizationId: orgId },
    });
    expect(res.statusCode).toBe(200);
    const after = await auditLogs(t, admin.cookie);
    expect(after.statusCode).toBe(403);
    expect(after.json().detail).toMatch(/you are a member/);
  });

  it("acts in the newly active organization on the very next request", async () => {
    const owner = await signUp(t.app);
    const first = await createOrg(t.app, owner);
    const second = await createOrg(t.app, owner);
    await setActive(t.app, owner, first);
    const tenants = async () =>
      new Set((await auditLogs(t, owner.cookie)).json().items.map((i: { tenantId: string }) => i.tenantId));
    expect(await tenants()).toEqual(new Set([first]));
    await setActive(t.app, owner, second);
    expect(await tenants()).toEqual(new Set([second]));
  });

  it.each([
    ["limit=1.5", "query.limit"],
    ["limit=1e308", "query.limit"],
    ["offset=-1", "query.offset"],
    ["offset=99999999999999999999", "query.offset"],
    ["sortBy=nope", "query.sortBy"],
    ["sortBy=__proto__", "query.sortBy"],
    ["filterField=sU~B%7D&filterValue=x", "query.filterField"],
    ["filterField=createdAt&filterValue=2020-01-01&filterOperator=gt", "query.filterField"],
    ["filterField=role", "query.filterValue"],
    ["filterField=role&filterOperator=not_in&filterValue=x", "query.filterValue"],
  ])("refuses to list members with %s, a 400 naming %s", async (query, path) => {
    const owner = await signUp(t.app);
    await createOrg(t.app, owner);
    const res = await t.app.inject({
      method: "GET",
      url: `/api/auth/organization/list-members?${query}`,
      headers: { ...ORIGIN, cookie: owner.cookie },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/problem\+json/);
    expect(res.json().issues.map((i: { path: string }) => i.path)).toEqual([path]);
  });

  it("refuses an organization update with nothing to update, and takes one with a field", async () => {
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner);
    const update = (data: unknown) =>
      t.app.inject({
        method: "POST",
        url: "/api/auth/organization/update",
        headers: { ...ORIGIN, cookie: owner.cookie },
        payload: { data, organizationId: orgId },
      });
    for (const data of [{}, { unknown: 1, "y[7": false }]) {
      const empty = await update(data);
      expect(empty.statusCode).toBe(400);
      expect(empty.json().issues).toEqual([
        { path: "body.data", message: expect.stringMatching(/at least one/) },
      ]);
    }
    expect((await update({ name: "Renamed" })).json().name).toBe("Renamed");
  });

  it.each(["valueOf", "constructor", "toString", "nothing"])(
    "answers whether a member may act on a resource named %s with a 400, not a 500",
    async (resource) => {
      const owner = await signUp(t.app);
      const orgId = await createOrg(t.app, owner);
      const ask = (permissions: Record<string, string[]>) =>
        t.app.inject({
          method: "POST",
          url: "/api/auth/organization/has-permission",
          headers: { ...ORIGIN, cookie: owner.cookie },
          payload: { organizationId: orgId, permissions },
        });
      const res = await ask({ [resource]: ["update"] });
      expect(res.statusCode).toBe(400);
      expect(res.json().issues).toEqual([
        { path: `body.permissions.${resource}`, message: expect.stringMatching(/is not a resource/) },
      ]);
      expect((await ask({ organization: ["update"] })).json()).toMatchObject({ success: true });
    },
  );

  it("lists members paged, sorted and filtered", async () => {
    const owner = await signUp(t.app);
    await createOrg(t.app, owner);
    const res = await t.app.inject({
      method: "GET",
      url: "/api/auth/organization/list-members?limit=10&offset=0&sortBy=createdAt&sortDirection=desc&filterField=role&filterOperator=in&filterValue=owner&filterValue=admin",
      headers: { ...ORIGIN, cookie: owner.cookie },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().members.map((m: { userId: string }) => m.userId)).toEqual([owner.id]);
  });

  it.each([
    ["an organization they are not in", (theirs: string) => ({ organizationId: theirs })],
    ["an organization that does not exist", () => ({ organizationId: "no-such-org" })],
    ["a slug of an organization they are not in", (_: string, slug: string) => ({ organizationSlug: slug })],
  ])("refuses a switch to %s and keeps the active organization", async (_what, body) => {
    const owner = await signUp(t.app);
    const mine = await createOrg(t.app, owner);
    const stranger = await signUp(t.app);
    const theirsSlug = `theirs-${Date.now().toString(36)}`;
    const theirs = await createOrg(t.app, stranger, theirsSlug);
    const res = await t.app.inject({
      method: "POST",
      url: "/api/auth/organization/set-active",
      headers: { ...ORIGIN, cookie: owner.cookie },
      payload: body(theirs, theirsSlug),
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers["content-type"]).toMatch(/problem\+json/);
    const [session] = await queryRows<{ active: string | null }>(
      t.database.db,
      sql`SELECT active_organization_id AS active FROM session WHERE user_id = ${owner.id}`,
    );
    expect(session?.active).toBe(mine);
    expect((await auditLogs(t, owner.cookie)).statusCode).toBe(200);
  });

  it.each(["get-organization", "get-full-organization"])(
    "refuses a %s that names its own organization by id and another by slug, keeping the active one",
    async (endpoint) => {
      const owner = await signUp(t.app);
      const mine = await createOrg(t.app, owner);
      const stranger = await signUp(t.app);
      const theirsSlug = `theirs-${Date.now().toString(36)}`;
      await createOrg(t.app, stranger, theirsSlug);
      const res = await t.app.inject({
        method: "GET",
        url: `/api/auth/organization/${endpoint}?organizationId=${mine}&organizationSlug=${theirsSlug}`,
        headers: { ...ORIGIN, cookie: owner.cookie },
      });
      expect(res.statusCode).toBe(403);
      const [session] = await queryRows<{ active: string | null }>(
        t.database.db,
        sql`SELECT active_organization_id AS active FROM session WHERE user_id = ${owner.id}`,
      );
      expect(session?.active).toBe(mine);
    },
  );

  it("refuses a cross-site sign-in without a trusted Origin", async () => {
    const user = await signUp(t.app);
    const res = await t.app.inject({
      method: "POST",
      url: "/api/auth/sign-in/email",
      headers: { origin: "https://evil.example.com", cookie: user.cookie },
      payload: { email: user.email, password: "correct-horse-battery" },
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers["content-type"]).toMatch(/problem\+json/);
  });

  it.each([
    ["a NUL", "%00"],
    ["a bad escape", "%E0%A4%A"],
    ["no signature", "x".repeat(5000)],
  ])(
    "answers a session cookie with %s as no session, on Better-Auth's routes and ours",
    async (_what, value) => {
      const cookie = `better-auth.session_token=${value}`;
      for (const [method, url] of [
        ["POST", "/api/auth/organization/update"],
        ["POST", "/api/auth/sign-out"],
        ["GET", "/api/auth/organization/get-full-organization?organizationId=x"],
        ["GET", "/mcp/servers"],
      ] as const) {
        const res = await t.app.inject({
          method,
          url,
          headers: { ...ORIGIN, cookie },
          ...(method === "POST" ? { payload: { data: { name: "x" } } } : {}),
        });
        expect(res.statusCode, `${method} ${url}`).toBeLessThan(500);
        expect(res.headers["content-type"]).toMatch(/json/);
      }
    },
  );

  it.each([
    ["__proto__", "x"],
    ["constructor", "x"],
    ["toString", "a\u0000b"],
  ])("checks a query parameter named %s like any other, without a 500", async (name, value) => {
    const user = await signUp(t.app);
    const url = `/api/auth/get-session?${name}=${encodeURIComponent(value)}`;
    const res = await t.app.inject({ method: "GET", url, headers: { ...ORIGIN, cookie: user.cookie } });
    if (value.includes("\u0000")) {
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: "VALIDATION", issues: [{ path: `query.${name}` }] });
    } else {
      expect(res.statusCode).toBe(200);
      expect(res.json().user.email).toBe(user.email);
    }
  });
});

describe("signing in", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite");
  });
  afterAll(() => t.close());

  it("starts the new session in the user's first organization", async () => {
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner, "First Org");
    await createOrg(t.app, owner, "Second Org");
    const res = await t.app.inject({
      method: "POST",
      url: "/api/auth/sign-in/email",
      headers: ORIGIN,
      payload: { email: owner.email, password: "correct-horse-battery" },
    });
    expect(res.statusCode).toBe(200);
    const session = await t.app.inject({
      method: "GET",
      url: "/api/auth/get-session",
      headers: { cookie: cookieOf(res) },
    });
    expect(session.json().session.activeOrganizationId).toBe(orgId);
    expect((await auditLogs(t, cookieOf(res))).statusCode).toBe(200);
  });
});
