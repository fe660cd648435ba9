import { fork } from "node:child_process";
import { setPriority } from "node:os";
import { fileURLToPath } from "node:url";
import type { McpServerOptions } from "../../apps/server/src/demo/mcp-servers";

const FLEET = fileURLToPath(new URL("./mcp-fleet.ts", import.meta.url));

/**
 * Starts `count` MCP servers (lib/mcp-fleet.ts) in a child process, every `hangEvery`-th one
 * hanging (0: none), the others built with `server`'s options; resolves with their URLs, and
 * reads the process's CPU time or stops it. `nice` lowers the process's priority (Linux's 0–19).
 */
export function startFleet(
  count: number,
  hangEvery: number,
  server: McpServerOptions = {},
  { nice = 0 }: { nice?: number } = {},
) {
  const child = fork(FLEET, { execArgv: ["--import", "tsx"] });
  if (nice > 0 && child.pid !== undefined) setPriority(child.pid, nice);
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
