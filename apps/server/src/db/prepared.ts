import type { Db } from "./client";

/**
 * A statement built once per database (and per shape, for a query whose filters vary), then only
 * executed with its values. Building a query with Drizzle costs more CPU than PostgreSQL takes to
 * answer a lookup by key: it was half of `GET /mcp/servers/:id`'s time under load. A statement
 * prepared with a name is also parsed and planned once per connection rather than per request;
 * one prepared with the empty name is planned for each execution's values.
 */
export function preparedPerDb<A, T>(
  shapeOf: (arg: A) => string,
  build: (db: Db, arg: A) => T,
): (db: Db, arg: A) => T {
  const byDb = new WeakMap<Db, Map<string, T>>();
  return (db, arg) => {
    let byShape = byDb.get(db);
    if (!byShape) {
      byShape = new Map();
      byDb.set(db, byShape);
    }
    const shape = shapeOf(arg);
    let statement = byShape.get(shape);
    if (statement === undefined) {
      statement = build(db, arg);
      byShape.set(shape, statement);
    }
    return statement;
  };
}
