import { createHash } from "node:crypto";
import type {
  ChangedTool,
  PinnedTool,
  PromptSummary,
  ResourceSummary,
  ToolDefinition,
} from "../../db/schema";

/** The most of one tool definition kept (its canonical JSON); a larger one keeps its name and a note. */
export const MAX_TOOL_BYTES = 32 * 1024;
export const MAX_TOOLS = 500;
const MAX_TEXT = 4096;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON with object keys sorted, so that one definition always hashes the same. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): Json => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return (v ?? null) as Json;
  };
  return JSON.stringify(sort(value));
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

const record = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
const text = (v: unknown, max = MAX_TEXT): string | null => (typeof v === "string" ? v.slice(0, max) : null);

/**
 * A tool as a server listed it, reduced to what Switchboard keeps: name, title, description,
 * input and output schema, annotations. A definition past MAX_TOOL_BYTES keeps its name and
 * text, with its schemas replaced by a note, so a hostile server cannot fill the database.
 */
export function toToolDefinition(raw: unknown): ToolDefinition | null {
  const t = record(raw);
  const name = text(t?.name, 200);
  if (!t || !name) return null;
  const def: ToolDefinition = {
    name,
    title: text(t.title, 200) ?? text(record(t.annotations)?.title, 200),
    description: text(t.description),
    inputSchema: record(t.inputSchema) ?? { type: "object" },
    outputSchema: record(t.outputSchema),
    annotations: record(t.annotations),
  };
  if (canonicalJson(def).length <= MAX_TOOL_BYTES) return def;
  const note = { type: "object", description: "schema too large to keep" };
  return { ...def, inputSchema: note, outputSchema: null, annotations: null };
}

/** A prompt as listed, reduced to its name, title and description. */
export function toPromptSummary(raw: unknown): PromptSummary | null {
  const p = record(raw);
  const name = text(p?.name, 200);
  return p && name ? { name, title: text(p.title, 200), description: text(p.description) } : null;
}

/** A resource as listed, reduced to its URI, name, title and media type. */
export function toResourceSummary(raw: unknown): ResourceSummary | null {
  const r = record(raw);
  const uri = text(r?.uri, 2048);
  if (!r || !uri) return null;
  return { uri, name: text(r.name, 200) ?? uri, title: text(r.title, 200), mimeType: text(r.mimeType, 200) };
}

/** The most pages of one list a probe reads: a server that pages forever is not followed forever. */
export const MAX_PAGES = 10;

/** One page of a list as a server answered it. */
export interface ListPage {
  items: readonly unknown[];
  nextCursor: string | undefined;
}

/**
 * Pages through a list (`tools/list`, `prompts/list`, `resources/list`) in either era: at most
 * MAX_PAGES pages and MAX_TOOLS entries. `page` asks for the page after `cursor` (the first when
 * undefined) and throws when the server refuses it.
 */
export async function listAll(page: (cursor: string | undefined) => Promise<ListPage>): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < MAX_PAGES && items.length < MAX_TOOLS; n++) {
    const res = await page(cursor);
    items.push(...res.items.slice(0, MAX_TOOLS - items.length));
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  return items;
}

/** Maps what a server listed, dropping entries that are not what they should be. */
export const mapListed = <T>(items: readonly unknown[], map: (raw: unknown) => T | null): T[] =>
  items.map(map).filter((x): x is T => x !== null);

export const toolHash = (tool: ToolDefinition) => sha256(canonicalJson(tool));

/** The pinned form of a tool set: each tool's name and definition hash. */
export const pinOf = (tools: readonly ToolDefinition[]): PinnedTool[] =>
  tools.map((t) => ({ name: t.name, hash: toolHash(t) })).sort((a, b) => a.name.localeCompare(b.name));

/** A tool set's hash (whatever order the server lists it in) and its pinned form. */
export interface ToolSetHashes {
  toolsHash: string;
  pin: PinnedTool[];
}

/** Hashes a tool set, each tool once: the hash of the set is that of its tools' hashes, sorted. */
export function hashToolSet(tools: readonly ToolDefinition[]): ToolSetHashes {
  const pin = pinOf(tools);
  return {
    toolsHash: sha256(
      pin
        .map((t) => t.hash)
        .sort()
        .join("\n"),
    ),
    pin,
  };
}

/** Whether the tools differ from the approved set in any tool, added, removed or changed. */
export function driftsFromPin(
  tools: readonly ToolDefinition[],
  pinned: readonly PinnedTool[] | null,
): boolean {
  if (!pinned) return false;
  const now = pinOf(tools);
  return (
    now.length !== pinned.length ||
    now.some((t, i) => t.name !== pinned[i]?.name || t.hash !== pinned[i]?.hash)
  );
}

/** What changed between two tool sets, by name. */
export function diffTools(
  before: readonly ToolDefinition[],
  after: readonly ToolDefinition[],
): { added: ToolDefinition[]; removed: ToolDefinition[]; changed: ChangedTool[] } {
  const old = new Map(before.map((t) => [t.name, t]));
  const next = new Map(after.map((t) => [t.name, t]));
  return {
    added: after.filter((t) => !old.has(t.name)),
    removed: before.filter((t) => !next.has(t.name)),
    changed: after.flatMap((t) => {
      const prev = old.get(t.name);
      return prev && toolHash(prev) !== toolHash(t) ? [{ name: t.name, before: prev, after: t }] : [];
    }),
  };
}
