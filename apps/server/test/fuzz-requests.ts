import fc from "fast-check";

/*
 * Turns the API's own description of itself (the OpenAPI document, and Better-Auth's endpoint
 * schemas) into fast-check arbitraries of hostile HTTP requests: per documented field a valid
 * value, a wrong type or a hostile one; bodies that are huge, deep, malformed or sent as another
 * content type; path and query values that are real ids, random ones and hostile strings.
 */

/** The part of JSON Schema the documents use. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
}

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface Operation {
  method: Method;
  /** The path with `{name}` where a parameter goes. */
  path: string;
  pathParams: string[];
  query: { name: string; schema: JsonSchema }[];
  headers: { name: string; schema: JsonSchema }[];
  /** The JSON body's schema, null when the operation takes none. */
  body: JsonSchema | null;
  /** Whether the operation authenticates by API key (else by session). */
  apiKey?: boolean;
}

export const operationKey = (op: Pick<Operation, "method" | "path">) => `${op.method} ${op.path}`;

interface OpenApiParameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  schema?: JsonSchema;
}
interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: OpenApiParameter[];
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
        security?: Record<string, unknown>[];
      }
    >
  >;
}

/** Every operation of an OpenAPI 3.1 document. */
export function openApiOperations(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase() as Method,
        path,
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
        query: params.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        headers: params
          .filter((p) => p.in === "header")
          .map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: op.requestBody?.content?.["application/json"]?.schema ?? null,
        apiKey: op.security?.some((s) => "apiKey" in s) ?? false,
      });
    }
  }
  return ops;
}

/** An endpoint as Better-Auth describes it, its body and query converted to JSON Schema. */
export interface AuthEndpoint {
  path: string;
  method: string | string[];
  body?: JsonSchema | undefined;
  query?: JsonSchema | undefined;
}

