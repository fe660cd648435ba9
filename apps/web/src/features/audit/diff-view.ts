/** A field a change moved from one value to another. */
export interface ChangedField {
  field: string;
  from: unknown;
  to: unknown;
}

/** A field an entry recorded as it was (a snapshot's, or context beside a diff): not a change. */
export interface RecordedField {
  field: string;
  value: unknown;
}

export interface DiffView {
  changed: ChangedField[];
  recorded: RecordedField[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** `{ from, to }` and nothing else: how the audit trail writes one field's change. */
const isPair = (v: unknown): v is { from: unknown; to: unknown } =>
  isRecord(v) && Object.keys(v).length === 2 && "from" in v && "to" in v;

/** Equal as JSON values, whatever order their keys come in. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameValue(a[k], b[k]));
  }
  return false;
}

/**
 * Splits an entry's `changes` into what changed (`{ from, to }` with different values) and what
 * was only recorded (plain values: a created server's fields, or the name and prefix a key's
 * revocation notes beside its `revokedAt`). A field whose before and after are equal is left out:
 * it did not change, so it is not shown as new. Null when there is nothing to show.
 */
export function diffView(changes: Record<string, unknown> | null): DiffView | null {
  const changed: ChangedField[] = [];
  const recorded: RecordedField[] = [];
  for (const [field, value] of Object.entries(changes ?? {})) {
    if (!isPair(value)) recorded.push({ field, value });
    else if (!sameValue(value.from, value.to)) changed.push({ field, from: value.from, to: value.to });
  }
  return changed.length === 0 && recorded.length === 0 ? null : { changed, recorded };
}
