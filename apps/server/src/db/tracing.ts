import type { PGlite, Transaction } from "@electric-sql/pglite";
import { context, type Span, SpanKind, type Tracer } from "@opentelemetry/api";
import type pg from "pg";
import { baseAttributes, failSpan } from "../lib/tracing";
import type { Database } from "./client";

const MAX_QUERY_TEXT = 2000;
const OPERATION = /^\s*(?:\/\*[\s\S]*?\*\/\s*)?([A-Za-z]+)/;
const TARGET = /\b(?:from|into|update|join)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/i;

/**
 * A span for one statement, named as OpenTelemetry's database conventions say (`SELECT
 * mcp_servers`), with its text (placeholders only: values are never recorded) and the request's
 * correlation id; a child of whatever span is active where the statement was sent.
 */
function startQuerySpan(tracer: Tracer, text: unknown): Span {
  const sql = typeof text === "string" ? text : "";
  const operation = OPERATION.exec(sql)?.[1]?.toUpperCase() ?? "QUERY";
  const target = operation === "BEGIN" || operation === "COMMIT" ? undefined : TARGET.exec(sql)?.[1];
  const parent = context.active();
  return tracer.startSpan(
    target ? `${operation} ${target}` : operation,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        ...baseAttributes(parent),
        "db.system.name": "postgresql",
        "db.operation.name": operation,
        ...(target ? { "db.collection.name": target } : {}),
        "db.query.text": sql.length > MAX_QUERY_TEXT ? `${sql.slice(0, MAX_QUERY_TEXT)}…` : sql,
      },
    },
    parent,
  );
}

function endQuerySpan(span: Span, err?: unknown) {
  if (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string") span.setAttribute("db.response.status_code", code);
    failSpan(span, err);
  }
  span.end();
}

const textOf = (arg: unknown): unknown =>
  typeof arg === "string" ? arg : (arg as { text?: unknown } | null)?.text;

/**
 * A `query` that records a span around each call, whether it answers by promise or callback (pg's
 * pool calls its clients back; Drizzle awaits).
 */
function tracedQuery<F extends (...args: never[]) => unknown>(tracer: Tracer, query: F): F {
  return function (this: unknown, ...args: unknown[]) {
    const span = startQuerySpan(tracer, textOf(args[0]));
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === "function") {
      args[last] = (err: unknown, res: unknown) => {
        endQuerySpan(span, err);
        return (callback as (e: unknown, r: unknown) => unknown)(err, res);
      };
      return query.apply(this, args as never[]);
    }
    let result: unknown;
    try {
      result = query.apply(this, args as never[]);
    } catch (err) {
      endQuerySpan(span, err);
      throw err;
    }
    if (result && typeof (result as Promise<unknown>).then === "function") {
      (result as Promise<unknown>).then(
        () => endQuerySpan(span),
        (err: unknown) => endQuerySpan(span, err),
      );
    } else endQuerySpan(span);
    return result;
  } as unknown as F;
}

/**
 * A pg pool whose statements are spans. The pool's own `query` is wrapped (a span then includes the
 * wait for a connection, and belongs to the request that sent it, not to whoever freed the
 * connection); a client taken with `connect()` for a transaction is wrapped until it is released.
 */
function tracePool(pool: pg.Pool, tracer: Tracer) {
  pool.query = tracedQuery(tracer, pool.query.bind(pool)) as typeof pool.query;
  const connect = pool.connect.bind(pool) as (cb?: unknown) => Promise<pg.PoolClient> | undefined;
  pool.connect = ((callback?: unknown) => {
    // The pool's own query connects by callback: that client is covered by the pool's span.
    if (callback) return connect(callback);
    return (connect() as Promise<pg.PoolClient>).then((client) => {
      const { query, release } = client;
      client.query = tracedQuery(tracer, query) as typeof client.query;
      client.release = (...args: Parameters<typeof release>) => {
        client.query = query;
        client.release = release;
        return release.apply(client, args);
      };
      return client;
    });
  }) as typeof pool.connect;
}

/** A PGlite whose statements (and those of its transactions) are spans. */
function tracePglite(client: PGlite, tracer: Tracer) {
  client.query = tracedQuery(tracer, client.query.bind(client)) as typeof client.query;
  client.exec = tracedQuery(tracer, client.exec.bind(client)) as typeof client.exec;
  const transaction = client.transaction.bind(client);
  client.transaction = ((callback: (tx: Transaction) => Promise<unknown>) =>
    transaction((tx) =>
      callback({
        ...tx,
        query: tracedQuery(tracer, tx.query.bind(tx)),
        exec: tracedQuery(tracer, tx.exec.bind(tx)),
        get closed() {
          return tx.closed;
        },
      }),
    )) as typeof client.transaction;
}

/**
 * Records a span for every statement the database runs, from the driver's side, so that it works
 * the same from source and from the bundle (no module patching). Call once per database.
 */
export function traceDatabase(database: Database, tracer: Tracer): void {
  const client = (database.db as unknown as { $client: unknown }).$client;
  if (database.kind === "postgres") tracePool(client as pg.Pool, tracer);
  else tracePglite(client as PGlite, tracer);
}
