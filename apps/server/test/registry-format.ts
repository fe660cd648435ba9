import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";

/*
 * The official documents, as Ajv reads them: the 2025-12-11 server.json schema (draft-07) and the
 * registry's OpenAPI document (JSON Schema 2020-12). Switchboard's answers are checked against
 * these, never against its own Zod schemas alone.
 */

const dir = join(import.meta.dirname, "fixtures/registry");
export const officialServerSchema = JSON.parse(
  readFileSync(join(dir, "server.schema.2025-12-11.json"), "utf8"),
);
export const officialOpenApi = parse(readFileSync(join(dir, "openapi.yaml"), "utf8")) as {
  paths: Record<string, unknown>;
  components: { schemas: Record<string, unknown> };
};

// Not strict: the documents use annotation keywords (`example`) that JSON Schema does not define.
const draft7 = new Ajv({ strict: false, allErrors: true });
addFormats(draft7);
const serverJsonValidator = draft7.compile(officialServerSchema);

const ajv2020 = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv2020);
ajv2020.addSchema(officialOpenApi, "openapi");

export interface Verdict {
  valid: boolean;
  errors: { path: string; message: string }[];
}

const verdict = (valid: boolean, errors: ErrorObject[] | null | undefined): Verdict => ({
  valid,
  errors: (errors ?? []).map((e) => ({ path: e.instancePath, message: e.message ?? e.keyword })),
});

/** The document checked against the official server.json schema. */
export function checkServerJson(doc: unknown): Verdict {
  const valid = serverJsonValidator(doc);
  return verdict(valid, serverJsonValidator.errors);
}

/** A value checked against one of the OpenAPI document's schemas (`ServerList`, `ServerResponse`, …). */
export function checkOpenApi(schema: string, value: unknown): Verdict {
  const validate = ajv2020.getSchema(`openapi#/components/schemas/${schema}`);
  if (!validate) throw new Error(`the OpenAPI document has no schema ${schema}`);
  const valid = validate(value) as boolean;
  return verdict(valid, validate.errors);
}
