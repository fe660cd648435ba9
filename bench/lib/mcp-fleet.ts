import {
  type McpServerOptions,
  type RunningMcpServer,
  startMcpServer,
} from "../../apps/server/src/demo/mcp-servers";
import { ownCpuMs } from "./cpu";

/**
 * A fleet of real MCP servers (the SDK's, each on its own loopback port) in a process of its own,
 * so that serving them does not share the event loop of the process under test. Every
 * `hangEvery`-th one accepts requests and never answers; the others are built with `server`'s
 * options (the gateway benchmark's is one stateless JSON server). Prints nothing; answers its URLs
 * over IPC, then its CPU time so far when sent "cpu", and stops when sent "stop".
 */
type FleetSpec = { count: number; hangEvery: number; server?: McpServerOptions };

process.once("message", async ({ count, hangEvery, server }: FleetSpec) => {
  const servers: RunningMcpServer[] = [];
  for (let i = 0; i < count; i++) {
    servers.push(
      await startMcpServer({
        ...server,
        name: `fleet-${i}`,
        behaviour: hangEvery > 0 && i % hangEvery === hangEvery - 1 ? "hang" : "healthy",
      }),
    );
  }
  process.send?.({ urls: servers.map((s) => s.url) });
  process.on("message", async (command: "cpu" | "stop") => {
    if (command === "cpu") {
      process.send?.({ cpuMs: ownCpuMs() });
      return;
    }
    await Promise.all(servers.map((s) => s.close()));
    process.exit(0);
  });
});
