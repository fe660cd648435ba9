import {
  OFFICIAL_META_KEY,
  SERVER_JSON_SCHEMA_URL,
  ServerJson,
  ServerListJson,
  ServerResponseJson,
} from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { checkOpenApi, checkServerJson, officialOpenApi, officialServerSchema } from "./registry-format";

/*
 * Examples written from the official documentation (docs/reference/server-json and the OpenAPI
 * document): each is judged by the official schema through Ajv and by Switchboard's Zod schema,
 * and the two must agree.
 */

const remote = {
  $schema: SERVER_JSON_SCHEMA_URL,
  name: "com.example/weather",
  title: "Weather API",
  description: "MCP server providing weather data and forecasts via OpenWeatherMap API",
  version: "1.0.2",
  websiteUrl: "https://modelcontextprotocol.io/examples",
  repository: {
    url: "https://github.com/modelcontextprotocol/servers",
    source: "github",
    id: "b94b5f7e-c7c6-d760-2c78-a5e9b8a5b8c9",
    subfolder: "src/everything",
  },
  icons: [
    { src: "https://example.com/icon.png", mimeType: "image/png", sizes: ["48x48", "96x96"], theme: "light" },
  ],
  remotes: [
    {
      type: "streamable-http",
      url: "https://{tenant_id}.api.example.com/mcp",
      variables: { tenant_id: { description: "Your tenant identifier", isRequired: true } },
      headers: [
        { name: "X-API-Key", description: "API key for authentication", isRequired: true, isSecret: true },
        {
          name: "X-Region",
          description: "Service region",
          default: "us-east-1",
          choices: ["us-east-1", "eu-west-1", "ap-southeast-1"],
        },
      ],
    },
    { type: "sse", url: "https://mcp-fs.example.com/sse" },
  ],
  _meta: {
    "io.modelcontextprotocol.registry/publisher-provided": {
      tool: "publisher-cli",
      version: "1.2.3",
      buildInfo: { commit: "abc123def456", timestamp: "2023-12-01T10:30:00Z", pipelineId: "build-789" },
    },
    "com.example": { category: ["software_development"], verifiedPublisher: true },
  },
};

const packages = {
  name: "io.modelcontextprotocol/filesystem",
  description: "Node.js server implementing Model Context Protocol (MCP) for filesystem operations.",
  version: "1.0.2",
  packages: [
    {
      registryType: "npm",
      registryBaseUrl: "https://registry.npmjs.org",
      identifier: "@modelcontextprotocol/server-filesystem",
      version: "1.0.2",
      transport: { type: "stdio" },
      packageArguments: [
        {
          type: "positional",
          valueHint: "target_dir",
          description: "Path to access",
          isRequired: true,
          isRepeated: true,
        },
      ],
      environmentVariables: [{ name: "LOG_LEVEL", description: "Logging level", default: "info" }],
    },
    {
      registryType: "oci",
      identifier: "ghcr.io/modelcontextprotocol/server-example:v1.2.3",
      transport: { type: "stdio" },
      runtimeHint: "docker",
      runtimeArguments: [
        {
          type: "named",
          name: "--mount",
          value: "type=bind,src={source_path},dst={target_path}",
          isRepeated: true,
          variables: {
            source_path: { description: "Source path on host", format: "filepath", isRequired: true },
            target_path: {
              description: "Path to mount in the container",
              isRequired: true,
              default: "/project",
            },
          },
        },
      ],
    },
    {
      registryType: "mcpb",
      identifier: "https://github.com/example/releases/download/v1.0.0/package.mcpb",
      version: "1.0.0",
      fileSha256: "fe333e598595000ae021bd27117db32ec69af6987f507ba7a63c90638ff633ce",
      transport: { type: "stdio" },
    },
  ],
};

const minimal = { name: "io.github.user/weather", description: "Weather tools", version: "0.1.0" };

const clone = <T>(v: T): T => structuredClone(v);
const tooLong = "x".repeat(101);