/** Better-Auth's endpoints under `prefix`, one operation per method; `:param` becomes `{param}`. */
export function authOperations(endpoints: AuthEndpoint[], prefix = "/api/auth"): Operation[] {
  const ops: Operation[] = [];
  for (const e of endpoints) {
    const pathParams = [...e.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
    const path = prefix + e.path.replace(/:(\w+)/g, "{$1}");
    const query = Object.entries(e.query?.properties ?? {}).map(([name, schema]) => ({ name, schema }));
    for (const method of ([] as string[]).concat(e.method)) {
      if (method !== "GET" && method !== "POST") continue;
      ops.push({
        method,
        path,
        pathParams,
        query,
        headers: [],
        body: method === "POST" ? (e.body ?? { type: "object" }) : null,
      });
    }
  }
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Values

/** `arb` once in `of` times, else undefined. */
export const onceIn = <T>(of: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: of - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/** Raw JSON text put in place of a value when the body is written (numbers JSON.stringify can't). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An array or object nested this deep, as raw JSON. */
export const DEEP = 10_000;
const deepArray = new RawJson(`${"[".repeat(DEEP)}${"]".repeat(DEEP)}`);
const deepObject = new RawJson(`${'{"a":'.repeat(DEEP)}1${"}".repeat(DEEP)}`);

/** Strings that have broken parsers, databases, logs and templates. */
export const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0001\u001f\u007f",
  "line\r\nX-Injected: 1",
  "\t",
  "../../../../etc/passwd",
  "..%2f..%2f",
  "%00",
  "%",
  "%zz",
  "' OR '1'='1",
  "'; DROP TABLE mcp_servers; --",
  '" OR 1=1 --',
  "\\",
  "\\u0000",
  "<script>alert(1)</script>",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection, sent as text
  "${7*7}",
  "{{7*7}}",
  "$(id)",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-0",
  "1e308",
  "0x1F",
  "true",
  "[]",
  "{}",
  "\u202Eevil",
  "\u200B",
  "\uFEFF",
  "\ud800",
  "a\udfffb",
  "😀".repeat(50),
  "Z̸̢̧a̶̡l̷g̸o̵",
  "İı ß ﬃ",
  "a".repeat(256),
  "a".repeat(5000),
  "x".repeat(100_000),
  "123e4567-e89b-12d3-a456-426614174000",
  "00000000-0000-0000-0000-000000000000",
  "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
  `mcp_${"A".repeat(60)}`,
  "2024-02-30T25:61:61Z",
  "9999-12-31T23:59:59.999Z",
  "0000-01-01T00:00:00Z",
  "+275760-09-13T00:00:00.000Z",
  "-271821-04-20T00:00:00Z",
  // URLs a server must refuse, none of them naming a host but this one.
  "javascript:alert(1)",
  "file:///etc/passwd",
  "data:text/plain,hi",
  "ftp://127.0.0.1:9/",
  "//127.0.0.1:9/mcp",
  "http://",
  "http://[::1",
  "http://127.0.0.1:99999/mcp",
  "http://alice:hunter2@127.0.0.1:9/mcp",
  `http://127.0.0.1:9/${"a".repeat(3000)}`,
];

/** Numbers at the edges, including ones only raw JSON can carry. */
const HOSTILE_NUMBERS: readonly unknown[] = [
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 63),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  new RawJson("-0"),
  new RawJson("1e308"),
  new RawJson("1e309"),
  new RawJson("-1e309"),
  new RawJson("1e-400"),
  new RawJson("123456789012345678901234567890"),
];

/** An object whose own keys are the ones prototype pollution goes through. */
export const protoKeys = (value: unknown = { polluted: true }) =>
  Object.fromEntries([
    ["__proto__", value],
    ["constructor", { prototype: value }],
    ["prototype", value],
  ]);

/** Any JSON value meant to be refused: wrong types, edge numbers, hostile strings, huge or deep. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS, true, false, null) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>([], {}, [null], [[]], { "": "" }) },
  { weight: 1, arbitrary: fc.constant(protoKeys()) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 10_000 }, (_, i) => i)) },
  { weight: 1, arbitrary: fc.constantFrom(deepArray, deepObject) },
);

/** What a test knows of a field or parameter by its name: real ids, its users' passwords, safe URLs. */
export type Hints = (name: string) => fc.Arbitrary<unknown> | undefined;

const MAX_NESTING = 6;

/** A value the schema accepts (as near as a generator gets without a validator). */
export function validValue(schema: JsonSchema, hints: Hints, name = "", depth = 0): fc.Arbitrary<unknown> {
  const hinted = name ? hints(name) : undefined;
  if (hinted) return hinted;
  if (depth > MAX_NESTING) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => validValue(s, hints, name, depth)));
  if (schema.allOf?.length) return validValue(mergeAll(schema.allOf), hints, name, depth);
  const type = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : null;
  if (type && type.length > 1) {
    return fc.oneof(...type.map((t) => validValue({ ...schema, type: t }, hints, name, depth)));
  }
  switch (type?.[0] ?? (schema.properties ? "object" : undefined)) {
    case "string":
      return validString(schema);
    case "integer":
      return fc.integer({
        min: Math.ceil(schema.minimum ?? schema.exclusiveMinimum ?? -1000),
        max: Math.floor(schema.maximum ?? schema.exclusiveMaximum ?? 1000),
      });
    case "number":
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const min = schema.minItems ?? 0;
      return fc.array(validValue(schema.items ?? {}, hints, "", depth + 1), {
        minLength: min,
        maxLength: Math.max(min, Math.min(schema.maxItems ?? 3, 3)),
      });
    }
    case "object": {
      const props = Object.entries(schema.properties ?? {});
      if (!props.length) {
        const values = typeof schema.additionalProperties === "object" ? schema.additionalProperties : null;
        if (!values && schema.additionalProperties === false) return fc.constant({});
        return fc.dictionary(
          schema.propertyNames?.pattern ? validString(schema.propertyNames) : fc.string({ maxLength: 10 }),
          values ? validValue(values, hints, "", depth + 1) : fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 3 },
        );
      }
      const model = Object.fromEntries(props.map(([k, s]) => [k, validValue(s, hints, k, depth + 1)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in model) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function mergeAll(schemas: JsonSchema[]): JsonSchema {
  const merged: JsonSchema = { properties: {}, required: [] };
  for (const s of schemas) {
    Object.assign(merged, { ...s, properties: merged.properties, required: merged.required });
    Object.assign(merged.properties ?? {}, s.properties);
    merged.required?.push(...(s.required ?? []));
  }
  return merged;
}

function validString(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, 40);
  if (schema.format === "date-time") {
    return (
      fc
        // Ahead of now, where an expiry must be; a query's date range takes any.
        .date({ min: new Date("2030-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
        .map((d) => d.toISOString())
    );
  }
  if (schema.format === "uuid") return fc.uuid();
  if (schema.format === "email") return fc.nat(1e6).map((n) => `fuzz-${n}@example.com`);
  if (schema.pattern) {
    try {
      const re = new RegExp(schema.pattern);
      return fc
        .stringMatching(re, { size: "xsmall" })
        .filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY));
    } catch {
      // A pattern JavaScript cannot read: any string, which is a hostile value too.
    }
  }
  return fc.string({ minLength: min, maxLength: Math.max(min, max) });
}

/** Every path to a value inside `value` (objects and arrays), the root as []. */
function pathsOf(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) pathsOf(v, [...at, i], out);
  } else if (value && typeof value === "object" && !(value instanceof RawJson))
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...at, k], out);
  return out;
}

