const SECRET_KEY = /(secret|password|token|authorization|cookie|api[-_]?key|^key$|key_?hash)/i;
export const MASK = "********";

/**
 * Returns a copy of `value` in which every secret is replaced by a mask: properties whose name
 * looks secret, and the `value` of every upstream header (`headers: [{ name, value }]`).
 */
export function maskSecrets<T>(value: T): T {
  return walk(value, false) as T;
}

function walk(value: unknown, inHeaders: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, inHeaders));
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEY.test(k) || (inHeaders && k === "value")) out[k] = v == null ? v : MASK;
    else out[k] = walk(v, k === "headers" || (inHeaders && (k === "from" || k === "to")));
  }
  return out;
}
