import type { ServiceContext } from "./context";

/**
 * Runs `fn` in a transaction: a new one, or the caller's when `ctx` is already inside one, so that
 * verbs compose (a bulk import is many creates that commit or roll back together). What the verbs
 * queued with `afterCommit` runs once the outermost transaction has committed, never on rollback.
 */
export async function withTransaction<C extends ServiceContext, T>(
  ctx: C,
  fn: (ctx: C) => Promise<T>,
): Promise<T> {
  if (ctx.transaction) return fn(ctx);
  const transaction = { afterCommit: [] as (() => Promise<void>)[] };
  const result = await ctx.db.transaction((tx) => fn({ ...ctx, db: tx, transaction }));
  for (const task of transaction.afterCommit) await task();
  return result;
}

/** Runs `task` once the change is committed: at once outside a transaction, else after its commit. */
export async function afterCommit(ctx: ServiceContext, task: () => Promise<void>): Promise<void> {
  if (ctx.transaction) ctx.transaction.afterCommit.push(task);
  else await task();
}