/** A copy of `value` with `replacement` at `path` (the root when path is empty). */
function replaceAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (!path.length) return replacement;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(value)) {
    const copy = [...value];
    copy[head as number] = replaceAt(copy[head as number], rest, replacement);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  Object.defineProperty(copy, head, {
    value: replaceAt(copy[head as string], rest, replacement),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

/** A valid value with one field (or an item, or the whole) replaced by a hostile value. */
export function mutatedValue(schema: JsonSchema, hints: Hints): fc.Arbitrary<unknown> {
  return fc.tuple(validValue(schema, hints), fc.nat(), hostileValue).map(([valid, pick, hostile]) => {
    const paths = pathsOf(valid);
    // Prefer a field to the whole: the whole is only one of many choices.
    return replaceAt(valid, paths[pick % paths.length] ?? [], hostile);
  });
}

/** JSON text for a value, RawJson written as is. */
export function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `@@raw${raws.length - 1}@@`;
    }
    return v;
  });
  if (text === undefined) return "null";
  return raws.length ? text.replace(/"@@raw(\d+)@@"/g, (_m, i) => raws[Number(i)] ?? "null") : text;
}

// ---------------------------------------------------------------------------------------------
// Bodies and content types

export interface FuzzBody {
  /** Sent as is; undefined sends no body. */
  text: string | undefined;
  /** The Content-Type header, undefined for none. */
  contentType: string | undefined;
  /** What kind of body this is, for the failure report. */
  kind: string;
}

const MALFORMED_JSON = [
  "{",
  '{"a":}',
  "[1,]",
  "{'a':1}",
  '{"a":1}garbage',
  "nul",
  "NaN",
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":0x10}',
  '{"a":01}',
  "\u0000",
  "\uFEFF{}",
  '"just a string"',
  "123",
  "null",
  "true",
  "[]",
  '{"a":1,"a":2}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  " ",
  "",
];

const ODD_CONTENT_TYPES = [
  "text/plain",
  "text/plain; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=fuzz",
  "application/json; charset=utf-16",
  "application/json; charset=latin1",
  "application/json;;",
  "application/json; charset=",
  "APPLICATION/JSON",
  "application/vnd.api+json",
  "application/problem+json",
  "application/xml",
  "application/octet-stream",
  "*/*",
  "json",
  "",
];

/** A Content-Type: JSON most of the time, else missing, another type, or JSON with an odd charset. */
export const contentTypeOf: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 20, arbitrary: fc.constant("application/json") },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom(...ODD_CONTENT_TYPES) },
);

/** Just over the 1 MiB body limit. */
export const OVERSIZED = 1024 * 1024 + 64;

