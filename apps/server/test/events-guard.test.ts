import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTenant, createTestApp, type Tenant, type TestApp } from "./app";

type Outcome = { opened: true; ws: WebSocket; closed: Promise<number> } | { opened: false; status: number };

/**
 * Opens /mcp/events with these headers: the socket when it opens, the HTTP status when it does
 * not — once the server has also ended the connection it refused (a refused upgrade's socket is
 * no HTTP connection any more, so nothing else would ever close it).
 */
function open(base: string, headers: Record<string, string>): Promise<Outcome> {
  const ws = new WebSocket(`${base.replace("http", "ws")}/mcp/events`, { headers });
  const closed = new Promise<number>((done) => ws.once("close", (code) => done(code)));
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ opened: true, ws, closed }));
    ws.once("unexpected-response", (_req, res) => {
      const lingering = setTimeout(() => reject(new Error("the server left a refused upgrade open")), 2000);
      res.socket.once("close", () => {
        clearTimeout(lingering);
        resolve({ opened: false, status: res.statusCode ?? 0 });
      });
      res.resume();
    });
    ws.once("error", reject);
  });
}

describe("who may open /mcp/events", () => {
  let t: TestApp;
  let base: string;
  let tenant: Tenant;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    t = await createTestApp("pglite", {
      env: { EVENTS_MAX_SOCKETS_PER_USER: "3", CORS_ORIGINS: "http://localhost:5173" },
    });
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    tenant = await createTenant(t.app);
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await t.close();
  });
  const keep = (o: Outcome) => {
    if (o.opened) sockets.push(o.ws);
    return o;
  };

  it.each([
    ["a page on another port", "http://localhost:4000"],
    ["a sibling subdomain", "http://evil.localhost:3000"],
    ["another scheme", "https://localhost:3000"],
    ["a sandboxed page", "null"],
  ])("refuses an upgrade from %s, whose cookie the browser would send, with a 403", async (_what, origin) => {
    const outcome = keep(await open(base, { cookie: tenant.member.cookie, origin }));
    expect(outcome).toEqual({ opened: false, status: 403 });
  });

  it("lets Switchboard's own origin, CORS_ORIGINS and clients that send no Origin open one", async () => {
    for (const headers of [
      { origin: "http://localhost:3000" },
      { origin: "http://localhost:5173" },
      {} as Record<string, string>,
    ]) {
      const outcome = keep(await open(base, { cookie: tenant.admin.cookie, ...headers }));
      expect(outcome.opened).toBe(true);
      if (outcome.opened) {
        outcome.ws.close();
        await outcome.closed;
      }
    }
  });

  it("holds at most EVENTS_MAX_SOCKETS_PER_USER sockets per user, and takes one again once one closes", async () => {
    const headers = { cookie: tenant.owner.cookie, origin: "http://localhost:3000" };
    const held: WebSocket[] = [];
    for (let i = 0; i < 3; i++) {
      const o = keep(await open(base, headers));
      if (!o.opened) throw new Error(`socket ${i} refused with ${o.status}`);
      held.push(o.ws);
    }
    expect(await open(base, headers)).toEqual({ opened: false, status: 429 });
    // Another user of the same organization is not held back by this one.
    const other = keep(await open(base, { cookie: tenant.member.cookie }));
    expect(other.opened).toBe(true);

    const first = held[0] as WebSocket;
    const gone = new Promise<void>((done) => first.once("close", () => done()));
    first.close();
    await gone;
    // The server hears the close a moment after the client.
    let again: Outcome = { opened: false, status: 0 };
    for (let i = 0; i < 40 && !again.opened; i++) {
      again = keep(await open(base, headers));
      if (!again.opened) await new Promise((r) => setTimeout(r, 25));
    }
    expect(again.opened).toBe(true);
  });

  it("never holds more than the cap when sockets open all at once, closing any that raced past it with 4429", async () => {
    const user = await createTenant(t.app);
    const headers = { cookie: user.owner.cookie };
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => open(base, headers)));
    for (const o of outcomes) keep(o);
    const opened = outcomes.filter((o): o is Extract<Outcome, { opened: true }> => o.opened);
    const refused = outcomes.filter((o) => !o.opened);
    const codes = await Promise.all(
      opened.map((o) => Promise.race([o.closed, new Promise<number>((r) => setTimeout(() => r(0), 300))])),
    );
    // Three stay open; every other one was refused before the upgrade or closed right after it.
    expect(codes.filter((c) => c === 0)).toHaveLength(3);
    expect(codes.filter((c) => c !== 0).every((c) => c === 4429)).toBe(true);
    expect(refused.every((o) => !o.opened && o.status === 429)).toBe(true);
  });
});
