import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { McpServerOptions } from "../../apps/server/src/demo/mcp-servers";

const FLEET = fileURLToPath(new URL("./mcp-fleet.ts", import.meta.url));

/**
 * Starts `count` MCP servers (lib/mcp-fleet.ts) in a child process, every `hangEvery`-th one
 * hanging (0: none), the others built with `server`'s options; resolves with their URLs, and
 * reads the process's CPU time or stops it.
 */
export function startFleet(count: number, hangEvery: number, server: McpServerOptions = {}) {
  const child = fork(FLEET, { execArgv: ["--import", "tsx"] });
  const urls = new Promise<string[]>((resolve, reject) => {
    child.once("message", (m: { urls: string[] }) => resolve(m.urls));
    child.once("exit", (code) => reject(new Error(`MCP fleet exited with ${code}`)));
  });
  child.send({ count, hangEvery, server });
  return {
    urls,
    cpuMs: () =>
      new Promise<number>((resolve) => {
        child.once("message", (m: { cpuMs: number }) => resolve(m.cpuMs));
        child.send("cpu");
      }),
    stop: () =>
      new Promise<void>((done) => {
        child.once("exit", () => done());
        child.send("stop");
      }),
  };
}