/** A body for an operation that takes `schema`, valid or not, of any content type. */
export function bodyOf(schema: JsonSchema, hints: Hints): fc.Arbitrary<FuzzBody> {
  const json = (kind: string, value: fc.Arbitrary<unknown>) =>
    fc.tuple(value, contentTypeOf).map(([v, contentType]) => ({ text: toJson(v), contentType, kind }));
  return fc.oneof(
    { weight: 8, arbitrary: json("valid", validValue(schema, hints)) },
    { weight: 6, arbitrary: json("mutated", mutatedValue(schema, hints)) },
    {
      weight: 2,
      arbitrary: json(
        "extra keys",
        fc
          .tuple(
            validValue(schema, hints),
            fc.constantFrom("__proto__", "constructor", "prototype", "unknownField"),
          )
          .map(([v, key]) =>
            v && typeof v === "object" && !Array.isArray(v) ? { ...v, ...protoKeys(), [key]: 1 } : v,
          ),
      ),
    },
    { weight: 2, arbitrary: json("hostile whole", hostileValue) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...MALFORMED_JSON), contentTypeOf).map(([text, contentType]) => ({
        text,
        contentType,
        kind: "malformed",
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<FuzzBody>(
        { text: undefined, contentType: "application/json", kind: "empty" },
        { text: undefined, contentType: undefined, kind: "none" },
        { text: "", contentType: "application/json", kind: "empty string" },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(validValue(schema, hints), fc.nat()).map(([v, pick]) => {
        // Over the body limit, as one huge field where there is one.
        const paths = pathsOf(v).filter((p) => p.length > 0);
        const big = "b".repeat(OVERSIZED);
        return {
          text: toJson(paths.length ? replaceAt(v, paths[pick % paths.length] ?? [], big) : big),
          contentType: "application/json",
          kind: "oversized",
        };
      }),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// URLs: paths, queries, headers

/** Percent-encodes a string for a path segment or query, lone surrogates as their UTF-8 bytes would be. */
export function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, "\ufffd")).replace(/%EF%BF%BD/g, "%ED%A0%80");
  }
}

/** Path segments written raw: bad escapes, traversal, overlong UTF-8, very long. */
const RAW_SEGMENTS = [
  "%00",
  "..",
  "%2e%2e",
  "..%2f..%2fetc%2fpasswd",
  "%2F",
  "%",
  "%zz",
  "%C0%AF",
  "%ED%A0%80",
  "%FF",
  "%F0%9F%92%A9",
  "%20",
  "%0D%0A",
  "'%20OR%201=1--",
  "a".repeat(5000),
  "__proto__",
  "constructor",
  "0",
  "-1",
  "1e308",
  "null",
];

/** A value for path parameter `name`: a real one (as given or upper-cased), a random UUID, or hostile. */
export function pathValue(name: string, known: (name: string) => readonly string[]): fc.Arbitrary<string> {
  const real = fc.nat().map((i) => {
    const list = known(name);
    return list.length ? (list[i % list.length] as string) : "missing";
  });
  return fc.oneof(
    { weight: 24, arbitrary: real.map(encode) },
    { weight: 1, arbitrary: real.map((v) => encode(v.toUpperCase())) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map(encode) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 30 }).map(encode) },
  );
}

const HOSTILE_QUERY_KEYS = [
  "__proto__",
  "constructor",
  "__proto__[polluted]",
  "constructor[prototype][polluted]",
  "a[b]",
  "",
  "%",
  "%00",
  "unknown",
];

/** A value for query parameter: valid for its schema, hostile, or given twice. */
function queryValues(schema: JsonSchema, hints: Hints, name: string): fc.Arbitrary<string[]> {
  const asText = (v: unknown) => (typeof v === "string" ? v : toJson(v));
  return fc.oneof(
    { weight: 8, arbitrary: validValue(schema, hints, name).map((v) => [asText(v)]) },
    { weight: 2, arbitrary: hostileValue.map((v) => [asText(v)]) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(validValue(schema, hints, name), hostileValue)
        .map(([a, b]) => [asText(a), asText(b)]),
    },
  );
}

/** A query string for the operation's parameters, now and then with unknown or hostile ones besides. */
export function queryOf(op: Operation, hints: Hints): fc.Arbitrary<string> {
  const documented = op.query.map((q) =>
    fc.option(
      queryValues(q.schema, hints, q.name).map((vs) => vs.map((v) => `${encode(q.name)}=${encode(v)}`)),
      { freq: 2, nil: [] as string[] },
    ),
  );
  const unknown = onceIn(
    10,
    fc
      .tuple(fc.constantFrom(...HOSTILE_QUERY_KEYS), fc.constantFrom(...HOSTILE_STRINGS))
      .map(([k, v]) => `${k.includes("%") ? k : encode(k)}=${encode(v)}`),
  );
  const raw = onceIn(
    20,
    fc.constantFrom("%", "a=%zz", "=", "&&", "a", `q=${"x".repeat(100_000)}`, "a=1&a=2&a=3"),
  );
  return fc.tuple(fc.tuple(...documented), unknown, raw).map(([docs, extra, rawPart]) => {
    const parts = [
      ...docs.flat(),
      ...(extra === undefined ? [] : [extra]),
      ...(rawPart === undefined ? [] : [rawPart]),
    ];
    return parts.length ? `?${parts.join("&")}` : "";
  });
}

/** Header values a client can send (visible Latin-1), hostile in content. */
const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    "0",
    "-1",
    "1.5",
    "abc",
    "*",
    'W/"1"',
    '"1"',
    "1, 2",
    "9".repeat(400),
    "x".repeat(8000),
  ),
  fc.integer({ min: -5, max: 1e9 }).map(String),
  fc.string({ unit: "binary-ascii", maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, "")),
);

// ---------------------------------------------------------------------------------------------
// Requests

/** Who a request comes from; the test turns it into headers. */
export type Caller = "admin" | "member" | "apiKey" | "anonymous" | "badCookie" | "badKey";

