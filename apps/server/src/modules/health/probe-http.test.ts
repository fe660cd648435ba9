import { createServer, type IncomingMessage, type Server } from "node:http";
import { fetch as undiciFetch } from "undici";
import { afterAll, describe, expect, it } from "vitest";
import { createUpstreamDispatcher } from "../upstream/dispatcher";
import { type FetchOnce, fetchWithinOrigin } from "./probe-http";

const dispatcher = createUpstreamDispatcher({ allowPrivate: true });

/** A server on 127.0.0.1 that records what reaches it and answers from `routes`. */
async function fixture(routes: Record<string, [number, string?]>) {
  const seen: { line: string; apiKey: string | undefined; body: string }[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    seen.push({ line: `${req.method} ${req.url}`, apiKey: req.headers["x-api-key"] as string, body });
    const [status, location] = routes[req.url ?? ""] ?? [200];
    res.writeHead(status, location ? { location } : {}).end(status === 200 ? `at ${req.url}` : "");
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { server, seen, origin };
}

describe("fetchWithinOrigin", () => {
  const servers: Server[] = [];
  let hops: { url: string; redirect: RequestRedirect | undefined }[] = [];
  // Every hop is one fetch of its own, through the guarded dispatcher, never fetch's own following.
  const fetchOnce: FetchOnce = (url, init) => {
    hops.push({ url, redirect: init.redirect });
    return undiciFetch(url, { ...(init as object), dispatcher } as Parameters<
      typeof undiciFetch
    >[1]) as unknown as Promise<Response>;
  };
  afterAll(async () => {
    for (const s of servers) s.close();
    await dispatcher.close();
  });
  const start = async (routes: Record<string, [number, string?]>) => {
    const f = await fixture(routes);
    servers.push(f.server);
    return f;
  };

  it("follows a GET's redirects within the origin, one checked request per hop, headers kept", async () => {
    const f = await start({
      "/a": [301, "/b"],
      "/b": [302, "/c"],
      "/c": [303, "/d"],
      "/d": [307, "/e"],
      "/e": [308, "/sse"],
    });
    hops = [];
    const res = await fetchWithinOrigin(fetchOnce, `${f.origin}/a`, { headers: { "x-api-key": "k1" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("at /sse");
    expect(hops.map((h) => h.url)).toEqual(["/a", "/b", "/c", "/d", "/e", "/sse"].map((p) => f.origin + p));
    expect(hops.every((h) => h.redirect === "manual")).toBe(true);
    expect(f.seen.map((s) => s.apiKey)).toEqual(Array(6).fill("k1"));
  });

  it("does not follow a redirect to another port of 127.0.0.1, and that port hears nothing", async () => {
    const other = await start({});
    const f = await start({ "/sse": [307, `${other.origin}/sse`] });
    const unfollowed: [number, string | null][] = [];
    const res = await fetchWithinOrigin(
      fetchOnce,
      `${f.origin}/sse`,
      { headers: { "x-api-key": "k1" } },
      (status, location) => unfollowed.push([status, location]),
    );
    expect(res.status).toBe(307);
    expect(unfollowed).toEqual([[307, `${other.origin}/sse`]]);
    expect(other.seen).toEqual([]);
  });

  it("does not follow a redirect that adds credentials, even within the origin", async () => {
    const f = await start({});
    const host = new URL(f.origin).host;
    const g = await start({ "/sse": [307, `http://user:pw@${host}/sse`] });
    const res = await fetchWithinOrigin(fetchOnce, `${g.origin}/sse`, {});
    expect(res.status).toBe(307);
    expect(f.seen).toEqual([]);
  });

  it("keeps a POST's body through 307 and 308, and does not turn it into a GET on 301, 302 or 303", async () => {
    const f = await start({
      "/messages": [307, "/messages2"],
      "/messages2": [308, "/messages3"],
      "/old": [302, "/messages3"],
    });
    const post = {
      method: "POST",
      body: '{"jsonrpc":"2.0"}',
      headers: { "content-type": "application/json" },
    };
    const res = await fetchWithinOrigin(fetchOnce, `${f.origin}/messages`, post);
    expect(res.status).toBe(200);
    expect(f.seen.map((s) => [s.line, s.body])).toEqual([
      ["POST /messages", '{"jsonrpc":"2.0"}'],
      ["POST /messages2", '{"jsonrpc":"2.0"}'],
      ["POST /messages3", '{"jsonrpc":"2.0"}'],
    ]);
    const moved = await fetchWithinOrigin(fetchOnce, `${f.origin}/old`, post);
    expect(moved.status).toBe(302);
    expect(f.seen).toHaveLength(4);
  });

  it("gives up after five hops", async () => {
    const f = await start({ "/loop": [307, "/loop"] });
    const res = await fetchWithinOrigin(fetchOnce, `${f.origin}/loop`, {});
    expect(res.status).toBe(307);
    expect(f.seen).toHaveLength(6);
  });
});
