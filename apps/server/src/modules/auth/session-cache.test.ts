import { describe, expect, it } from "vitest";
import { createMemoryBus } from "../../lib/bus";
import type { SessionPrincipal } from "../../lib/principal";
import { createSessionCache, sessionTokenOf } from "./session-cache";

const principal = (userId: string, tenantId = "t1"): SessionPrincipal => ({
  user: { id: userId, email: `${userId}@example.com`, name: userId },
  tenantId,
  role: "admin",
});
/** A signature of the shape Better-Auth's is (base64 of an HMAC-SHA256). */
const SIGNATURE = `${"S".repeat(43)}=`;
const cookie = (token: string, extra = "") =>
  `${extra}better-auth.session_token=${token}.${encodeURIComponent(SIGNATURE)}`;

describe("the session cache", () => {
  let now = 0;
  const cache = () => createSessionCache({ ttlMs: 5000, now: () => now });
  const far = new Date(10 ** 12);

  it("answers within its time to live, and not after", () => {
    now = 1000;
    const c = cache();
    c.set(cookie("a"), principal("u1"), far);
    now = 5999;
    expect(c.get(cookie("a"))?.user.id).toBe("u1");
    now = 6000;
    expect(c.get(cookie("a"))).toBeUndefined();
  });

  it("never outlives the session itself", () => {
    now = 0;
    const c = cache();
    c.set(cookie("a"), principal("u1"), new Date(2000));
    now = 1999;
    expect(c.get(cookie("a"))).toBeDefined();
    now = 2000;
    expect(c.get(cookie("a"))).toBeUndefined();
  });

  it("keys by the session, however the Cookie header carries it", () => {
    now = 0;
    const c = cache();
    c.set(cookie("a"), principal("u1"), far);
    expect(c.get(cookie("a", "theme=dark; "))?.user.id).toBe("u1");
    expect(c.get(`__Secure-${cookie("a")}; lang=en`)?.user.id).toBe("u1");
    expect(c.get("theme=dark")).toBeUndefined();
    expect(sessionTokenOf(`x=1; better-auth.session_token=abc%2E${SIGNATURE}; y=2`)).toBe(`abc.${SIGNATURE}`);
  });

  it("forgets by session, by user and by tenant when the bus says so", async () => {
    now = 0;
    const bus = createMemoryBus();
    const c = createSessionCache({ ttlMs: 5000, now: () => now, bus });
    c.set(cookie("a"), principal("u1"), far);
    c.set(cookie("b"), principal("u1"), far);
    c.set(cookie("c"), principal("u2"), far);
    c.set(cookie("d"), principal("u3", "t2"), far);
    await bus.publish({ type: "sessions.changed", token: `a.${SIGNATURE}` });
    expect([c.get(cookie("a")), c.get(cookie("b"))?.user.id]).toEqual([undefined, "u1"]);
    await bus.publish({ type: "sessions.changed", userId: "u1" });
    expect(c.get(cookie("b"))).toBeUndefined();
    expect(c.get(cookie("c"))).toBeDefined();
    await bus.publish({ type: "sessions.changed", tenantId: "t2" });
    expect(c.get(cookie("d"))).toBeUndefined();
    expect(c.get(cookie("c"))).toBeDefined();
  });

  it.each([
    ["a NUL", "%00"],
    ["a bad escape", "%E0%A4%A"],
    ["no signature", "abc"],
    ["a signature of another length", "abc.signature"],
    ["two dots", `a.b.${SIGNATURE}`],
    ["a control character in the token", `a%01b.${SIGNATURE}`],
    ["a prototype key", "__proto__"],
  ])("takes a session cookie with %s for no session at all", (_what, value) => {
    now = 0;
    const c = cache();
    c.set(`better-auth.session_token=${value}`, principal("u1"), far);
    expect(sessionTokenOf(`better-auth.session_token=${value}`)).toBeUndefined();
    expect(c.get(`better-auth.session_token=${value}`)).toBeUndefined();
  });

  it("stays empty when turned off", () => {
    const c = createSessionCache({ ttlMs: 0 });
    c.set(cookie("a"), principal("u1"), far);
    expect(c.get(cookie("a"))).toBeUndefined();
  });
});
