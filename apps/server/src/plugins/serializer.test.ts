import { Problem, ServerPage, type ServerSummary } from "@switchboard/shared";
import { serializerCompiler as zodSerializerCompiler } from "fastify-type-provider-zod";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { serializerCompiler } from "./serializer";

const compile = (schema: z.ZodType) =>
  serializerCompiler({ schema, method: "GET", url: "/test", httpStatus: "200" });
const compileWithZod = (schema: z.ZodType) =>
  zodSerializerCompiler({ schema, method: "GET", url: "/test", httpStatus: "200" });

const server = (i: number, checked: boolean): ServerSummary => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  name: `server-${i}`,
  displayName: `Server "${i}" <b>`,
  description: "Line one\nline two — ünïcode",
  transport: "streamable-http",
  url: "https://mcp.example.com/mcp",
  headers: [{ name: "authorization", value: "••••••" }],
  tags: ["prod", "eu"],
  enabled: checked,
  checkIntervalSeconds: 60,
  registryName: checked ? `com.example/server-${i}` : null,
  title: checked ? `Server ${i}` : null,
  websiteUrl: null,
  repository: checked ? { url: "https://github.com/example/x", source: "github", subfolder: "src" } : null,
  releaseVersion: checked ? "1.0.0" : null,
  declaredHeaders: [
    {
      name: "Authorization",
      description: checked ? null : "A token",
      isRequired: true,
      isSecret: true,
      isSet: checked,
    },
  ],
  needsConfiguration: !checked,
  status: checked ? "healthy" : "unknown",
  statusSince: checked ? "2026-11-24T07:00:00.000Z" : null,
  lastCheckedAt: checked ? "2026-11-24T08:00:00.000Z" : null,
  lastLatencyMs: checked ? 12 : null,
  consecutiveFailures: 0,
  nextCheckAt: null,
  lastError: null,
  serverInfo: checked
    ? {
        name: "weather",
        version: null,
        protocolVersion: "2025-06-18",
        era: "legacy",
        capabilities: { tools: { listChanged: true } },
      }
    : null,
  toolsCount: checked ? 1 : 0,
  promptsCount: 0,
  resourcesCount: 0,
  toolsHash: checked ? "a".repeat(64) : null,
  pinned: checked,
  pinnedAt: checked ? "2026-11-24T07:45:00.000Z" : null,
  drifted: false,
  authChallenge: checked
    ? null
    : { resourceMetadataUrl: null, authorizationServers: ["https://a.example.com"], scopes: [] },
  createdBy: null,
  createdAt: "2026-11-24T07:00:00.000Z",
  updatedAt: "2026-11-24T07:30:00.000Z",
  version: 3,
});

describe("the response serializer", () => {
  it("writes exactly what Zod would write for a page of servers, checked and never checked", () => {
    const page = { items: [server(1, true), server(2, false)], page: 1, pageSize: 50, total: 2 };
    const written = compile(ServerPage)(page);
    expect(written).toBe(compileWithZod(ServerPage)(page));
    expect(JSON.parse(written)).toEqual(page);
  });

  it("never writes a field the schema does not name, however deep", () => {
    const leaky = {
      items: [
        { ...server(1, true), keyHash: "secret-hash", headers: [{ name: "x", value: "••", raw: "s3cret" }] },
      ],
      page: 1,
      pageSize: 50,
      total: 1,
      debug: "secret",
    };
    const written = compile(ServerPage)(leaky);
    expect(written).not.toContain("secret");
    expect(written).not.toContain("s3cret");
    expect(JSON.parse(written).items[0].headers).toEqual([{ name: "x", value: "••" }]);
  });

  it("writes problem details with and without their field issues", () => {
    const problem = {
      type: "about:blank",
      title: "Bad Request",
      status: 400,
      detail: "url must be http(s)",
      code: "VALIDATION",
      correlationId: "req-1",
    } as const;
    const withIssues = { ...problem, issues: [{ path: "body.url", message: "must be http(s)" }] };
    for (const body of [problem, withIssues]) {
      expect(Problem.safeParse(body).success).toBe(true);
      expect(compile(Problem)(body)).toBe(compileWithZod(Problem)(body));
    }
  });

  it("refuses a response that lacks a required field rather than writing half of it", () => {
    const { version: _, ...partial } = server(1, true);
    expect(() => compile(ServerPage)({ items: [partial], page: 1, pageSize: 50, total: 1 })).toThrow();
  });

  it("leaves a schema JSON Schema cannot express to Zod", () => {
    const at = new Date("2026-11-24T08:00:00.000Z");
    const schema = z.object({ at: z.date() });
    expect(compile(schema)({ at, extra: 1 })).toBe(compileWithZod(schema)({ at, extra: 1 }));
  });
});
