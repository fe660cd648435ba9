import { sql } from "drizzle-orm";
import fc from "fast-check";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { queryRows } from "../src/db/client";
import type { Prober, ProbeTarget } from "../src/modules/health/probe";
import {
  as,
  BASE_URL,
  createOrg,
  createTenant,
  createTestApp,
  ORIGIN,
  PASSWORD,
  signUp,
  type Tenant,
  type TestApp,
  type TestUser,
} from "./app";
import {
  type AuthEndpoint,
  authOperations,
  type Caller,
  describeRequest,
  type FuzzRequest,
  type Hints,
  HOSTILE_STRINGS,
  type JsonSchema,
  type Operation,
  openApiOperations,
  operationKey,
  requestOf,
} from "./fuzz-requests";
import { officialEntry, type RegistryFixture, startRegistryFixture } from "./registry-fixture";

/*
 * A bounded, seeded property-based fuzzer over every route of the OpenAPI document and every
 * Better-Auth endpoint under /api/auth: hostile values per documented field, wrong types, huge
 * and deep bodies, odd content types, hostile path, query, header and credential values. Each
 * request must be answered within HANG_MS, never with a 5xx; a refusal must be problem+json and
 * leave the database as it was. FUZZ_SEED changes the seed, FUZZ_RUNS the cases per operation
 * (30 by default: about 2,500 in all), FUZZ_SHRINK=1 shrinks a failure to a smaller request (slow:
 * every step is a request), FUZZ_STATS=1 prints the statuses answered per operation, and
 * FUZZ_TRACE=<part of an operation> prints each request to the operations it names.
 *
 * Nothing here reaches beyond this process but a registry fixture on 127.0.0.1: the scheduler
 * does not run in the test app, probes (POST /mcp/probe, /check) go to a fake prober that
 * connects nowhere, URL fields get only loopback or invalid URLs (import-from-registry only the
 * local fixture's), and the gateway is not fuzzed here, since it would connect to whatever URL a
 * fuzzed PATCH stored (its hostile input is tested in modules/gateway).
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_507);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const SHRINK = process.env.FUZZ_SHRINK === "1";
/** A request not answered within this long hangs. */
const HANG_MS = 10_000;

/** The tables whose content a refused request must leave as it was. */
const TABLES = [
  "user",
  "session",
  "account",
  "verification",
  "organization",
  "member",
  "invitation",
  "mcp_servers",
  "mcp_api_keys",
  "mcp_server_health",
  "mcp_tool_drift",
  "audit_logs",
  "mcp_registry_settings",
  "mcp_usage_minutes",
  "mcp_health_hours",
];

/**
 * Columns that record use rather than change: any authenticated request renews its session
 * (sessions expire after a time without use) and marks its API key used, refused or not.
 */
const ACTIVITY_COLUMNS: Record<string, string[]> = {
  session: ["expires_at", "updated_at"],
  mcp_api_keys: ["last_used_at"],
};

const FINGERPRINT = sql.raw(
  TABLES.map((t) => {
    const row = `(to_jsonb(x)${(ACTIVITY_COLUMNS[t] ?? []).map((c) => ` - '${c}'`).join("")})::text`;
    // An order-free sum of row hashes: no sort, one pass over each table.
    return `SELECT '${t}' AS name, count(*)::int AS rows, coalesce(sum(hashtextextended(${row}, 0)), 0)::text AS hash FROM "${t}" x`;
  }).join(" UNION ALL "),
);

/** A stable number per operation, so that each gets a seed of its own from the one seed. */
const hashOf = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 7);

/**
 * URL fields get loopback URLs on a closed port (hostile values, among them URLs the server must
 * refuse, come from the generic hostile strings): never a host but this one.
 */
const LOOPBACK_URLS = fc.constantFrom(
  "http://127.0.0.1:9/mcp",
  "https://127.0.0.1:9/sse",
  "http://[::1]:9/mcp",
  "http://127.0.0.1:9/mcp?x=%00#frag",
);

