import { randomUUID } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import type { App } from "../src/app";

// Signing users up and into organizations through Better-Auth, for tests and benchmarks alike.

export const BASE_URL = "http://localhost:3000";
export const ORIGIN = { origin: BASE_URL };

export const cookieOf = (res: LightMyRequestResponse): string =>
  ([] as string[])
    .concat(res.headers["set-cookie"] ?? [])
    .map((c) => c.split(";")[0])
    .join("; ");

export interface TestUser {
  id: string;
  email: string;
  cookie: string;
}

export const PASSWORD = "correct-horse-battery";

/**
 * Signs a new user up through Better-Auth, then in (sign-up gives no session, so that it answers
 * the same for a taken address), and returns their session cookie.
 */
export async function signUp(app: App, email = `user-${randomUUID()}@example.com`): Promise<TestUser> {
  const res = await app.inject({
    method: "POST",
    url: "/api/auth/sign-up/email",
    headers: ORIGIN,
    payload: { email, password: PASSWORD, name: email.split("@")[0] },
  });
  if (res.statusCode !== 200) throw new Error(`sign-up failed: ${res.statusCode} ${res.body}`);
  const signIn = await app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    headers: ORIGIN,
    payload: { email, password: PASSWORD },
  });
  if (signIn.statusCode !== 200) throw new Error(`sign-in failed: ${signIn.statusCode} ${signIn.body}`);
  return { id: signIn.json().user.id, email, cookie: cookieOf(signIn) };
}

/** Creates an organization (which becomes the user's active one) and returns its id. */
export async function createOrg(app: App, user: TestUser, name = `Org ${randomUUID().slice(0, 8)}`) {
  const res = await app.inject({
    method: "POST",
    url: "/api/auth/organization/create",
    headers: { ...ORIGIN, cookie: user.cookie },
    payload: { name, slug: name.toLowerCase().replace(/[^a-z0-9]+/g, "-") },
  });
  if (res.statusCode !== 200) throw new Error(`organization/create failed: ${res.statusCode} ${res.body}`);
  return res.json().id as string;
}

/** Adds `user` to the organization with `role`, acting as its owner, and makes it their active one. */
export async function addMember(app: App, owner: TestUser, orgId: string, user: TestUser, role: string) {
  const res = await app.inject({
    method: "POST",
    url: "/api/auth/organization/invite-member",
    headers: { ...ORIGIN, cookie: owner.cookie },
    payload: { email: user.email, role, organizationId: orgId },
  });
  if (res.statusCode !== 200) throw new Error(`invite-member failed: ${res.statusCode} ${res.body}`);
  // The invitation link, as the invitee opens it (it proves their address).
  const accepted = await app.inject({
    method: "POST",
    url: `/api/invitations/${res.json().id}/accept`,
    headers: { ...ORIGIN, cookie: user.cookie },
  });
  if (accepted.statusCode !== 200)
    throw new Error(`accept-invitation failed: ${accepted.statusCode} ${accepted.body}`);
  await setActive(app, user, orgId);
}

export async function setActive(app: App, user: TestUser, orgId: string | null) {
  const res = await app.inject({
    method: "POST",
    url: "/api/auth/organization/set-active",
    headers: { ...ORIGIN, cookie: user.cookie },
    payload: { organizationId: orgId },
  });
  if (res.statusCode !== 200) throw new Error(`set-active failed: ${res.statusCode} ${res.body}`);
}

export interface Tenant {
  orgId: string;
  owner: TestUser;
  admin: TestUser;
  member: TestUser;
}

/** A fresh organization with an owner, an admin and a member, each signed in with it active. */
export async function createTenant(app: App): Promise<Tenant> {
  const owner = await signUp(app);
  const orgId = await createOrg(app, owner);
  const admin = await signUp(app);
  const member = await signUp(app);
  await addMember(app, owner, orgId, admin, "admin");
  await addMember(app, owner, orgId, member, "member");
  return { orgId, owner, admin, member };
}

type InjectArgs = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
};

/** Calls the API as `user`: their cookie plus a trusted Origin. */
export function as(app: App, user: TestUser) {
  return ({ method, url, payload, headers }: InjectArgs) =>
    app.inject({
      method,
      url,
      headers: { ...ORIGIN, cookie: user.cookie, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
}
