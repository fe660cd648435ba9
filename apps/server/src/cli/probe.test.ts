import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningMcpServer, startMcpServer } from "../demo/mcp-servers";
import { type RunningModernServer, startModernMcpServer } from "../demo/modern-servers";
import { type RunningFront, startFront } from "../modules/health/probe-fixture";
import { probeCommand } from "./probe";

describe("switchboard probe", () => {
  let modern: RunningModernServer;
  let legacy: RunningMcpServer;
  let protectedServer: RunningModernServer;
  let broken: RunningFront;
  beforeAll(async () => {
    modern = await startModernMcpServer({ name: "weather", tools: [{ name: "forecast", description: "x" }] });
    legacy = await startMcpServer({ requireHeader: { name: "X-Key", value: "k" } });
    protectedServer = await startModernMcpServer({
      oauth: { token: "t", scopes: ["mcp:read"], authorizationServers: ["https://login.example.com"] },
    });
    // The modern server, but its tools cannot be listed.
    broken = await startFront(modern.url);
    broken.answer = (req) => (req.rpcMethod === "tools/list" ? { status: 500, body: "listing broke" } : null);
  });
  afterAll(async () => {
    await Promise.all([modern.close(), legacy.close(), protectedServer.close(), broken.close()]);
  });

  const run = async (...args: string[]) => {
    let text = "";
    const code = await probeCommand(args, (t) => {
      text += t;
    });
    return { code, text };
  };

  it("prints the verdict, era, version and tools of a healthy server, and exits 0", async () => {
    const { code, text } = await run(modern.url);
    expect(code).toBe(0);
    expect(text).toContain(`healthy in `);
    expect(text).toContain("server   weather 2.0.0");
    expect(text).toContain("protocol 2026-07-28 (modern)");
    expect(text).toContain("tools    forecast");
  });

  it("prints the probe's result as JSON with --json", async () => {
    const { code, text } = await run("--json", "--header", "X-Key: k", legacy.url);
    expect(code).toBe(0);
    expect(JSON.parse(text)).toMatchObject({
      status: "healthy",
      serverInfo: { era: "legacy", protocolVersion: "2025-11-25" },
      tools: [{ name: "echo" }, { name: "add" }],
    });
  });

  it("exits 1 for a degraded server, with the step that failed", async () => {
    const { code, text } = await run(broken.url);
    expect(code).toBe(1);
    expect(text).toContain("degraded (http_500) in ");
    expect(text).toContain("server   weather 2.0.0");
  });

  it("exits 1 for a server that asks for OAuth, naming its authorization server", async () => {
    const { code, text } = await run(protectedServer.url);
    expect(code).toBe(1);
    expect(text).toContain("auth_required in");
    expect(text).toContain("auth     https://login.example.com");
  });

  it("exits 2 for a server it cannot use, with the reason", async () => {
    const refused = await run("--json", legacy.url.replace(/:\d+\//, ":9/"));
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.text)).toMatchObject({ status: "unhealthy", error: "connection_refused" });
    const rejected = await run("--header", "X-Key: wrong", legacy.url);
    expect(rejected.code).toBe(2);
    expect(rejected.text).toContain("unhealthy (auth_rejected)");
  });

  it.each([
    [[]],
    [["ftp://example.com/x"]],
    [["--transport", "stdio", "http://127.0.0.1:9/mcp"]],
    [["--header", "no colon", "http://127.0.0.1:9/mcp"]],
  ])("prints its usage and exits 64 for %j", async (args) => {
    const { code, text } = await run(...args);
    expect(code).toBe(64);
    expect(text).toContain("Usage: switchboard probe <url>");
  });
});
