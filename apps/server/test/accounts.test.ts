import { sql } from "drizzle-orm";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import WebSocket from "ws";
import { queryRows } from "../src/db/client";
import {
  addMember,
  as,
  BASE_URL,
  cookieOf,
  createOrg,
  createTenant,
  createTestApp,
  ORIGIN,
  PASSWORD,
  secondInstance,
  signUp,
  type TestApp,
} from "./app";

/** An SMTP server on 127.0.0.1 that keeps every mail it is given. */
async function mailbox() {
  const mails: { to: string; text: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, done) {
      let text = "";
      stream.on("data", (c) => {
        text += c;
      });
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), text });
        done();
      });
    },
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    /** The first link of the newest mail to `to` (quoted-printable soft breaks undone). */
    linkFor: async (to: string) => {
      await vi.waitFor(() => expect(mails.some((m) => m.to === to)).toBe(true));
      const text = (mails.filter((m) => m.to === to).at(-1)?.text ?? "")
        .replace(/=\r?\n/g, "")
        .replace(/=3D/g, "=");
      return /https?:\/\/\S+/.exec(text)?.[0] ?? "";
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

const post = (t: TestApp, url: string, payload: unknown, cookie?: string) =>
  t.app.inject({
    method: "POST",
    url,
    headers: { ...ORIGIN, ...(cookie ? { cookie } : {}) },
    payload: payload as object,
  });

describe("accounts, invitations and mail", () => {
  let t: TestApp;
  let mail: Awaited<ReturnType<typeof mailbox>>;
  beforeAll(async () => {
    mail = await mailbox();
    t = await createTestApp("pglite", {
      env: { SMTP_URL: mail.url, MAIL_FROM: "Switchboard <sb@example.com>" },
    });
  });
  afterAll(async () => {
    await t.close();
    await mail.close();
  });

  it("mails a verification link at sign-up, which verifies the address", async () => {
    const user = await signUp(t.app, "verify-me@example.com");
    const link = await mail.linkFor("verify-me@example.com");
    expect(link).toContain("/api/auth/verify-email?token=");
    // Mail that goes out is not also written to the log: only its recipient holds the link.
    expect(JSON.stringify(t.logs)).not.toContain(new URL(link).searchParams.get("token"));
    const verified = await t.app.inject({
      method: "GET",
      url: new URL(link).pathname + new URL(link).search,
    });
    expect(verified.statusCode).toBeLessThan(400);
    const [row] = await queryRows<{ email_verified: boolean }>(
      t.database.db,
      sql`SELECT email_verified FROM "user" WHERE id = ${user.id}`,
    );
    expect(row?.email_verified).toBe(true);
  });

  it("does not let whoever signs up first with an invited address take the invitation", async () => {
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner);
    const invited = await post(
      t,
      "/api/auth/organization/invite-member",
      { email: "victim@example.com", role: "admin", organizationId: orgId },
      owner.cookie,
    );
    expect(invited.statusCode).toBe(200);
    const link = await mail.linkFor("victim@example.com");
    expect(link).toBe(`http://localhost:3000/invitations/${invited.json().id}`);

    // The attacker signs up with the address before its owner does, and cannot see or take it.
    const attacker = await signUp(t.app, "victim@example.com");
    const listed = await t.app.inject({
      method: "GET",
      url: "/api/me/invitations",
      headers: { cookie: attacker.cookie },
    });
    expect(listed.statusCode).toBe(403);
    const listedByBetterAuth = await t.app.inject({
      method: "GET",
      url: "/api/auth/organization/list-user-invitations",
      headers: { cookie: attacker.cookie },
    });
    expect(listedByBetterAuth.statusCode).toBe(403);
    const accepted = await post(
      t,
      "/api/auth/organization/accept-invitation",
      { invitationId: invited.json().id },
      attacker.cookie,
    );
    expect(accepted.statusCode).toBe(403);
    const members = await queryRows<{ n: number }>(
      t.database.db,
      sql`SELECT count(*)::int AS n FROM member WHERE organization_id = ${orgId}`,
    );
    expect(members[0]?.n).toBe(1);

    // The link itself, as the mailbox has it, lets the address's owner in.
    const opened = await post(
      t,
      `${new URL(link).pathname.replace("/invitations/", "/api/invitations/")}/accept`,
      {},
      attacker.cookie,
    );
    expect(opened.statusCode).toBe(200);
  });

  it("refuses an invitation link opened with another address", async () => {
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner);
    const invited = await post(
      t,
      "/api/auth/organization/invite-member",
      { email: "carol@example.com", role: "member", organizationId: orgId },
      owner.cookie,
    );
    const mallory = await signUp(t.app);
    const res = await post(t, `/api/invitations/${invited.json().id}/accept`, {}, mallory.cookie);
    expect(res.statusCode).toBe(403);
    expect((await post(t, `/api/invitations/nope/accept`, {}, mallory.cookie)).statusCode).toBe(404);
  });

  it("answers sign-up alike for a new and a taken address, with no session either way", async () => {
    const taken = await signUp(t.app);
    const again = await post(t, "/api/auth/sign-up/email", {
      email: taken.email,
      password: "another-password-1",
      name: "X",
    });
    const fresh = await post(t, "/api/auth/sign-up/email", {
      email: "brand-new@example.com",
      password: "another-password-1",
      name: "X",
    });
    expect([again.statusCode, fresh.statusCode]).toEqual([200, 200]);
    expect(Object.keys(again.json()).sort()).toEqual(Object.keys(fresh.json()).sort());
    expect(again.json().token).toBeNull();
    expect(cookieOf(again)).not.toContain("session_token");
    expect(cookieOf(fresh)).not.toContain("session_token");
  });

  it("never answers with a session token after sign-in", async () => {
    const user = await signUp(t.app);
    for (const url of ["/api/auth/get-session", "/api/auth/list-sessions"]) {
      const res = await t.app.inject({ method: "GET", url, headers: { cookie: user.cookie } });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toMatch(/"token"/);
    }
  });

  it("does not let a read of another organization change the session", async () => {
    const user = await signUp(t.app);
    const mine = await createOrg(t.app, user);
    const stranger = await signUp(t.app);
    const theirs = await createOrg(t.app, stranger);
    const res = await t.app.inject({
      method: "GET",
      url: `/api/auth/organization/get-full-organization?organizationId=${theirs}`,
      headers: { cookie: user.cookie },
    });
    expect(res.statusCode).toBe(403);
    const session = await t.app.inject({
      method: "GET",
      url: "/api/auth/get-session",
      headers: { cookie: user.cookie },
    });
    expect(session.json().session.activeOrganizationId).toBe(mine);
  });

  it.each([
    ["a NUL in a name", { name: "a\u0000b", slug: "nul-org" }, "body.name"],
    ["a 100,000-character slug", { name: "Long", slug: "a".repeat(100_000) }, "body.slug"],
    ["a null name", { name: null, slug: "null-org" }, "body.name"],
    ["a 900,000-character name", { name: "n".repeat(900_000), slug: "huge" }, "body.name"],
    ["a right-to-left override in a name", { name: "Acme\u202Egnp.exe", slug: "rtl" }, "body.name"],
  ])("answers 400 naming the field for %s, not a 500", async (_what, payload, path) => {
    const user = await signUp(t.app);
    const res = await post(t, "/api/auth/organization/create", payload, user.cookie);
    expect(res.statusCode).toBe(400);
    expect(res.json().issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it("answers 400 to a body nested 10,000 deep", async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`;
    const res = await t.app.inject({
      method: "POST",
      url: "/api/auth/sign-in/email",
      headers: { ...ORIGIN, "content-type": "application/json" },
      payload: deep,
    });
    expect(res.statusCode).toBe(400);
  });
});

describe("without SMTP_URL (the embedded default)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite");
  });
  afterAll(() => t.close());

  /** The log line that hands over a link to `to`, as the app wrote it. */
  const handOver = (to: string, path: string) =>
    t.logs.find((l) => l.to === to && typeof l.link === "string" && l.link.includes(path));

  it("writes the verification link to the log at info level, and the link verifies the address", async () => {
    const user = await signUp(t.app);
    const line = handOver(user.email, "/api/auth/verify-email?token=");
    expect(line).toMatchObject({ level: 30, msg: expect.stringContaining("no SMTP_URL set") });
    const link = new URL(String(line?.link));
    expect(link.origin).toBe(BASE_URL);

    const opened = await t.app.inject({ method: "GET", url: link.pathname + link.search });
    expect(opened.statusCode).toBeLessThan(400);
    const [row] = await queryRows<{ email_verified: boolean }>(
      t.database.db,
      sql`SELECT email_verified FROM "user" WHERE id = ${user.id}`,
    );
    expect(row?.email_verified).toBe(true);
    // It verifies, and no more: whoever reads the log cannot sign in as the account with it.
    expect(cookieOf(opened)).not.toContain("session_token=");
  });

  it("writes the invitation link to the log at info level and lists it for the organization's owners and admins to hand over", async () => {
    const tenant = await createTenant(t.app);
    const invitee = await signUp(t.app);
    const invited = await as(
      t.app,
      tenant.admin,
    )({
      method: "POST",
      url: "/api/auth/organization/invite-member",
      payload: { email: invitee.email, role: "member", organizationId: tenant.orgId },
    });
    expect(invited.statusCode).toBe(200);
    const id = invited.json().id as string;
    expect(handOver(invitee.email, "/invitations/")).toMatchObject({
      level: 30,
      link: `${BASE_URL}/invitations/${id}`,
    });

    // The Members page (owners and admins) shows each pending invitation's link, built from its id.
    for (const manager of [tenant.owner, tenant.admin]) {
      const full = await as(
        t.app,
        manager,
      )({ method: "GET", url: "/api/auth/organization/get-full-organization" });
      expect(full.json().invitations).toContainEqual(
        expect.objectContaining({ id, email: invitee.email, status: "pending" }),
      );
    }
    // A member is shown no invitation: the link is the invitee's proof of address.
    const asMember = await as(
      t.app,
      tenant.member,
    )({ method: "GET", url: "/api/auth/organization/get-full-organization" });
    expect(asMember.statusCode).toBe(200);
    expect(asMember.json().invitations).toEqual([]);

    // Handed over, the link lets the invitee in although no verification mail could reach them.
    const listed = await t.app.inject({
      method: "GET",
      url: "/api/me/invitations",
      headers: { cookie: invitee.cookie },
    });
    expect(listed.statusCode).toBe(403);
    expect((await post(t, `/api/invitations/${id}/accept`, {}, invitee.cookie)).statusCode).toBe(200);
    const [joined] = await queryRows<{ role: string }>(
      t.database.db,
      sql`SELECT role FROM member WHERE organization_id = ${tenant.orgId} AND user_id = ${invitee.id}`,
    );
    expect(joined?.role).toBe("member");
  });
});

describe("credential endpoints are rate limited", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite", {
      env: { RATE_LIMIT_AUTH_PER_EMAIL: "5", RATE_LIMIT_AUTH_PER_IP: "1000" },
    });
  });
  afterAll(() => t.close());

  it("stops a session guessing its current password after the account limit", async () => {
    const user = await signUp(t.app);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await post(
        t,
        "/api/auth/change-password",
        { currentPassword: `wrong-${i}-password`, newPassword: "new-password-123" },
        user.cookie,
      );
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 5).every((s) => s === 400 || s === 401)).toBe(true);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    // The right password is refused too while limited: guessing gains nothing.
    const right = await post(
      t,
      "/api/auth/change-password",
      { currentPassword: PASSWORD, newPassword: "new-password-123" },
      user.cookie,
    );
    expect(right.statusCode).toBe(429);
  });
});

describe.runIf(process.env.TEST_REDIS_URL)("session changes on every instance", () => {
  let one: TestApp;
  let two: Awaited<ReturnType<typeof secondInstance>>;
  beforeAll(async () => {
    one = await createTestApp("pglite", {
      env: {
        REDIS_URL: process.env.TEST_REDIS_URL as string,
        REDIS_PREFIX: `${inject("runId")}:accounts:`,
        SESSION_CACHE_SECONDS: "300",
      },
    });
    two = await secondInstance(one);
  });
  afterAll(async () => {
    await two.close();
    await one.close();
  });

  it("refuses on the other instance at once a session signed out on one, though it was cached there", async () => {
    const tenant = await createTenant(one.app);
    const onTwo = () => as(two.app, tenant.member)({ method: "GET", url: "/mcp/servers" });
    expect((await onTwo()).statusCode).toBe(200);
    expect((await post(one, "/api/auth/sign-out", {}, tenant.member.cookie)).statusCode).toBe(200);
    await vi.waitFor(async () => expect((await onTwo()).statusCode).toBe(401), {
      timeout: 2000,
      interval: 20,
    });
  });

  it("applies a revocation of other sessions, and a role change, on the other instance at once", async () => {
    const tenant = await createTenant(one.app);
    const second = await post(one, "/api/auth/sign-in/email", {
      email: tenant.member.email,
      password: PASSWORD,
    });
    const otherCookie = cookieOf(second);
    const elsewhere = () =>
      two.app.inject({ method: "GET", url: "/mcp/servers", headers: { ...ORIGIN, cookie: otherCookie } });
    expect((await elsewhere()).statusCode).toBe(200);
    expect((await post(one, "/api/auth/revoke-other-sessions", {}, tenant.member.cookie)).statusCode).toBe(
      200,
    );
    await vi.waitFor(async () => expect((await elsewhere()).statusCode).toBe(401), {
      timeout: 2000,
      interval: 20,
    });

    const admin = () =>
      as(
        two.app,
        tenant.admin,
      )({ method: "POST", url: "/mcp/servers", payload: { name: "x", url: "http://127.0.0.1:9/mcp" } });
    const memberId = (
      await queryRows<{ id: string }>(
        one.database.db,
        sql`SELECT id FROM member WHERE user_id = ${tenant.admin.id}`,
      )
    )[0]?.id;
    expect((await as(two.app, tenant.admin)({ method: "GET", url: "/mcp/servers" })).statusCode).toBe(200);
    await post(
      one,
      "/api/auth/organization/update-member-role",
      { memberId, role: "member", organizationId: tenant.orgId },
      tenant.owner.cookie,
    );
    await vi.waitFor(async () => expect((await admin()).statusCode).toBe(403), {
      timeout: 2000,
      interval: 20,
    });
  });

  it("ends a user's other sessions on the other instance at once when they change their password and revoke them", async () => {
    const tenant = await createTenant(one.app);
    const second = await post(one, "/api/auth/sign-in/email", {
      email: tenant.member.email,
      password: PASSWORD,
    });
    const otherCookie = cookieOf(second);
    const elsewhere = () =>
      two.app.inject({ method: "GET", url: "/mcp/servers", headers: { ...ORIGIN, cookie: otherCookie } });
    // Cached on the second instance for SESSION_CACHE_SECONDS (300 s), with a socket open there.
    expect((await elsewhere()).statusCode).toBe(200);
    const socket = await eventsSocket(otherCookie);

    const changed = await post(
      one,
      "/api/auth/change-password",
      { currentPassword: PASSWORD, newPassword: "a-new-password-456", revokeOtherSessions: true },
      tenant.member.cookie,
    );
    expect(changed.statusCode).toBe(200);
    await vi.waitFor(async () => expect((await elsewhere()).statusCode).toBe(401), {
      timeout: 2000,
      interval: 20,
    });
    expect(await socket.closed).toBe(4401);
    // The session that changed the password goes on, under the cookie its answer set.
    const kept = await two.app.inject({
      method: "GET",
      url: "/mcp/servers",
      headers: { ...ORIGIN, cookie: cookieOf(changed) },
    });
    expect(kept.statusCode).toBe(200);
  });

  it("closes a removed member's events socket at once, on whichever instance holds it", async () => {
    const tenant = await createTenant(one.app);
    const socket = await eventsSocket(tenant.member.cookie);
    await post(
      one,
      "/api/auth/organization/remove-member",
      { memberIdOrEmail: tenant.member.email, organizationId: tenant.orgId },
      tenant.owner.cookie,
    );
    const started = Date.now();
    expect(await socket.closed).toBe(4403);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  /** An open events socket on the second instance (listening from the first call on). */
  async function eventsSocket(cookie: string) {
    if (!two.app.server.listening) await two.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = two.app.server.address() as { port: number };
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mcp/events`, { headers: { cookie } });
    const closed = new Promise<number>((done) => ws.on("close", (code) => done(code)));
    await new Promise<void>((done, fail) => {
      ws.once("open", () => done());
      ws.once("error", fail);
    });
    return { closed };
  }
});

describe("a member's role changes while their dashboard is open", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite");
  });
  afterAll(() => t.close());

  it("tells their events socket to read the session again", async () => {
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    const owner = await signUp(t.app);
    const orgId = await createOrg(t.app, owner);
    const member = await signUp(t.app);
    await addMember(t.app, owner, orgId, member, "member");
    const messages: { type: string }[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mcp/events`, { headers: { cookie: member.cookie } });
    ws.on("message", (d) => messages.push(JSON.parse(String(d))));
    await new Promise<void>((done) => ws.once("open", () => done()));
    const memberId = (
      await queryRows<{ id: string }>(t.database.db, sql`SELECT id FROM member WHERE user_id = ${member.id}`)
    )[0]?.id;
    await post(
      t,
      "/api/auth/organization/update-member-role",
      { memberId, role: "admin", organizationId: orgId },
      owner.cookie,
    );
    await vi.waitFor(() => expect(messages.map((m) => m.type)).toContain("session.changed"), {
      timeout: 2000,
    });
    ws.close();
  });
});
