import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createTestApp, ORIGIN, signUp, type TestApp } from "../../test/app";
import { AppError } from "../lib/errors";

const expectProblem = (
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code: string,
) => {
  expect(res.statusCode).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
  expect(body.correlationId).toBe(res.headers["x-correlation-id"]);
  return body;
};

describe("errors and correlation ids", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite", {
      routes: (app) => {
        app.post(
          "/test/echo",
          {
            schema: {
              body: z.object({ name: z.string().min(2), count: z.number().int().max(10) }).strict(),
              querystring: z.object({ flag: z.enum(["on", "off"]).optional() }),
            },
          },
          async (request) => request.body,
        );
        app.get("/test/boom", async () => {
          throw new Error("database password is hunter2 at 10.0.0.5");
        });
        app.get("/test/conflict", async () => {
          throw new AppError("CONFLICT", "A server named alpha already exists");
        });
      },
    });
  });
  afterAll(() => t.close());

  it("answers an unknown route with a 404 problem", async () => {
    const res = await t.app.inject({ method: "GET", url: "/nowhere?x=1" });
    const body = expectProblem(res, 404, "NOT_FOUND");
    expect(body.detail).toBe("No route GET /nowhere");
  });

  it("names every failing field of a validation error", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/test/echo",
      payload: { name: "x", count: 99, extra: 1 },
    });
    const body = expectProblem(res, 400, "VALIDATION");
    const paths = (body.issues as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(["body.count", "body.extra", "body.name"]);
    expect(body.detail).toContain("body.name");
    const res2 = await t.app.inject({
      method: "POST",
      url: "/test/echo?flag=maybe",
      payload: { name: "ab", count: 1 },
    });
    const body2 = expectProblem(res2, 400, "VALIDATION");
    expect(body2.issues).toEqual([expect.objectContaining({ path: "query.flag" })]);
  });

  it("reports a missing required field by name", async () => {
    const res = await t.app.inject({ method: "POST", url: "/test/echo", payload: { count: 1 } });
    const body = expectProblem(res, 400, "VALIDATION");
    expect((body.issues as { path: string }[]).map((i) => i.path)).toContain("body.name");
  });

  it("refuses malformed JSON with a 400", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/test/echo",
      headers: { "content-type": "application/json" },
      payload: '{"name": "ab", ',
    });
    const body = expectProblem(res, 400, "VALIDATION");
    expect(body.detail).toMatch(/not valid JSON/);
  });

  it("refuses a body over 1 MiB with a 413", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/test/echo",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ name: "x".repeat(1024 * 1024), count: 1 }),
    });
    expectProblem(res, 413, "PAYLOAD_TOO_LARGE");
    expect(res.json().detail).toBe("The request body is larger than 1 MiB");
  });

  it("refuses a body that is not JSON with a 415", async () => {
    for (const type of ["text/plain", "application/xml", "application/x-www-form-urlencoded"]) {
      const res = await t.app.inject({
        method: "POST",
        url: "/test/echo",
        headers: { "content-type": type },
        payload: "name=ab&count=1",
      });
      expectProblem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
  });

  it.each([
    ["a broken escape", "/mcp/servers/%zz"],
    ["a lone continuation byte", "/mcp/servers/%FF/keys"],
    ["an encoded lone surrogate", "/registry/%ED%A0%80/v0.1/servers"],
  ])("answers a path with %s, refused before routing, with a 400 problem", async (_what, url) => {
    const res = await t.app.inject({ method: "GET", url: `${url}?q=1` });
    const body = expectProblem(res, 400, "VALIDATION");
    expect(body.detail).toBe(`The path ${url} is not valid percent-encoded UTF-8`);
  });

  it("answers a path segment longer than any route takes with a 414 problem", async () => {
    const res = await t.app.inject({ method: "DELETE", url: `/mcp/servers/${"a".repeat(5000)}` });
    expectProblem(res, 414, "URI_TOO_LONG");
  });

  it("hides the internals of an unexpected error behind a 500 and logs it", async () => {
    const res = await t.app.inject({ method: "GET", url: "/test/boom" });
    const body = expectProblem(res, 500, "INTERNAL");
    expect(JSON.stringify(body)).not.toMatch(/hunter2|10\.0\.0\.5|at .*\.ts/);
    const logged = t.logs.find((l) => l.correlationId === body.correlationId && l.level === 50);
    expect(logged?.msg).toBe("unexpected error");
  });

  it("maps a service's AppError to its status", async () => {
    const res = await t.app.inject({ method: "GET", url: "/test/conflict" });
    const body = expectProblem(res, 409, "CONFLICT");
    expect(body.detail).toBe("A server named alpha already exists");
  });

  it("keeps a sane X-Correlation-ID from the caller and logs every line with it", async () => {
    const id = "client-req-0042";
    const res = await t.app.inject({ method: "GET", url: "/healthz", headers: { "x-correlation-id": id } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["x-correlation-id"]).toBe(id);
    const lines = t.logs.filter((l) => l.correlationId === id);
    expect(lines.map((l) => l.msg)).toEqual(["incoming request", "request completed"]);
  });

  it("replaces an insane X-Correlation-ID with a generated one", async () => {
    for (const bad of ["<script>", "a b c d e f g h", "x".repeat(200), "short"]) {
      const res = await t.app.inject({
        method: "GET",
        url: "/healthz",
        headers: { "x-correlation-id": bad },
      });
      expect(res.headers["x-correlation-id"]).not.toBe(bad);
      expect(res.headers["x-correlation-id"]).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("carries the correlation id on errors and on Better-Auth's answers", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: "/nowhere",
      headers: { "x-correlation-id": "trace-12345678" },
    });
    expect(res.headers["x-correlation-id"]).toBe("trace-12345678");
    expect(res.json().correlationId).toBe("trace-12345678");
    const auth = await t.app.inject({ method: "GET", url: "/api/auth/get-session" });
    expect(auth.headers["x-correlation-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("turns Better-Auth's errors into problem+json", async () => {
    const user = await signUp(t.app);
    const res = await t.app.inject({
      method: "POST",
      url: "/api/auth/sign-in/email",
      headers: ORIGIN,
      payload: { email: user.email, password: "wrong-password-123" },
    });
    const body = expectProblem(res, 401, "UNAUTHORIZED");
    expect(body.detail).toMatch(/invalid email or password/i);
    expect(body.authCode).toBe("INVALID_EMAIL_OR_PASSWORD");
  });

  it("never logs cookies or authorization headers", async () => {
    await t.app.inject({
      method: "GET",
      url: "/healthz",
      headers: {
        cookie: "better-auth.session_token=supersecretcookie",
        authorization: "Bearer mcp_supersecret",
      },
    });
    expect(JSON.stringify(t.logs)).not.toMatch(/supersecret/);
  });
});
