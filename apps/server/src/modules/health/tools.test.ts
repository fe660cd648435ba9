import { describe, expect, it } from "vitest";
import type { ToolDefinition } from "../../db/schema";
import { canonicalJson, driftsFromPin, hashToolSet, toolHash } from "./tools";

const tool = (name: string, description = `does ${name}`): ToolDefinition => ({
  name,
  title: null,
  description,
  inputSchema: { type: "object", properties: { q: { type: "string" } } },
  outputSchema: null,
  annotations: null,
});

describe("tool set hashes", () => {
  it("hash a definition by its content, whatever the order of its keys", () => {
    const a = tool("search");
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as unknown as ToolDefinition;
    expect(canonicalJson(reordered)).toBe(canonicalJson(a));
    expect(toolHash(reordered)).toBe(toolHash(a));
    expect(toolHash(tool("search", "finds things"))).not.toBe(toolHash(a));
  });

  it("hash a set whatever order the server lists it in, and pin it by name", () => {
    const tools = [tool("write"), tool("read"), tool("list")];
    const hashes = hashToolSet(tools);
    expect(hashToolSet([...tools].reverse())).toEqual(hashes);
    expect(hashes.toolsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashes.pin).toEqual(
      ["list", "read", "write"].map((name) => ({ name, hash: toolHash(tool(name)) })),
    );
  });

  it("tell a set with a tool changed, added or removed from the one approved", () => {
    const tools = [tool("read"), tool("write")];
    const { pin, toolsHash } = hashToolSet(tools);
    expect(driftsFromPin([...tools].reverse(), pin)).toBe(false);
    expect(driftsFromPin([tool("read"), tool("write", "deletes too")], pin)).toBe(true);
    expect(driftsFromPin([...tools, tool("delete")], pin)).toBe(true);
    expect(driftsFromPin([tool("read")], pin)).toBe(true);
    expect(driftsFromPin(tools, null)).toBe(false);
    for (const other of [[tool("read")], [tool("read"), tool("write", "deletes too")], []])
      expect(hashToolSet(other).toolsHash).not.toBe(toolsHash);
  });
});