export interface FuzzRequest {
  op: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: FuzzBody | undefined;
  caller: Caller;
  /** A hostile session cookie or bearer token, for `badCookie` and `badKey`. */
  credential: string;
  /** Whether the Origin header is the app's own (else missing or foreign). */
  origin: "own" | "none" | "foreign";
}

/** Session cookie values of every shape a token should not have. */
export const HOSTILE_TOKENS = [
  "",
  ".",
  "..",
  "a.b",
  "a.b.c.d",
  "%",
  "%E0%A4%A",
  "%00",
  "%ZZ.sig",
  "%F0%9F%92%A9",
  "abc.def%3D",
  "x".repeat(5000),
  `${"a".repeat(32)}.${"A".repeat(43)}%3D`,
  "undefined",
  "null",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "' OR 1=1 --",
  `mcp_${"A".repeat(60)}`,
];

/** Authorization headers an API key should not look like. */
export const HOSTILE_BEARERS = [
  "Bearer",
  "Bearer ",
  "Bearer mcp_",
  `Bearer mcp_${"A".repeat(60)}`,
  `Bearer mcp_${"A".repeat(5000)}`,
  `bearer mcp_${"A".repeat(60)}`,
  `Bearer  mcp_${"A".repeat(60)}`,
  "Basic YWRtaW46YWRtaW4=",
  "Bearer %00",
  "Bearer ' OR 1=1 --",
  "Bearer __proto__",
  `Bearer ${"x".repeat(8000)}`,
];

const callerOf = (weights: Partial<Record<Caller, number>>): fc.Arbitrary<Caller> =>
  fc.oneof(
    ...Object.entries(weights).map(([caller, weight]) => ({
      weight: weight as number,
      arbitrary: fc.constant(caller as Caller),
    })),
  );

const OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"] as const;

/** Hostile requests for one operation. */
export function requestOf(
  op: Operation,
  {
    hints,
    known,
    callers,
  }: {
    hints: Hints;
    known: (name: string) => readonly string[];
    callers: Partial<Record<Caller, number>>;
  },
): fc.Arbitrary<FuzzRequest> {
  const segments = op.pathParams.length
    ? fc.tuple(...op.pathParams.map((p) => pathValue(p, known)))
    : fc.constant([] as string[]);
  const bodyless = onceIn(12, bodyOf({}, hints));
  const headers = fc.tuple(
    ...op.headers.map((h) =>
      onceIn(
        2,
        fc.oneof(
          {
            weight: 4,
            arbitrary: validValue(h.schema, hints, h.name).map((v) => String(v).replace(/[^\x20-\x7e]/g, "")),
          },
          { weight: 1, arbitrary: headerValue },
        ),
      ),
    ),
  );
  return fc
    .record({
      segments,
      query: queryOf(op, hints),
      body: op.body ? bodyOf(op.body, hints) : bodyless,
      headers,
      caller: callerOf(callers),
      credential: fc.constantFrom(...HOSTILE_TOKENS, ...HOSTILE_BEARERS),
      origin: fc.oneof(
        { weight: 24, arbitrary: fc.constant<FuzzRequest["origin"]>("own") },
        { weight: 1, arbitrary: fc.constantFrom<FuzzRequest["origin"]>("none", "foreign") },
      ),
      method: onceIn(25, fc.constantFrom(...OTHER_METHODS)),
    })
    .map(({ segments, query, body, headers, caller, credential, origin, method }) => {
      let i = 0;
      const path = op.path.replace(/\{\w+\}/g, () => segments[i++] ?? "");
      const headerValues: Record<string, string> = {};
      op.headers.forEach((h, j) => {
        const v = headers[j];
        if (v !== undefined) headerValues[h.name] = v;
      });
      return {
        op: operationKey(op),
        method: method ?? op.method,
        url: path + query,
        headers: headerValues,
        body,
        caller,
        credential,
        origin,
      };
    });
}

/** A short account of a request for a failure report (long strings cut). */
export function describeRequest(req: FuzzRequest): string {
  const cut = (s: string | undefined) =>
    s && s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s;
  return JSON.stringify(
    {
      op: req.op,
      method: req.method,
      url: cut(req.url),
      headers: req.headers,
      caller: req.caller,
      credential: ["badCookie", "badKey"].includes(req.caller) ? cut(req.credential) : undefined,
      origin: req.origin,
      body: req.body && { kind: req.body.kind, contentType: req.body.contentType, text: cut(req.body.text) },
    },
    null,
    1,
  );
}
