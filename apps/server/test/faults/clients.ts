import { randomUUID } from "node:crypto";
import type { SocketMessage } from "@switchboard/shared";
import WebSocket from "ws";
import { BASE_URL, PASSWORD } from "../users";

/** An events socket that keeps every message it receives. */
export async function eventsSocket(base: string, cookie: string) {
  const messages: SocketMessage[] = [];
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/mcp/events`, {
    headers: { cookie, origin: BASE_URL },
  });
  ws.on("message", (data) => messages.push(JSON.parse(String(data))));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
  return { ws, messages };
}

/** The names of the servers a socket was told were created. */
export const createdNames = (messages: SocketMessage[]) =>
  messages.flatMap((m) => (m.type === "server.created" ? [m.server.name] : []));

/** Calls a running Switchboard over HTTP, as a browser on BASE_URL would (a trusted Origin). */
export function http(base: string, cookie?: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        origin: BASE_URL,
        ...(cookie ? { cookie } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, res };
  };
}

/**
 * Signs a new user up and in over HTTP and creates an organization for them (they own it, and it
 * is their active one); returns their session cookie.
 */
export async function ownerOverHttp(base: string): Promise<{ id: string; orgId: string; cookie: string }> {
  const email = `owner-${randomUUID()}@example.com`;
  const call = http(base);
  const up = await call("POST", "/api/auth/sign-up/email", { email, password: PASSWORD, name: "Owner" });
  if (up.status !== 200) throw new Error(`sign-up failed: ${up.status} ${JSON.stringify(up.body)}`);
  const signIn = await call("POST", "/api/auth/sign-in/email", { email, password: PASSWORD });
  if (signIn.status !== 200) throw new Error(`sign-in failed: ${signIn.status}`);
  const cookie = signIn.res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const slug = `org-${randomUUID().slice(0, 8)}`;
  const org = await http(base, cookie)("POST", "/api/auth/organization/create", { name: slug, slug });
  if (org.status !== 200) throw new Error(`organization/create failed: ${org.status}`);
  return { id: signIn.body.user.id, orgId: org.body.id, cookie };
}
