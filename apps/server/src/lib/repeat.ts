import type { Logger } from "./log";

/**
 * Runs `task` now and then every `intervalMs`, never twice at once. Returns a function that
 * stops the schedule and waits for a run in progress. A failed run is logged; the next one
 * comes on time.
 */
export function repeat({
  name,
  intervalMs,
  task,
  log,
}: {
  name: string;
  intervalMs: number;
  task: () => Promise<void>;
  log: Logger;
}): () => Promise<void> {
  let running: Promise<void> | null = null;
  const run = () => {
    if (running) return;
    running = task()
      .catch((err: unknown) => log.error({ err, job: name }, `${name} failed`))
      .finally(() => {
        running = null;
      });
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