const probed: ProbeTarget[] = [];
/** Connects nowhere: every probe finds the server down. */
const fakeProbe: Prober = async (target) => {
  probed.push(target);
  return {
    status: "unhealthy",
    latencyMs: 1,
    error: "connection_refused",
    serverInfo: null,
    tools: [],
    prompts: [],
    resources: [],
    authChallenge: null,
  };
};

interface Fingerprint {
  name: string;
  rows: number;
  hash: string;
}

describe("fuzzing the HTTP API", () => {
  let t: TestApp;
  let registry: RegistryFixture;
  let tenant: Tenant;
  let other: Tenant;
  let authTenant: Tenant;
  /** What path parameters and hinted fields take as real values; refreshed as fuzzed writes change them. */
  const pools: Record<string, string[]> = {};
  let apiKey = "";
  let lastPrint: Fingerprint[] | null = null;
  /** Statuses answered per operation, printed with FUZZ_STATS=1. */
  const stats = new Map<string, Map<number, number>>();

  const known = (name: string): readonly string[] => pools[name] ?? [];
  const fromPool = (name: string) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.nat().map((i) => known(name)[i % Math.max(1, known(name).length)] ?? name) },
      { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    );

  const hintsFor =
    (op: Operation): Hints =>
    (name) => {
      if (op.path === "/mcp/servers/import-from-registry" && name === "url") {
        return fc.constantFrom(registry.url, `${registry.url}/v0.1`);
      }
      if (/ur[li]$/i.test(name)) return LOOPBACK_URLS;
      if (op.path === "/api/auth/organization/list-members") {
        if (name === "limit" || name === "offset") return fc.nat(200).map(String);
        if (name === "sortBy" || name === "filterField")
          return fc.constantFrom("role", "userId", "createdAt");
        if (name === "filterOperator") return fc.constantFrom("eq", "ne", "contains", "in");
        if (name === "filterValue") return fc.constantFrom("owner", "admin", "member");
      }
      if (/^(email|newEmail|memberIdOrEmail)$/.test(name)) return fromPool("email");
      if (/password$/i.test(name)) return fc.constantFrom(PASSWORD, "wrong-password-123", "short");
      if (/^(organizationId|organizationSlug|userId|invitationId|memberId|slug)$/.test(name))
        return fromPool(name);
      if (name === "role") return fc.constantFrom("admin", "member", "owner", "root", ["admin", "member"]);
      return undefined;
    };

  async function fingerprint(): Promise<Fingerprint[]> {
    return queryRows<Fingerprint>(t.database.db, FINGERPRINT);
  }

  const credentials = (user: TestUser) => ({ cookie: user.cookie });

  function headersOf(req: FuzzRequest, signedIn: TestUser): Record<string, string> {
    const headers: Record<string, string> = { ...req.headers };
    if (req.origin === "own") headers.origin = BASE_URL;
    if (req.origin === "foreign") headers.origin = "https://evil.example";
    const callers: Record<Caller, () => void> = {
      admin: () => Object.assign(headers, credentials(signedIn)),
      member: () => Object.assign(headers, credentials(tenant.member)),
      apiKey: () => {
        headers.authorization = `Bearer ${apiKey}`;
      },
      anonymous: () => {},
      badCookie: () => {
        headers.cookie = `better-auth.session_token=${req.credential.replace(/^Bearer ?/, "")}`;
      },
      badKey: () => {
        headers.authorization = req.credential.startsWith("Bearer")
          ? req.credential
          : `Bearer ${req.credential}`;
      },
    };
    callers[req.caller]();
    if (req.body?.contentType !== undefined) headers["content-type"] = req.body.contentType;
    return headers;
  }

  async function send(req: FuzzRequest, signedIn: TestUser): Promise<LightMyRequestResponse> {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms`)), HANG_MS);
    });
    try {
      return await Promise.race([
        t.app.inject({
          method: req.method as "GET",
          url: req.url,
          headers: headersOf(req, signedIn),
          ...(req.body?.text === undefined ? {} : { payload: req.body.text }),
        }),
        hang,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** What the last 5xx logged, to name the cause in the report. */
  const lastError = () => {
    const line = t.logs.findLast((l) => Number(l.level) >= 50);
    const err = line?.err as { type?: string; message?: string; stack?: string } | undefined;
    return err ? `${err.type}: ${err.message}\n${err.stack?.split("\n").slice(1, 6).join("\n")}` : "";
  };

  /** Sends one fuzzed request and checks the properties every answer must have. */
  async function check(req: FuzzRequest, signedIn: TestUser, afterSuccess: () => Promise<void>) {
    const before = lastPrint ?? (await fingerprint());
    const res = await send(req, signedIn);
    const counts = stats.get(req.op) ?? new Map<number, number>();
    counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
    stats.set(req.op, counts);
    if (process.env.FUZZ_TRACE && req.op.includes(process.env.FUZZ_TRACE)) {
      console.log(
        `${res.statusCode} ${describeRequest(req).replace(/\s+/g, " ").slice(0, 600)}\n  → ${res.body.slice(0, 200)}`,
      );
    }
    const after = await fingerprint();
    lastPrint = after;
    const problems: string[] = [];
    if (res.statusCode >= 500)
      problems.push(`answered ${res.statusCode}: ${res.body.slice(0, 400)}\n${lastError()}`);
    if (res.statusCode >= 400) {
      const type = String(res.headers["content-type"] ?? "");
      if (!type.startsWith("application/problem+json"))
        problems.push(
          `answered ${res.statusCode} as ${type || "no content type"}: ${res.body.slice(0, 200)}`,
        );
      else if (req.method !== "HEAD" && res.json().status !== res.statusCode)
        problems.push(`answered ${res.statusCode} with a problem of status ${res.json().status}`);
      const changed = after.filter((a) => {
        const b = before.find((x) => x.name === a.name);
        return !b || b.rows !== a.rows || b.hash !== a.hash;
      });
      if (changed.length)
        problems.push(
          `refused with ${res.statusCode} but changed ${changed.map((c) => c.name).join(", ")}: ${res.body.slice(0, 200)}`,
        );
    } else {
      await afterSuccess();
      lastPrint = null;
    }
    if (problems.length) throw new Error(problems.join("\n"));
  }

  /** Runs every operation's property; returns one report per failing operation. */
  async function fuzz(
    ops: Operation[],
    opts: {
      callers: Partial<Record<Caller, number>>;
      signedIn: () => TestUser;
      afterSuccess: (req: FuzzRequest) => Promise<void>;
    },
  ): Promise<string[]> {
    const failures: string[] = [];
    for (const op of ops) {
      // An operation that authenticates by API key is called with one, as admins call the rest.
      const callers = op.apiKey
        ? { ...opts.callers, admin: 1, apiKey: opts.callers.admin ?? 1 }
        : opts.callers;
      const arb = requestOf(op, { hints: hintsFor(op), known, callers });
      const seed = (SEED + hashOf(operationKey(op))) | 0;
      const details = await fc.check(
        fc.asyncProperty(arb, (req) => check(req, opts.signedIn(), () => opts.afterSuccess(req))),
        { seed, numRuns: RUNS, endOnFailure: !SHRINK },
      );
      if (details.failed) {
        const [req] = details.counterexample ?? [];
        const error =
          details.errorInstance instanceof Error
            ? details.errorInstance.message
            : String(details.errorInstance);
        failures.push(
          `${operationKey(op)} (FUZZ_SEED=${SEED}, seed ${details.seed}, path ${details.counterexamplePath}):\n${error}\n${req ? describeRequest(req) : ""}`,
        );
      }
    }
    return failures;
  }

  // ---- fixtures -------------------------------------------------------------------------------

  const createServer = async (admin: TestUser, name: string, registryName: string | null = null) => {
    const res = await as(
      t.app,
      admin,
    )({
      method: "POST",
      url: "/mcp/servers",
      payload: { name, url: "http://127.0.0.1:9/mcp", registryName, releaseVersion: "1.0.0" },
    });
    if (res.statusCode !== 201) throw new Error(`could not create ${name}: ${res.statusCode} ${res.body}`);
    return res.json() as { id: string };
  };

  const createKey = async (admin: TestUser, serverId: string) => {
    const res = await as(
      t.app,
      admin,
    )({ method: "POST", url: `/mcp/servers/${serverId}/keys`, payload: { name: "fuzz" } });
    if (res.statusCode !== 201) throw new Error(`could not create a key: ${res.statusCode} ${res.body}`);
    return res.json() as { id: string; key: string };
  };

  /** The admin's server and key, created again when a fuzzed request deleted or revoked them. */
  async function ensureManagementFixtures() {
    const admin = as(t.app, tenant.admin);
    const [first] = pools.id ?? [];
    const found = first ? await admin({ method: "GET", url: `/mcp/servers/${first}` }) : null;
    if (found?.statusCode !== 200) {
      const server = await createServer(tenant.admin, `fuzz-${(pools.id?.length ?? 0) + 1}`, null);
      pools.id = [server.id, ...(pools.id ?? []).slice(1)];
    }
    const whoami = await t.app.inject({
      method: "GET",
      url: "/mcp/whoami",
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (whoami.statusCode !== 200) {
      const key = await createKey(tenant.admin, pools.id?.[0] as string);
      apiKey = key.key;
      pools.keyId = [key.id, ...(pools.keyId ?? []).slice(1)];
    }
  }

  /** The Better-Auth user the auth routes are fuzzed as: signed in again, or anew, when a request ended it. */
  async function ensureAuthUser() {
    const session = await t.app.inject({
      method: "GET",
      url: "/api/auth/get-session",
      headers: { ...ORIGIN, cookie: authTenant.owner.cookie },
    });
    let user = authTenant.owner;
    if (session.statusCode !== 200 || !session.json()?.session) {
      const signIn = await t.app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        headers: ORIGIN,
        payload: { email: user.email, password: PASSWORD },
      });
      user =
        signIn.statusCode === 200
          ? {
              ...user,
              cookie: ([] as string[])
                .concat(signIn.headers["set-cookie"] ?? [])
                .map((c) => c.split(";")[0])
                .join("; "),
            }
          : await signUp(t.app);
      authTenant.owner = user;
      pools.email = [user.email, ...(pools.email ?? [])];
      pools.userId = [user.id, ...(pools.userId ?? [])];
    }
    const active = await t.app.inject({
      method: "GET",
      url: "/api/auth/get-session",
      headers: { ...ORIGIN, cookie: user.cookie },
    });
    if (!active.json()?.session?.activeOrganizationId) {
      const slug = `fuzz-auth-${(pools.organizationSlug?.length ?? 0) + 1}-${Date.now().toString(36)}`;
      const orgId = await createOrg(t.app, user, slug);
      pools.organizationId = [orgId, ...(pools.organizationId ?? [])];
      pools.organizationSlug = [slug, ...(pools.organizationSlug ?? [])];
      pools.slug = pools.organizationSlug;
    }
  }

  beforeAll(async () => {
    t = await createTestApp("pglite", { probe: fakeProbe });
    registry = await startRegistryFixture({
      entries: [
        officialEntry({
          name: "io.github.fuzz/remote",
          description: "A server the fuzzer imports",
          version: "1.0.0",
          remotes: [{ type: "streamable-http", url: "http://127.0.0.1:9/mcp" }],
        }),
      ],
    });
    tenant = await createTenant(t.app);
    other = await createTenant(t.app);
    authTenant = await createTenant(t.app);
    const a = await createServer(tenant.admin, "fuzz-a", "io.github.fuzz/alpha");
    const b = await createServer(tenant.admin, "fuzz-b");
    const foreign = await createServer(other.admin, "foreign", "io.github.other/foreign");
    const key = await createKey(tenant.admin, a.id);
    const foreignKey = await createKey(other.admin, foreign.id);
    apiKey = key.key;
    const org = (user: TestUser) =>
      t.app
        .inject({
          method: "GET",
          url: "/api/auth/organization/get-full-organization",
          headers: { ...ORIGIN, cookie: user.cookie },
        })
        .then((r) => r.json() as { id: string; slug: string; members: { id: string }[] });
    const [mine, theirs, auths] = await Promise.all([
      org(tenant.admin),
      org(other.admin),
      org(authTenant.owner),
    ]);
    await as(
      t.app,
      tenant.owner,
    )({ method: "PATCH", url: "/mcp/registry/settings", payload: { catalogPublic: true } });
    const invited = await t.app.inject({
      method: "POST",
      url: "/api/auth/organization/invite-member",
      headers: { ...ORIGIN, cookie: authTenant.owner.cookie },
      payload: { email: "invitee@example.com", role: "member", organizationId: auths.id },
    });
    Object.assign(pools, {
      id: [a.id, b.id, foreign.id],
      keyId: [key.id, foreignKey.id],
      orgSlug: [mine.slug, theirs.slug],
      serverName: ["io.github.fuzz/alpha", "io.github.other/foreign"],
      version: ["1.0.0", "latest"],
      email: [authTenant.owner.email, authTenant.member.email, tenant.admin.email, "invitee@example.com"],
      userId: [authTenant.owner.id, authTenant.member.id, tenant.admin.id],
      organizationId: [auths.id, mine.id],
      organizationSlug: [auths.slug, mine.slug],
      slug: [auths.slug, mine.slug],
      memberId: auths.members.map((m) => m.id),
      invitationId: [invited.json().id as string],
      token: ["not-a-reset-token"],
    });
  });
  afterAll(async () => {
    if (process.env.FUZZ_STATS === "1") {
      for (const [op, counts] of stats) {
        const line = [...counts].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
        console.log(`${op.padEnd(60)} ${line.join(" ")}`);
      }
    }
    await registry?.close();
    await t?.close();
  });

  it("sees a write in the tables it watches, and nothing between two reads", async () => {
    const before = await fingerprint();
    expect(await fingerprint()).toEqual(before);
    await createServer(tenant.admin, "fingerprinted");
    const changed = (await fingerprint()).filter((a) => {
      const b = before.find((x) => x.name === a.name);
      return b?.rows !== a.rows || b.hash !== a.hash;
    });
    expect(changed.map((c) => c.name).sort()).toEqual(["audit_logs", "mcp_servers"]);
  });

  it("answers every OpenAPI route's hostile requests without a 5xx or a hang, refusing them as problem+json without writing", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
    const ops = openApiOperations(doc);
    expect(ops.length).toBeGreaterThan(25);
    const failures = await fuzz(ops, {
      callers: { admin: 40, member: 2, apiKey: 2, anonymous: 1, badCookie: 1, badKey: 1 },
      signedIn: () => tenant.admin,
      afterSuccess: ensureManagementFixtures,
    });
    expect(failures, failures.join("\n\n")).toEqual([]);
    // The probe routes were fuzzed through the fake prober, never a real connection.
    expect(probed.length).toBeGreaterThan(0);
  }, 600_000);

  it("answers hostile requests to every Better-Auth route under /api/auth without a 5xx, a hang or a partial write", async () => {
    const api = t.runtime.auth.api as unknown as Record<
      string,
      { path?: string; options?: { method?: string | string[]; body?: unknown; query?: unknown } }
    >;
    const asJsonSchema = (schema: unknown) =>
      schema
        ? (z.toJSONSchema(schema as z.ZodType, { unrepresentable: "any", io: "input" }) as JsonSchema)
        : undefined;
    const endpoints: AuthEndpoint[] = Object.values(api).flatMap((e) =>
      e.path && e.options?.method
        ? [
            {
              path: e.path,
              method: e.options.method,
              body: asJsonSchema(e.options.body),
              query: asJsonSchema(e.options.query),
            },
          ]
        : [],
    );
    const ops = authOperations(endpoints);
    expect(ops.map(operationKey)).toEqual(
      expect.arrayContaining(["POST /api/auth/sign-up/email", "GET /api/auth/organization/list-members"]),
    );
    const failures = await fuzz(ops, {
      callers: { admin: 20, anonymous: 2, badCookie: 2 },
      signedIn: () => authTenant.owner,
      afterSuccess: ensureAuthUser,
    });
    expect(failures, failures.join("\n\n")).toEqual([]);
  }, 600_000);
});
