import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../../../test/app";

describe("the registry routes in the OpenAPI document", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("pglite");
  });
  afterAll(() => t.close());

  it("lists import, export, settings and the catalog with their schemas", async () => {
    const res = await t.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    for (const path of [
      "/mcp/servers/export",
      "/mcp/servers/{id}/server.json",
      "/mcp/servers/import",
      "/mcp/servers/import-from-registry",
      "/mcp/registry/settings",
      "/registry/{orgSlug}/v0.1/servers",
      "/registry/{orgSlug}/v0.1/servers/{serverName}/versions",
      "/registry/{orgSlug}/v0.1/servers/{serverName}/versions/{version}",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths["/mcp/servers/import"]?.post?.requestBody).toBeDefined();
  });
});
