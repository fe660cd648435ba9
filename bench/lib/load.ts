import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LoadResult, LoadScenario } from "./load-worker";

const WORKER = fileURLToPath(new URL("./load-worker.ts", import.meta.url));

/** Runs one scenario with autocannon in a process of its own and returns what it measured. */
export function load(scenario: LoadScenario): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, { execArgv: ["--import", "tsx"] });
    child.once("message", (m: { result?: LoadResult; error?: string }) =>
      m.result ? resolve(m.result) : reject(new Error(m.error)),
    );
    child.once("exit", (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
    child.send(scenario);
  });
}
