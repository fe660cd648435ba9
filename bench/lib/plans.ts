/** A node of `EXPLAIN (FORMAT JSON)`'s plan, with the fields the benchmark reads. */
export interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  Plans?: PlanNode[];
}

/** A table with more rows than this must be reached through an index. */
export const LARGE_TABLE = 10_000;

const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/** The tables a plan reads with a sequential scan, each once. */
export function seqScans(plan: PlanNode): string[] {
  return [
    ...new Set(
      nodes(plan)
        .filter((n) => n["Node Type"] === "Seq Scan")
        .map((n) => n["Relation Name"] ?? "?"),
    ),
  ];
}

/** Those of `scanned` that hold more than LARGE_TABLE rows, by the row counts in `sizes`. */
export const largeSeqScans = (scanned: string[], sizes: Map<string, number>): string[] =>
  scanned.filter((table) => (sizes.get(table) ?? 0) > LARGE_TABLE);
