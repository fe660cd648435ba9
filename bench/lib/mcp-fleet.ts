import { type RunningMcpServer, startMcpServer } from "../../apps/server/src/demo/mcp-servers";

/**
 * A fleet of real MCP servers (the SDK's, each on its own loopback port) in a process of its own,
 * so that serving them does not share the scheduler's event loop. Every `hangEvery`-th one
 * accepts requests and never answers. Prints nothing; answers its URLs over IPC.
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
  process.once("message", async () => {
    await Promise.all(servers.map((s) => s.close()));
    process.exit(0);
  });
});
