import { describe, expect, it } from "vitest";
import { createSessionCache, type SessionPrincipal } from "./session-cache";

const principal = (userId: string, tenantId = "t1"): SessionPrincipal => ({
  user: { id: userId, email: `${userId}@example.com`, name: userId },
  tenantId,
  role: "admin",
});

describe("the session cache", () => {
  let now = 0;
  const cache = () => createSessionCache({ ttlMs: 5000, now: () => now });
  const far = new Date(10 ** 12);

  it("answers within its time to live, and not after", () => {
    now = 1000;
    const c = cache();
    c.set("a", principal("u1"), far);
    now = 5999;
    expect(c.get("a")?.user.id).toBe("u1");
    now = 6000;
    expect(c.get("a")).toBeUndefined();
  });

  it("never outlives the session itself", () => {
    now = 0;
    const c = cache();
    c.set("a", principal("u1"), new Date(2000));
    now = 1999;
    expect(c.get("a")).toBeDefined();
    now = 2000;
    expect(c.get("a")).toBeUndefined();
  });

  it("forgets by cookie (with the user's other sessions), by user and by tenant", () => {
    now = 0;
    const c = cache();
    c.set("a", principal("u1"), far);
    c.set("b", principal("u1"), far);
    c.set("c", principal("u2"), far);
    c.set("d", principal("u3", "t2"), far);
    c.forgetCookie("a");
    expect([c.get("a"), c.get("b")]).toEqual([undefined, undefined]);
    expect(c.get("c")).toBeDefined();
    c.forgetUser("u2");
    expect(c.get("c")).toBeUndefined();
    c.forgetTenant("t2");
    expect(c.get("d")).toBeUndefined();
  });

  it("stays empty when turned off", () => {
    const c = createSessionCache({ ttlMs: 0 });
    c.set("a", principal("u1"), far);
    expect(c.get("a")).toBeUndefined();
  });
});