/** Valid documents with one thing broken each, and the path the official schema names. */
const broken: [string, unknown, string][] = [
  ["a name without a namespace", { ...minimal, name: "weather" }, "/name"],
  ["a name with two slashes", { ...minimal, name: "com.example/a/b" }, "/name"],
  ["a name longer than 200 characters", { ...minimal, name: `com.example/${"a".repeat(200)}` }, "/name"],
  ["a description longer than 100 characters", { ...minimal, description: tooLong }, "/description"],
  ["an empty description", { ...minimal, description: "" }, "/description"],
  ["no version", { name: minimal.name, description: minimal.description }, ""],
  ["a version longer than 255 characters", { ...minimal, version: "1".repeat(256) }, "/version"],
  ["an empty title", { ...minimal, title: "" }, "/title"],
  ["a title longer than 100 characters", { ...minimal, title: tooLong }, "/title"],
  ["a website that is no URI", { ...minimal, websiteUrl: "not a url" }, "/websiteUrl"],
  [
    "a repository without its source",
    { ...minimal, repository: { url: "https://github.com/x/y" } },
    "/repository",
  ],
  ["a remote of type stdio", { ...minimal, remotes: [{ type: "stdio" }] }, "/remotes/0"],
  [
    "a remote URL without http",
    { ...minimal, remotes: [{ type: "sse", url: "ftp://x.example.com" }] },
    "/remotes/0",
  ],
  ["a remote without its URL", { ...minimal, remotes: [{ type: "streamable-http" }] }, "/remotes/0"],
  [
    "a header without a name",
    {
      ...minimal,
      remotes: [{ type: "sse", url: "https://x.example.com/sse", headers: [{ isSecret: true }] }],
    },
    "/remotes/0",
  ],
  [
    "a variable whose isRequired is no boolean",
    {
      ...minimal,
      remotes: [{ type: "sse", url: "https://{a}.example.com/sse", variables: { a: { isRequired: "yes" } } }],
    },
    "/remotes/0/variables/a/isRequired",
  ],
  [
    "a package at version latest",
    {
      ...minimal,
      packages: [{ registryType: "npm", identifier: "x", version: "latest", transport: { type: "stdio" } }],
    },
    "/packages/0/version",
  ],
  [
    "a package without its transport",
    { ...minimal, packages: [{ registryType: "npm", identifier: "x", version: "1.0.0" }] },
    "/packages/0",
  ],
  [
    "a package hash in upper case",
    {
      ...minimal,
      packages: [
        { registryType: "mcpb", identifier: "x", fileSha256: "A".repeat(64), transport: { type: "stdio" } },
      ],
    },
    "/packages/0/fileSha256",
  ],
  [
    "a positional argument with neither valueHint nor value",
    {
      ...minimal,
      packages: [
        {
          registryType: "npm",
          identifier: "x",
          transport: { type: "stdio" },
          packageArguments: [{ type: "positional" }],
        },
      ],
    },
    "/packages/0/packageArguments/0",
  ],
  [
    "a named argument without its name",
    {
      ...minimal,
      packages: [
        {
          registryType: "npm",
          identifier: "x",
          transport: { type: "stdio" },
          runtimeArguments: [{ type: "named" }],
        },
      ],
    },
    "/packages/0/runtimeArguments/0",
  ],
  [
    "an icon source longer than 255 characters",
    { ...minimal, icons: [{ src: `https://e.com/${"a".repeat(250)}` }] },
    "/icons/0/src",
  ],
  [
    "an icon size that is not WxH",
    { ...minimal, icons: [{ src: "https://e.com/i.png", sizes: ["big"] }] },
    "/icons/0/sizes/0",
  ],
  [
    "an icon of an unknown type",
    { ...minimal, icons: [{ src: "https://e.com/i.gif", mimeType: "image/gif" }] },
    "/icons/0/mimeType",
  ],
  [
    "publisher metadata that is not an object",
    { ...minimal, _meta: { "io.modelcontextprotocol.registry/publisher-provided": 3 } },
    "/_meta/io.modelcontextprotocol.registry~1publisher-provided",
  ],
];

