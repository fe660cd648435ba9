import { type RunningMcpServer, startMcpServer } from "../../apps/server/src/demo/mcp-servers";
import { ownCpuMs } from "./cpu";

/**
 * A fleet of real MCP servers (the SDK's, each on its own loopback port) in a process of its own,
 * so that serving them does not share the scheduler's event loop. Every `hangEvery`-th one
 * accepts requests and never answers. Prints nothing; answers its URLs over IPC, then its CPU
 * time so far when sent "cpu", and stops when sent "stop".
 */
process.once("message", async ({ count, hangEvery }: { count: number; hangEvery: number }) => {
  const servers: RunningMcpServer[] = [];
  for (let i = 0; i < count; i++) {
    servers.push(
      await startMcpServer({
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
