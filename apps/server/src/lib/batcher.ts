/**
 * Gathers items and hands them to `flush` together: when `maxItems` have come, or `maxWaitMs`
 * after the first of a batch. Each `add` settles when its batch has been flushed, so a caller
 * that awaits it is held back while flushing lags (backpressure, not an unbounded queue).
 */
export function createBatcher<T>(opts: {
  maxItems: number;
  maxWaitMs: number;
  flush: (items: T[]) => Promise<void>;
}) {
  let pending: { item: T; done: () => void; fail: (err: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flushing = new Set<Promise<void>>();

  const flushPending = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = pending;
    pending = [];
    const flushed = opts.flush(batch.map((p) => p.item)).then(
      () => {
        for (const p of batch) p.done();
      },
      (err: unknown) => {
        for (const p of batch) p.fail(err);
      },
    );
    flushing.add(flushed);
    void flushed.finally(() => flushing.delete(flushed));
  };

  return {
    add(item: T): Promise<void> {
      return new Promise<void>((done, fail) => {
        pending.push({ item, done, fail });
        if (pending.length >= opts.maxItems) flushPending();
        else timer ??= setTimeout(flushPending, opts.maxWaitMs);
      });
    },
    /** Flushes what is pending now, and resolves once every batch under way has been flushed. */
    async flush(): Promise<void> {
      if (pending.length) flushPending();
      await Promise.allSettled([...flushing]);
    },
  };
}
