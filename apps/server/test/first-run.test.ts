import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { startServer } from "../src/server";
import { cookieOf, createTenant, createTestApp, PASSWORD, type TestApp } from "./app";
import { openTestDatabase } from "./db";

const signUpFrom = (t: TestApp, origin: string, email = `first-${randomUUID()}@example.com`) =>
  t.app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: { origin },
    payload: { email, password: PASSWORD, name: "First" },
  });

const warnings = (t: TestApp) => t.logs.filter((l) => l.level === 40).map((l) => String(l.msg));

describe("opening Switchboard by another name than BASE_URL's", () => {
  describe("with BASE_URL unset", () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp("pglite", { env: { BASE_URL: undefined, PORT: "4567" } });
    });
    afterAll(() => t.close());

    it.each(["http://localhost:4567", "http://127.0.0.1:4567", "http://[::1]:4567"])(
      "lets a browser on %s sign up, as the loopback names of the default address",
      async (origin) => {
        const res = await signUpFrom(t, origin);
        expect(res.statusCode).toBe(200);
      },
    );

    it("takes a browser on 127.0.0.1 from sign-up to its first server", async () => {
      const headers = { origin: "http://127.0.0.1:4567" };
      const email = `first-${randomUUID()}@example.com`;
      expect((await signUpFrom(t, headers.origin, email)).statusCode).toBe(200);
      const signIn = await t.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        headers,
        payload: { email, password: PASSWORD },
      });
      expect(signIn.statusCode).toBe(200);
      const cookie = cookieOf(signIn);
      const org = await t.app.inject({
        method: "POST",
        url: "/api/auth/organization/create",
        headers: { ...headers, cookie },
        payload: { name: "Loopback", slug: `loopback-${randomUUID().slice(0, 8)}` },
      });
      expect(org.statusCode).toBe(200);
      const res = await t.app.inject({
        method: "POST",
        url: "/mcp/servers",
        headers: { ...headers, cookie },
        payload: { name: "loopback-write", url: "http://127.0.0.1:9/mcp" },
      });
      expect(res.statusCode).toBe(201);
    });

    it.each(["http://192.168.1.20:4567", "http://127.0.0.1:3000"])(
      "refuses %s (another host, or another port), saying which origin it expects",
      async (origin) => {
        const res = await signUpFrom(t, origin);
        expect(res.statusCode).toBe(403);
        expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
        expect(res.json().detail).toBe(
          `${origin} is not a trusted origin: Switchboard expects http://localhost:4567. Open it there, or set BASE_URL to the address you use in the browser and restart`,
        );
      },
    );
  });

  describe("with BASE_URL set", () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp("pglite", { env: { BASE_URL: "http://localhost:3000" } });
    });
    afterAll(() => t.close());

    it("refuses a sign-up from 127.0.0.1 with the expected origin and BASE_URL, in the answer and the log", async () => {
      const res = await signUpFrom(t, "http://127.0.0.1:3000");
      expect(res.statusCode).toBe(403);
      const body = res.json();
      expect(body.code).toBe("FORBIDDEN");
      expect(body.authCode).toBe("INVALID_ORIGIN");
      expect(body.detail).toMatch(
        /^http:\/\/127\.0\.0\.1:3000 is not a trusted origin: Switchboard expects http:\/\/localhost:3000\. .*set BASE_URL to the address you use in the browser/,
      );
      expect(warnings(t)).toContainEqual(expect.stringContaining(body.detail));
    });

    it("refuses a cookie-authenticated write from 127.0.0.1 the same way, and logs it as a warning", async () => {
      const tenant = await createTenant(t.app);
      const res = await t.app.inject({
        method: "POST",
        url: "/mcp/servers",
        headers: { cookie: tenant.admin.cookie, origin: "http://127.0.0.1:3000" },
        payload: { name: "csrf-loopback", url: "http://127.0.0.1:9/mcp" },
      });
      expect(res.statusCode).toBe(403);
      const detail: string = res.json().detail;
      expect(detail).toMatch(/Switchboard expects http:\/\/localhost:3000\. .*set BASE_URL/);
      const logged = warnings(t).find((m) => m.includes("Switchboard expects http://localhost:3000"));
      expect(logged).toContain("http://127.0.0.1:3000 is not a trusted origin");
      // The warning carries the origin, never the session that came with the request.
      expect(JSON.stringify(t.logs)).not.toContain(tenant.admin.cookie);
    });
  });
});

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

describe("starting Switchboard", () => {
  /** Starts it as `npm start` does, on a free port, and returns the messages it logged. */
  async function messagesOfStart(env: Record<string, string>) {
    const port = await freePort();
    const messages: string[] = [];
    const database = await openTestDatabase("pglite");
    const server = await startServer(
      loadConfig({
        DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-start-")),
        HOST: "127.0.0.1",
        PORT: String(port),
        METRICS_PORT: "0",
        SCHEDULER: "off",
        ...env,
      }),
      { database, logStream: { write: (line) => messages.push(JSON.parse(line).msg) } },
    );
    await server.stop();
    await database.close();
    return { port, messages };
  }

  it("says which address to open: localhost on its port when BASE_URL is unset", async () => {
    const { port, messages } = await messagesOfStart({});
    expect(messages).toContain(`Switchboard is running: open http://localhost:${port}`);
  }, 60_000);

  it("says BASE_URL when it is set", async () => {
    const { messages } = await messagesOfStart({ BASE_URL: "https://switchboard.example.com/" });
    expect(messages).toContain("Switchboard is running: open https://switchboard.example.com");
  }, 60_000);
});
