import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { Socket } from "node:net";

// For tests: a server that breaks one step of a real MCP server, or changes what it is between
// two checks, is a real server behind this front, not a mock of the probe's side.

/** A request as the front received it. */
export interface FrontRequest {
  method: string;
  /** The JSON-RPC method of a POST (from its body), else null. */
  rpcMethod: string | null;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An answer the test gives in the server's stead. */
export interface FrontAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface RunningFront {
  url: string;
  /** Where requests the test does not answer go (an MCP endpoint); set it to move the server. */
  upstream: string;
  /** Answers a request itself, or returns null to pass it on to `upstream`. */
  answer: (req: FrontRequest) => FrontAnswer | null;
  /** Each exchange in order: the request, and what it was answered (status and body text). */
  seen: { request: FrontRequest; status: number; body: string }[];
  close(): Promise<void>;
}

/** Headers that describe one hop's framing: the front frames its answer itself. */
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);

const rpcMethodOf = (body: string): string | null => {
  try {
    const m = JSON.parse(body) as { method?: unknown };
    return typeof m?.method === "string" ? m.method : null;
  } catch {
    return null;
  }
};

/** Starts a front on 127.0.0.1 with an ephemeral port, passing requests on to `upstream`. */
export async function startFront(upstream: string): Promise<RunningFront> {
  const sockets = new Set<Socket>();
  const front: RunningFront = {
    url: "",
    upstream,
    answer: () => null,
    seen: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
  const http: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";
    const request: FrontRequest = {
      method,
      rpcMethod: method === "POST" ? rpcMethodOf(body) : null,
      headers: req.headers,
      body,
    };
    try {
      let answer = front.answer(request);
      if (!answer) {
        const passed = await fetch(front.upstream, {
          method,
          headers: Object.fromEntries(
            Object.entries(req.headers).filter(
              (e): e is [string, string] => typeof e[1] === "string" && !HOP.has(e[0]),
            ),
          ),
          ...(body ? { body } : {}),
        });
        answer = {
          status: passed.status,
          headers: Object.fromEntries([...passed.headers].filter(([k]) => !HOP.has(k))),
          body: await passed.text(),
        };
      }
      front.seen.push({ request, status: answer.status, body: answer.body ?? "" });
      res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? "");
    } catch {
      if (!res.headersSent) res.writeHead(502).end();
    }
  });
  http.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  front.url = `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`;
  return front;
}

/** A JSON-RPC error answer to `req`, with the given HTTP status. */
export function rpcErrorAnswer(
  req: FrontRequest,
  status: number,
  error: { code: number; message: string; data?: unknown },
): FrontAnswer {
  const id = (JSON.parse(req.body || "{}") as { id?: unknown }).id ?? null;
  return {
    status,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id, error }),
  };
}