/** The Zod issue's path in the official schema's notation. */
const pointer = (path: PropertyKey[]) =>
  path.map((p) => `/${String(p).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");

describe("the kept official documents", () => {
  it("are the 2025-12-11 server.json schema and the registry OpenAPI with its /v0.1 routes", () => {
    expect(officialServerSchema.$id).toBe(SERVER_JSON_SCHEMA_URL);
    expect(Object.keys(officialOpenApi.paths)).toEqual(
      expect.arrayContaining([
        "/v0.1/servers",
        "/v0.1/servers/{serverName}/versions",
        "/v0.1/servers/{serverName}/versions/{version}",
      ]),
    );
  });
});

describe("ServerJson, against the official server.json schema", () => {
  it.each([
    ["a remote server with URL variables, headers, icons and publisher metadata", remote],
    ["a package-only server (npm, oci, mcpb)", packages],
    ["a minimal server", minimal],
  ])("accepts %s, as the official schema does", (_name, doc) => {
    expect(checkServerJson(doc)).toEqual({ valid: true, errors: [] });
    expect(ServerJson.safeParse(doc).error?.issues).toBeUndefined();
  });

  it("keeps the metadata of other namespaces when it reads a document", () => {
    const parsed = ServerJson.parse(remote);
    expect(parsed._meta?.["com.example"]).toEqual(remote._meta["com.example"]);
    expect(parsed.remotes?.[0]?.variables?.tenant_id?.isRequired).toBe(true);
  });

  it.each(broken)("refuses %s, as the official schema does, naming the same place", (_name, doc, path) => {
    const official = checkServerJson(doc);
    expect(official.valid).toBe(false);
    expect(official.errors.map((e) => e.path)).toContain(path);
    const zod = ServerJson.safeParse(doc);
    expect(zod.success).toBe(false);
    const paths = zod.error?.issues.map((i) => pointer(i.path)) ?? [];
    expect(paths.some((p) => p === path || p.startsWith(`${path}/`))).toBe(true);
  });

  it("refuses what the official schema refuses in a thousand random mutations, and accepts what it accepts", () => {
    // Small random edits of the documented examples: wrong types, removed fields, long strings.
    let seed = 17;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const edits: ((doc: Record<string, unknown>) => void)[] = [
      (d) => delete d[pick(Object.keys(d))],
      (d) => {
        d[pick(Object.keys(d))] = pick([1, true, null, [], {}, "", "x".repeat(300)]);
      },
      (d) => {
        const r = (d.remotes as Record<string, unknown>[] | undefined)?.[0];
        if (r) r[pick(["type", "url", "headers", "variables"])] = pick([1, "", "stdio", [{}], { a: 1 }]);
      },
      (d) => {
        const p = (d.packages as Record<string, unknown>[] | undefined)?.[0];
        if (p)
          p[pick(["registryType", "identifier", "version", "transport", "fileSha256"])] = pick([
            1,
            "",
            "latest",
            {},
          ]);
      },
    ];
    function pick<T>(list: T[]): T {
      return list[Math.floor(random() * list.length)] as T;
    }
    let disagreements = 0;
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      const doc = clone(pick([remote, packages, minimal])) as Record<string, unknown>;
      pick(edits)(doc);
      const official = checkServerJson(doc).valid;
      if (!official) refused++;
      if (official !== ServerJson.safeParse(doc).success) disagreements++;
    }
    expect(refused).toBeGreaterThan(200);
    expect(disagreements).toBe(0);
  });
});

describe("the /v0.1 answers, against the official OpenAPI document", () => {
  const entry = {
    server: minimal,
    _meta: {
      [OFFICIAL_META_KEY]: {
        status: "active",
        publishedAt: "2025-01-01T10:30:00Z",
        updatedAt: "2025-01-02T10:30:00.123Z",
        isLatest: true,
      },
    },
  };

  it("accepts a page with official metadata and a cursor, as the OpenAPI document does", () => {
    const page = { servers: [entry, { server: remote }], metadata: { nextCursor: "eyJ", count: 2 } };
    expect(checkOpenApi("ServerList", page)).toEqual({ valid: true, errors: [] });
    expect(ServerListJson.safeParse(page).success).toBe(true);
  });

  it.each([
    ["an unknown key in the official metadata", { ...entry._meta[OFFICIAL_META_KEY], verified: true }],
    ["a status the format does not know", { status: "paused" }],
    ["a date that is not RFC 3339", { publishedAt: "yesterday" }],
    ["a status message longer than 500 characters", { statusMessage: "x".repeat(501) }],
  ])("refuses %s, as the OpenAPI document does", (_name, official) => {
    const bad = { server: minimal, _meta: { [OFFICIAL_META_KEY]: official } };
    expect(checkOpenApi("ServerResponse", bad).valid).toBe(false);
    expect(ServerResponseJson.safeParse(bad).success).toBe(false);
  });

  it("refuses a page without its servers, and a count that is not an integer", () => {
    for (const bad of [{ metadata: { count: 1 } }, { servers: [], metadata: { count: 1.5 } }]) {
      expect(checkOpenApi("ServerList", bad).valid).toBe(false);
      expect(ServerListJson.safeParse(bad).success).toBe(false);
    }
  });
});
