import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../../../test/app";

describe("platform routes", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite");
  });
  afterAll(() => t.close());

  it("GET /healthz says the process is alive", async () => {
    const res = await t.app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("GET /readyz checks the database", async () => {
    const res = await t.app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("GET /openapi.json describes the API as OpenAPI 3.1 from the route schemas", async () => {
    const res = await t.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe("3.1.0");
    const audit = doc.paths["/mcp/audit-logs"].get;
    expect(audit.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["page", "pageSize", "action", "actorId", "targetId", "from", "to"]),
    );
    expect(Object.keys(audit.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "403"]));
    expect(doc.paths["/api/auth/*"]).toBeUndefined();
  });

  it("GET /docs serves Swagger UI", async () => {
    const res = await t.app.inject({ method: "GET", url: "/docs/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.body).toContain("swagger");
  });

  it("GET /readyz answers 503 problem+json when the database is gone", async () => {
    const broken = await createTestApp("pglite");
    await broken.database.close();
    const res = await broken.app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: "UNAVAILABLE", detail: "The database is not reachable" });
    await broken.app.close();
  });
});
