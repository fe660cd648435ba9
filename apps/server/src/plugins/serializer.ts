import fastJson from "fast-json-stringify";
import type { FastifySerializerCompiler } from "fastify";
import { serializerCompiler as zodSerializerCompiler } from "fastify-type-provider-zod";
import { type ZodType, z } from "zod";

type JsonSchema = Record<string, unknown>;

/** `anyOf: [X, null]`, as Zod writes a nullable, becomes `type: [X, "null"]`, which fast-json-stringify writes without a validator. */
function typeNullables(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(typeNullables);
  if (!node || typeof node !== "object") return node;
  const out: JsonSchema = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, typeNullables(value)]),
  );
  const [value, nothing, ...rest] = (out.anyOf as JsonSchema[] | undefined) ?? [];
  if (rest.length === 0 && nothing?.type === "null" && typeof value?.type === "string") {
    const { anyOf: _, ...others } = out;
    return { ...others, ...value, type: [value.type, "null"] };
  }
  return out;
}

/**
 * Writes each response with fast-json-stringify, compiled once per route from its Zod response
 * schema. A field the schema does not name is never written, as with Zod, but a page of 50 servers
 * is not re-validated on its way out (which cost as much as fetching it). A schema that JSON Schema
 * cannot express is written by Zod.
 */
export const serializerCompiler: FastifySerializerCompiler<ZodType> = (route) => {
  try {
    // Responses are encoded, so they take the schema's input side (defaults still optional).
    const json = z.toJSONSchema(route.schema, { io: "input", target: "draft-7", unrepresentable: "throw" });
    return fastJson(typeNullables(json) as Parameters<typeof fastJson>[0]);
  } catch {
    return zodSerializerCompiler(route);
  }
};
