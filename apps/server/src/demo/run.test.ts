import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { DEMO_USER, startDemo } from "./run";

describe("npm run demo", () => {
  it("serves a demo user whose local MCP servers turn healthy, degraded, modern and auth_required within seconds", async () => {
    const config = loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), "switchboard-demo-")),
      PORT: "0",
      HOST: "127.0.0.1",
      METRICS_PORT: "0",
      LOG_LEVEL: "warn",
    });
    const demo = await startDemo(config);
    try {
      const signIn = await demo.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        headers: { origin: config.baseUrl },
        payload: { email: DEMO_USER.email, password: DEMO_USER.password },
      });
      expect(signIn.statusCode).toBe(200);
      const cookie = ([] as string[])
        .concat(signIn.headers["set-cookie"] ?? [])
        .map((c) => c.split(";")[0])
        .join("; ");
      const statuses = async () => {
        const res = await demo.app.inject({ method: "GET", url: "/mcp/servers", headers: { cookie } });
        return Object.fromEntries(
          (res.json().items as { name: string; status: string }[]).map((s) => [s.name, s.status]),
        );
      };
      const until = Date.now() + 20_000;
      let seen = await statuses();
      while (
        Date.now() < until &&
        (seen.weather !== "healthy" ||
          seen.archive !== "degraded" ||
          seen.payments === "unknown" ||
          seen.atlas !== "healthy" ||
          seen.vault !== "auth_required" ||
          seen.toolsmith !== "healthy")
      ) {
        await new Promise((r) => setTimeout(r, 250));
        seen = await statuses();
      }
      expect(seen).toMatchObject({
        weather: "healthy",
        archive: "degraded",
        atlas: "healthy",
        vault: "auth_required",
        toolsmith: "healthy",
      });
      expect(["healthy", "unhealthy"]).toContain(seen.payments);
    } finally {
      await demo.stop();
    }
  }, 60_000);
});
